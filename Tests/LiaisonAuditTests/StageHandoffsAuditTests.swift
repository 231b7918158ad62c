import LiaisonAudit
import XCTest

/// Check 2 on plain values: each stage's outputs against the next stage's ledger.
final class StageHandoffsAuditTests: XCTestCase {
    private let ingest = [
        AuditFixtures.row("ingest", "bank|1", offset: 0, outputs: ["bank|1"]),
        AuditFixtures.row("ingest", "bank|2", offset: 1, outputs: ["bank|2"], processedAtMs: 100),
        AuditFixtures.row("ingest", "sor.bank-0-2", offset: 2, verdict: "rejected", outputs: ["dead-letter"]),
    ]

    func testOutputsFoundDownstreamPassWhateverTheirVerdictThere() {
        let enrich = [
            AuditFixtures.row("enrich", "bank|1", topic: "events", offset: 0, outputs: ["enrich:bank|1"]),
            AuditFixtures.row("enrich", "bank|2", topic: "events", offset: 1, verdict: "rejected", outputs: ["dead-letter-2"]),
            AuditFixtures.row("enrich", "a@x:sent", topic: "deliveries", offset: 0),
        ]
        let rules = [AuditFixtures.row("rules", "enrich:bank|1", topic: "enriched", offset: 0, outputs: ["rule@enrich:bank|1"])]
        let check = AuditReconciler.stageHandoffs(ingest: ingest, enrich: enrich, rules: rules, retentionHorizonMs: nil)
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("events_from_ingest"), 2, "a dead letter is no event")
        XCTAssertEqual(check.count("events_reached_enrich"), 2)
        XCTAssertEqual(check.count("enriched_from_enrich"), 1)
        XCTAssertEqual(check.count("enriched_reached_rules"), 1)
    }

    func testAnOutputMissingDownstreamNamesTheRecordThatEmittedIt() {
        let enrich = [AuditFixtures.row("enrich", "bank|1", topic: "events", offset: 0, outputs: ["enrich:bank|1"])]
        let check = AuditReconciler.stageHandoffs(ingest: ingest, enrich: enrich, rules: [], retentionHorizonMs: nil)
        XCTAssertEqual(check.outcome, .failed)
        XCTAssertEqual(check.count("events_missing_in_enrich"), 1)
        XCTAssertEqual(check.count("enriched_missing_in_rules"), 1)
        let missing = check.discrepancies.first { $0.kind == "missing-in-enrich" }
        XCTAssertEqual(missing?.id, "bank|2")
        XCTAssertEqual(missing?.stage, "enrich")
        XCTAssertEqual(missing?.position?.description, "sor.bank/0@1")
        XCTAssertEqual(check.discrepancies.first { $0.kind == "missing-in-rules" }?.id, "enrich:bank|1")
    }

    func testRowsOlderThanTheRetentionAreNotFollowed() {
        let enrich = [AuditFixtures.row("enrich", "bank|1", topic: "events", offset: 0)]
        let check = AuditReconciler.stageHandoffs(ingest: ingest, enrich: enrich, rules: [], retentionHorizonMs: 1_000)
        XCTAssertEqual(check.outcome, .passed, "bank|2 was processed before the horizon: enrich may have pruned its row")
        XCTAssertEqual(check.count("not_followed_past_retention"), 1)
    }
}
