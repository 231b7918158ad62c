extension AuditReconciler {
    /// Check 2: every event ingest accepted reached enrich, and every event enrich enriched
    /// reached rules. A stage's output ids are the next stage's input ids (`source|id`, then
    /// `enrich:source|id`), so each accepted row's outputs are looked up among the next stage's
    /// ledger rows, whatever their verdict. Rows processed before `retentionHorizonMs` are not
    /// followed: the next stage may have pruned its row since. Events still between two stages
    /// show as missing, so this check is for a fleet that has caught up (`liaison lag`).
    public static func stageHandoffs(ingest: [LedgerRow], enrich: [LedgerRow], rules: [LedgerRow], retentionHorizonMs: Int64?) -> AuditCheck {
        var check = AuditCheck(name: "stage-handoffs", title: "every event ingest accepted reached enrich, every enriched event reached rules")
        let events = handoff(from: ingest, to: enrich, named: "enrich", retentionHorizonMs: retentionHorizonMs)
        let enriched = handoff(from: enrich, to: rules, named: "rules", retentionHorizonMs: retentionHorizonMs)
        check.add("events_from_ingest", events.emitted)
        check.add("events_reached_enrich", events.reached)
        check.add("events_missing_in_enrich", events.missing.count)
        check.add("enriched_from_enrich", enriched.emitted)
        check.add("enriched_reached_rules", enriched.reached)
        check.add("enriched_missing_in_rules", enriched.missing.count)
        check.add("not_followed_past_retention", events.notFollowed + enriched.notFollowed)
        check.discrepancies = events.missing + enriched.missing
        if events.notFollowed + enriched.notFollowed > 0 {
            check.notes.append("records processed before the ledger retention horizon were not followed: the next stage may have pruned their rows")
        }
        return check
    }

    private struct Handoff {
        var emitted = 0
        var reached = 0
        var notFollowed = 0
        var missing: [Discrepancy] = []
    }

    /// Follows the outputs of the accepted rows of one stage into the next stage's ledger.
    private static func handoff(
        from upstream: [LedgerRow], to downstream: [LedgerRow], named nextStage: String, retentionHorizonMs: Int64?
    ) -> Handoff {
        let received = Set(downstream.map(\.inputID))
        var handoff = Handoff()
        var followed: Set<String> = []
        for row in upstream where row.verdict == "accepted" {
            for output in row.outputs where followed.insert(output).inserted {
                handoff.emitted += 1
                if received.contains(output) {
                    handoff.reached += 1
                } else if let horizon = retentionHorizonMs, row.processedAtMs < horizon {
                    handoff.notFollowed += 1
                } else {
                    handoff.missing.append(Discrepancy(
                        kind: "missing-in-\(nextStage)", stage: nextStage, position: row.position, id: output,
                        detail: "\(row.stage) accepted this record and emitted \(output), but \(nextStage)'s ledger has no row for it"))
                }
            }
        }
        return handoff
    }
}
