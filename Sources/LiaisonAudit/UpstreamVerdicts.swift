import LiaisonStage

/// One upstream partition as the broker holds it and as ingest judged it.
public struct UpstreamPartition: Sendable {
    public var topic: String
    public var partition: Int32
    /// Every record the broker holds, in offset order.
    public var records: [UpstreamRecord]
    /// Ingest's ledger rows of this partition.
    public var ledger: [LedgerRow]
    /// The offset ingest resumes at; nil when it never checkpointed the partition.
    public var checkpoint: Int64?

    public init(topic: String, partition: Int32, records: [UpstreamRecord], ledger: [LedgerRow], checkpoint: Int64?) {
        self.topic = topic
        self.partition = partition
        self.records = records
        self.ledger = ledger
        self.checkpoint = checkpoint
    }
}

/// An upstream record, as far as the audit needs it.
public struct UpstreamRecord: Sendable, Equatable {
    public var offset: Int64
    /// The broker's timestamp: a record newer than the ledger retention cannot have been pruned.
    public var timestampMs: Int64?
    /// The id ingest gives the record (`source|id` for an event, else its position). Needed only
    /// for a record without a ledger row at its offset, to tell a repeat ingest dropped from a loss.
    public var ingestID: String?

    public init(offset: Int64, timestampMs: Int64? = nil, ingestID: String? = nil) {
        self.offset = offset
        self.timestampMs = timestampMs
        self.ingestID = ingestID
    }
}

extension AuditReconciler {
    /// Check 1: each record the broker holds has exactly one row in ingest's ledger. A record
    /// without one is fine when ingest has not reached it yet (at or past its checkpoint), when it
    /// repeats an id the ledger holds (ingest drops repeats without a row), or when its row may
    /// have been pruned: the stages delete rows older than `--ledger-retention`, oldest first, so
    /// only records below a partition's oldest row and older than `retentionHorizonMs` qualify.
    public static func upstreamVerdicts(_ partitions: [UpstreamPartition], retentionHorizonMs: Int64?) -> AuditCheck {
        var check = AuditCheck(name: "upstream-verdicts", title: "every upstream record has exactly one ingest verdict")
        var tally = VerdictTally()
        for partition in partitions.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            tally.audit(partition, retentionHorizonMs: retentionHorizonMs, into: &check)
        }
        tally.report(into: &check)
        return check
    }
}

/// Check 1's figures while it runs.
private struct VerdictTally {
    var records = 0
    var verdicts: [String: Int] = [:]
    var repeats = 0
    var notJudgedYet = 0
    var notAudited = 0
    var rowsForDeletedRecords = 0

    mutating func audit(_ partition: UpstreamPartition, retentionHorizonMs: Int64?, into check: inout AuditCheck) {
        let name = "\(partition.topic)/\(partition.partition)"
        let rowsByOffset = Dictionary(grouping: partition.ledger, by: \.position.offset)
        let judgedIDs = Set(partition.ledger.map(\.inputID))
        let oldestRow = partition.ledger.map(\.position.offset).min()
        var pending = 0
        var unaudited = 0
        for record in partition.records {
            records += 1
            let position = RecordPosition(topic: partition.topic, partition: partition.partition, offset: record.offset)
            if let rows = rowsByOffset[record.offset] {
                for row in rows { verdicts[row.verdict, default: 0] += 1 }
                if rows.count > 1 {
                    check.discrepancies.append(Discrepancy(
                        kind: "judged-twice", stage: "ingest", position: position, id: rows[0].inputID,
                        detail: "ingest's ledger has \(rows.count) verdicts for this record: "
                            + rows.map { "\($0.verdict) as \($0.inputID)" }.joined(separator: ", ")))
                }
                continue
            }
            guard let checkpoint = partition.checkpoint, record.offset < checkpoint else {
                pending += 1
                continue
            }
            if let id = record.ingestID, judgedIDs.contains(id) {
                repeats += 1
                continue
            }
            let belowLedger = oldestRow.map { record.offset < $0 } ?? true
            if belowLedger, let horizon = retentionHorizonMs, (record.timestampMs ?? .min) < horizon {
                unaudited += 1
                continue
            }
            check.discrepancies.append(Discrepancy(
                kind: "lost", stage: "ingest", position: position, id: record.ingestID,
                detail: "the broker holds this record, below ingest's checkpoint \(checkpoint), but ingest's ledger has no verdict for it"))
        }
        let held = Set(partition.records.map(\.offset))
        rowsForDeletedRecords += partition.ledger.filter { !held.contains($0.position.offset) }.count
        if pending > 0 {
            check.notes.append(
                partition.checkpoint.map { "\(name): \(pending) records at or after ingest's checkpoint \($0) are not judged yet" }
                    ?? "\(name): ingest has not checkpointed this partition (no file, or nothing committed): its \(pending) records are not judged yet")
        }
        if unaudited > 0 {
            let start = oldestRow.map { "its ledger rows start at offset \($0)" } ?? "its ledger holds no rows"
            check.notes.append(
                "\(name): \(start); \(unaudited) older records were not audited, as their rows may have been pruned after the ledger retention")
        }
        notJudgedYet += pending
        notAudited += unaudited
    }

    func report(into check: inout AuditCheck) {
        check.add("upstream_records", records)
        for verdict in ["accepted", "ignored", "rejected"] { check.add(verdict, verdicts[verdict, default: 0]) }
        check.add("repeats_dropped", repeats)
        check.add("not_judged_yet", notJudgedYet)
        check.add("not_audited_pruned", notAudited)
        check.add("ledger_rows_for_deleted_records", rowsForDeletedRecords)
        check.add("lost", check.discrepancies.filter { $0.kind == "lost" }.count)
        check.add("judged_twice", check.discrepancies.filter { $0.kind == "judged-twice" }.count)
    }
}
