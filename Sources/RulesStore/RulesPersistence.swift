import Foundation
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Rules

/// Keeps the rules stage's timers, firings and kept decisions in the partition's file, changed
/// in the transaction that moves the checkpoint: a timer is scheduled exactly when the event
/// that scheduled it counts as processed, and removed exactly when its action counts as sent.
public struct RulesPersistence: TimedPersistence {
    /// Firings older than this (before the newest one a batch writes) no longer matter to any
    /// cooldown or cap, and are deleted.
    public let firingHorizonSeconds: Int64
    /// Kept decisions older than this (before the newest one a batch writes) are deleted.
    public let decisionRetentionSeconds: Int64

    public init(firingHorizonSeconds: Int64, decisionRetentionSeconds: Int64 = 90 * 86_400) {
        self.firingHorizonSeconds = firingHorizonSeconds
        self.decisionRetentionSeconds = decisionRetentionSeconds
    }

    public func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("rules-v1") { db in
            try db.execute(sql: """
                CREATE TABLE rules_timers (
                    customer_id TEXT NOT NULL,
                    timer_key TEXT NOT NULL,
                    due_at_ms INTEGER NOT NULL,
                    timer BLOB NOT NULL,
                    UNIQUE (customer_id, timer_key)
                );
                CREATE INDEX rules_timers_by_due ON rules_timers (due_at_ms);
                CREATE TABLE rules_firings (
                    customer_id TEXT NOT NULL,
                    rule_id TEXT NOT NULL,
                    channel_class TEXT NOT NULL,
                    fired_at_ms INTEGER NOT NULL
                );
                CREATE INDEX rules_firings_by_customer ON rules_firings (customer_id);
                CREATE INDEX rules_firings_by_time ON rules_firings (fired_at_ms);
                CREATE TABLE rules_decisions (
                    seq INTEGER PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    at_ms INTEGER NOT NULL,
                    rule_id TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    reason TEXT,
                    decision BLOB NOT NULL
                );
                CREATE INDEX rules_decisions_by_customer ON rules_decisions (customer_id);
                CREATE INDEX rules_decisions_by_time ON rules_decisions (at_ms);
                """)
        }
    }

    public func load(for records: some Collection<InputRecord>, from db: Database) throws -> RulesState {
        let customers = Array(Set(records.compactMap(\.keyString)))
        return try state(of: customers, timers: loadTimers(of: customers, from: db), from: db)
    }

    public func earliestDue(in db: Database) throws -> Date? {
        try Int64.fetchOne(db, sql: "SELECT MIN(due_at_ms) FROM rules_timers").map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    public func loadDue(at now: Date, limit: Int, from db: Database) throws -> (due: [PendingTimer], state: RulesState) {
        let nowMs = now.epochMilliseconds
        var due: [PendingTimer] = []
        let rows = try Row.fetchCursor(
            db, sql: "SELECT customer_id, timer_key, timer FROM rules_timers WHERE due_at_ms <= ? ORDER BY due_at_ms LIMIT ?",
            arguments: [nowMs, limit])
        while let row = try rows.next() { due.append(try decodeTimer(row)) }
        let customers = Array(Set(due.map(\.customerId)))
        return (due, try state(of: customers, timers: due, from: db))
    }

    public func save(_ changes: [RulesChange], to db: Database) throws {
        let encoder = JSONValueEncoder()
        var newestFiringMs: Int64?
        var newestDecisionMs: Int64?
        for change in changes {
            switch change {
            case let .schedule(timer):
                try db.cachedStatement(sql: """
                    INSERT INTO rules_timers (customer_id, timer_key, due_at_ms, timer) VALUES (?, ?, ?, ?)
                    ON CONFLICT (customer_id, timer_key) DO UPDATE SET due_at_ms = excluded.due_at_ms, timer = excluded.timer
                    """).execute(arguments: [timer.customerId, timer.key, timer.due.epochMilliseconds, Data(try encoder.encodeBytes(timer))])
            case let .remove(key):
                try db.cachedStatement(sql: "DELETE FROM rules_timers WHERE customer_id = ? AND timer_key = ?")
                    .execute(arguments: [key.customerId, key.key])
            case let .fired(firing):
                try db.cachedStatement(sql: """
                    INSERT INTO rules_firings (customer_id, rule_id, channel_class, fired_at_ms) VALUES (?, ?, ?, ?)
                    """).execute(arguments: [firing.customerId, firing.ruleId, firing.channelClass.rawValue, firing.atMs])
                newestFiringMs = max(newestFiringMs ?? firing.atMs, firing.atMs)
            case let .keep(kept):
                try db.cachedStatement(sql: """
                    INSERT INTO rules_decisions (customer_id, at_ms, rule_id, outcome, reason, decision) VALUES (?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        kept.customerId, kept.atMs, kept.decision.ruleId, kept.decision.outcome.rawValue, kept.decision.reason,
                        Data(kept.decision.jsonBytes()),
                    ])
                newestDecisionMs = max(newestDecisionMs ?? kept.atMs, kept.atMs)
            case let .erase(customerId):
                for table in ["rules_timers", "rules_firings", "rules_decisions"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE customer_id = ?", arguments: [customerId])
                }
            }
        }
        if let newestFiringMs {
            try db.cachedStatement(sql: "DELETE FROM rules_firings WHERE fired_at_ms < ?")
                .execute(arguments: [newestFiringMs - firingHorizonSeconds * 1000])
        }
        if let newestDecisionMs {
            try db.cachedStatement(sql: "DELETE FROM rules_decisions WHERE at_ms < ?")
                .execute(arguments: [newestDecisionMs - decisionRetentionSeconds * 1000])
        }
    }

    public func erasesPersonalData(_ changes: [RulesChange]) -> Bool {
        changes.contains { if case .erase = $0 { true } else { false } }
    }

    /// The decisions kept for a customer, oldest first: what `liaison trace` shows.
    public func decisions(of customerId: String, from db: Database) throws -> [DecisionRecordV1] {
        let rows = try Row.fetchAll(db, sql: "SELECT decision FROM rules_decisions WHERE customer_id = ? ORDER BY seq", arguments: [customerId])
        return try rows.map { row in try JSONValueDecoder().decode(DecisionRecordV1.self, from: Array(row["decision"] as Data)) }
    }

    /// How many timers are pending in the file.
    public func pendingTimerCount(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rules_timers") ?? 0
    }

    private func loadTimers(of customers: [String], from db: Database) throws -> [PendingTimer] {
        var timers: [PendingTimer] = []
        try db.forEachRow("SELECT customer_id, timer_key, timer FROM rules_timers WHERE customer_id IN", matching: customers) { row in
            timers.append(try decodeTimer(row))
        }
        return timers
    }

    private func state(of customers: [String], timers: [PendingTimer], from db: Database) throws -> RulesState {
        var state = RulesState()
        for timer in timers { state.timers[timer.timerKey] = timer }
        try db.forEachRow(
            "SELECT customer_id, rule_id, channel_class, fired_at_ms FROM rules_firings WHERE customer_id IN", matching: customers
        ) { row in
            let customerId: String = row[0]
            let channelText: String = row[2]
            guard let channelClass = ChannelClass(rawValue: channelText) else {
                throw RulesStoreError(customerId: customerId, underlying: "a firing names the unknown channel class \(channelText)")
            }
            state.firings[customerId, default: []].append(Firing(customerId: customerId, ruleId: row[1], channelClass: channelClass, atMs: row[3]))
        }
        return state
    }

    private func decodeTimer(_ row: Row) throws -> PendingTimer {
        do {
            return try JSONValueDecoder().decode(PendingTimer.self, from: Array(row["timer"] as Data))
        } catch {
            let customerId: String = row["customer_id"]
            let key: String = row["timer_key"]
            throw RulesStoreError(customerId: customerId, underlying: "its timer \(key) cannot be read: \(error)")
        }
    }
}

/// A stored row that no longer reads back: the file was changed by something else.
public struct RulesStoreError: Error, CustomStringConvertible {
    public var customerId: String
    public var underlying: String

    public var description: String {
        "the rules state of customer \(customerId) is damaged (\(underlying)); restore the partition file, or delete the row and replay the customer's events"
    }
}
