import Foundation
import GRDB
import LiaisonAudit

/// What the demo and the audit read from the stages' files besides their ledgers: the decisions
/// rules kept and the deliveries the notifier still holds.
extension FleetFiles {
    struct Decision: Sendable {
        var customer: String
        var at: Date
        var rule: String
        var outcome: String
        var reason: String?
    }

    /// Decisions rules kept that sent nothing at once (suppressed, scheduled, cancelled, missed).
    func ruleDecisions() -> [Decision] {
        files(of: "rules").flatMap { file in
            read(file) { db -> [Decision] in
                guard try db.tableExists("rules_decisions") else { return [] }
                return try Row.fetchAll(db, sql: "SELECT customer_id, at_ms, rule_id, outcome, reason FROM rules_decisions ORDER BY seq").map { row in
                    Decision(
                        customer: row["customer_id"], at: Date(timeIntervalSince1970: Double(row["at_ms"] as Int64) / 1000),
                        rule: row["rule_id"], outcome: row["outcome"], reason: row["reason"])
                }
            } ?? []
        }
    }

    /// The deliveries the notifier still holds (their `delivery` is cleared once they end:
    /// queued, deferred, retrying or attempting), by action id.
    func heldDeliveries() throws -> [String: HeldDelivery] {
        var held: [String: HeldDelivery] = [:]
        for file in files(of: "notifier") {
            let rows = try reading(file) { db -> [Row] in
                guard try db.tableExists("notifier_deliveries") else { return [] }
                return try Row.fetchAll(db, sql: "SELECT action_id, status, due_at_ms FROM notifier_deliveries WHERE delivery IS NOT NULL")
            }
            for row in rows { held[row["action_id"]] = HeldDelivery(status: row["status"], dueAtMs: row["due_at_ms"]) }
        }
        return held
    }
}
