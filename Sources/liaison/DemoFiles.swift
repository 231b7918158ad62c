import Foundation
import GRDB

/// What the demo reads from the stages' files besides their ledgers: the decisions rules kept
/// and the deliveries the notifier still holds.
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

    /// Deliveries the notifier holds that have not ended: queued, deferred, retrying or attempting.
    func pendingDeliveries() -> Int {
        files(of: "notifier").reduce(0) { total, file in
            total + (read(file) { db -> Int in
                guard try db.tableExists("notifier_deliveries") else { return 0 }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notifier_deliveries WHERE delivery IS NOT NULL") ?? 0
            } ?? 0)
        }
    }
}
