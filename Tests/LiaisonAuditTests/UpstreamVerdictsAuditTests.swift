import LiaisonAudit
import XCTest

/// Check 1 on plain values: records against ingest's ledger rows.
final class UpstreamVerdictsAuditTests: XCTestCase {
    private func partition(records: [UpstreamRecord], ledger: [LedgerRow], checkpoint: Int64?) -> UpstreamPartition {
        UpstreamPartition(topic: "sor.bank", partition: 0, records: records, ledger: ledger, checkpoint: checkpoint)
    }

    func testEveryRecordWithOneVerdictPasses() {
        let ledger = [
            AuditFixtures.row("ingest", "bank|1", offset: 0, outputs: ["bank|1"]),
            AuditFixtures.row("ingest", "bank|2", offset: 1, outputs: ["bank|2"]),
            AuditFixtures.row("ingest", "sor.bank-0-2", offset: 2, verdict: "rejected", outputs: ["dlq:sor.bank-0-2"]),
            AuditFixtures.row("ingest", "bank|3", offset: 3, verdict: "ignored"),
        ]
        let check = AuditReconciler.upstreamVerdicts(
            [partition(records: (0..<4).map { UpstreamRecord(offset: $0) }, ledger: ledger, checkpoint: 4)], retentionHorizonMs: nil)
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("upstream_records"), 4)
        XCTAssertEqual(check.count("accepted"), 2)
        XCTAssertEqual(check.count("rejected"), 1)
        XCTAssertEqual(check.count("ignored"), 1)
        XCTAssertEqual(check.count("lost"), 0)
    }

    func testARecordWithoutARowIsLostAndOneWithTwoIsJudgedTwice() {
        let ledger = [
            AuditFixtures.row("ingest", "bank|0", offset: 0), AuditFixtures.row("ingest", "bank|1", offset: 1),
            AuditFixtures.row("ingest", "bank|3", offset: 3), AuditFixtures.row("ingest", "sor.bank-0-3", offset: 3, verdict: "rejected"),
        ]
        let records = (0..<4).map { UpstreamRecord(offset: $0, ingestID: $0 == 2 ? "bank|2" : nil) }
        let check = AuditReconciler.upstreamVerdicts([partition(records: records, ledger: ledger, checkpoint: 4)], retentionHorizonMs: nil)
        XCTAssertEqual(check.outcome, .failed)
        XCTAssertEqual(check.count("lost"), 1)
        XCTAssertEqual(check.count("judged_twice"), 1)
        let lost = check.discrepancies.first { $0.kind == "lost" }
        XCTAssertEqual(lost?.position?.description, "sor.bank/0@2")
        XCTAssertEqual(lost?.id, "bank|2")
        XCTAssertEqual(lost?.stage, "ingest")
        XCTAssertEqual(check.discrepancies.first { $0.kind == "judged-twice" }?.position?.offset, 3)
    }

    func testRecordsPastTheCheckpointWaitAndARepeatOfAJudgedIDWasDropped() {
        let ledger = [AuditFixtures.row("ingest", "bank|a", offset: 0), AuditFixtures.row("ingest", "bank|b", offset: 1)]
        let records = [
            UpstreamRecord(offset: 0), UpstreamRecord(offset: 1), UpstreamRecord(offset: 2, ingestID: "bank|a"),
            UpstreamRecord(offset: 3, ingestID: "bank|c"), UpstreamRecord(offset: 4, ingestID: "bank|d"),
        ]
        let check = AuditReconciler.upstreamVerdicts([partition(records: records, ledger: ledger, checkpoint: 3)], retentionHorizonMs: nil)
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("repeats_dropped"), 1)
        XCTAssertEqual(check.count("not_judged_yet"), 2)
        XCTAssertTrue(check.notes.contains { $0.contains("sor.bank/0: 2 records at or after ingest's checkpoint 3 are not judged yet") }, "\(check.notes)")
    }

    func testOnlyOldRecordsBelowTheOldestRowCountAsPruned() {
        let horizon: Int64 = 1_000_000
        let ledger = [5, 6, 8, 9].map { AuditFixtures.row("ingest", "bank|\($0)", offset: Int64($0)) }
        let records = (0..<10).map { offset in
            UpstreamRecord(offset: Int64(offset), timestampMs: offset == 4 ? horizon + 1 : horizon - 1, ingestID: "bank|\(offset)")
        }
        let pruned = AuditReconciler.upstreamVerdicts([partition(records: records, ledger: ledger, checkpoint: 10)], retentionHorizonMs: horizon)
        XCTAssertEqual(pruned.count("not_audited_pruned"), 4, "offsets 0-3: older than the horizon and below the oldest row")
        XCTAssertEqual(pruned.discrepancies.compactMap(\.position?.offset).sorted(), [4, 7], "4 is too young to be pruned; 7 is above the oldest row")
        XCTAssertTrue(pruned.notes.contains { $0.contains("its ledger rows start at offset 5; 4 older records were not audited") }, "\(pruned.notes)")

        let kept = AuditReconciler.upstreamVerdicts([partition(records: records, ledger: ledger, checkpoint: 10)], retentionHorizonMs: nil)
        XCTAssertEqual(kept.count("lost"), 6, "with retention off every row is kept, so every missing one is lost")
    }

    func testAPartitionIngestNeverCheckpointedIsNotJudgedYet() {
        let check = AuditReconciler.upstreamVerdicts(
            [partition(records: [UpstreamRecord(offset: 0), UpstreamRecord(offset: 1)], ledger: [], checkpoint: nil)], retentionHorizonMs: nil)
        XCTAssertEqual(check.outcome, .passed)
        XCTAssertEqual(check.count("not_judged_yet"), 2)
        XCTAssertTrue(check.notes.contains { $0.contains("ingest has not checkpointed this partition") }, "\(check.notes)")
    }
}
