import Foundation
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Notifier

/// Keeps the notifier's delivery ledger and contact history in the partition's file. An action's
/// delivery row is written in the transaction that checkpoints the action, so accepting an action
/// and queueing its delivery are one step; the delivery engine then moves the row through
/// `queued` → `attempting` → `queued` (a retry) or a final status, each step committed before
/// the next one starts.
public struct NotifierPersistence: StatePersistence {
    /// Contacts older than this no longer count against any frequency cap, and are deleted.
    public let contactRetentionSeconds: Int64
    /// Final delivery rows (sent, failed, missed) are kept this long, for tracing.
    public let settledRetentionSeconds: Int64

    public init(contactRetentionSeconds: Int64, settledRetentionSeconds: Int64 = 30 * 86_400) {
        self.contactRetentionSeconds = contactRetentionSeconds
        self.settledRetentionSeconds = settledRetentionSeconds
    }

    public func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("notifier-v1") { db in
            try db.execute(sql: """
                CREATE TABLE notifier_deliveries (
                    action_id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    due_at_ms INTEGER,
                    channel TEXT,
                    idempotency_key TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    provider_message_id TEXT,
                    updated_at_ms INTEGER NOT NULL,
                    delivery BLOB
                ) WITHOUT ROWID;
                CREATE INDEX notifier_deliveries_due ON notifier_deliveries (due_at_ms) WHERE status = 'queued';
                CREATE INDEX notifier_deliveries_by_customer ON notifier_deliveries (customer_id);
                CREATE INDEX notifier_deliveries_settled ON notifier_deliveries (updated_at_ms) WHERE delivery IS NULL;
                CREATE TABLE notifier_contacts (
                    customer_id TEXT NOT NULL,
                    channel_class TEXT NOT NULL,
                    at_ms INTEGER NOT NULL
                );
                CREATE INDEX notifier_contacts_by_customer ON notifier_contacts (customer_id);
                CREATE INDEX notifier_contacts_by_time ON notifier_contacts (at_ms);
                """)
        }
    }

    public func load(for records: some Collection<InputRecord>, from db: Database) throws -> NotifierState {
        let customers = Array(Set(records.compactMap(\.keyString)))
        var state = NotifierState()
        try db.forEachRow("SELECT customer_id, channel_class, at_ms FROM notifier_contacts WHERE customer_id IN", matching: customers) { row in
            let customer: String = row[0]
            let classText: String = row[1]
            guard let channelClass = ChannelClass(rawValue: classText) else {
                throw NotifierStoreError(row: customer, underlying: "a contact names the unknown channel class \(classText)")
            }
            state.contacts[customer, default: []].append(ContactMark(channelClass: channelClass, atMs: row[2]))
        }
        return state
    }

    public func save(_ changes: [NotifierChange], to db: Database) throws {
        var newestContactMs: Int64?
        for change in changes {
            switch change {
            case let .enqueue(delivery):
                try db.cachedStatement(sql: """
                    INSERT INTO notifier_deliveries (action_id, customer_id, status, due_at_ms, channel, idempotency_key, updated_at_ms, delivery)
                    VALUES (?, ?, 'queued', ?, ?, ?, ?, ?) ON CONFLICT (action_id) DO NOTHING
                    """).execute(arguments: [
                        delivery.actionID, delivery.customerID, delivery.dueAt.epochMilliseconds, delivery.channel?.rawValue,
                        delivery.channel.map(delivery.idempotencyKey(for:)), Date().epochMilliseconds, DeliveryLedger.encode(delivery),
                    ])
            case let .contact(customer, mark):
                try db.cachedStatement(sql: "INSERT INTO notifier_contacts (customer_id, channel_class, at_ms) VALUES (?, ?, ?)")
                    .execute(arguments: [customer, mark.channelClass.rawValue, mark.atMs])
                newestContactMs = max(newestContactMs ?? mark.atMs, mark.atMs)
            case let .forget(customer):
                try DeliveryLedger.forget(customer, in: db)
            }
        }
        if let newestContactMs {
            try db.cachedStatement(sql: "DELETE FROM notifier_contacts WHERE at_ms < ?")
                .execute(arguments: [newestContactMs - contactRetentionSeconds * 1000])
        }
    }

    public func erasesPersonalData(_ changes: [NotifierChange]) -> Bool {
        changes.contains { if case .forget = $0 { true } else { false } }
    }
}

/// The delivery engine's steps on a partition file's delivery rows. Each runs inside a write
/// transaction of the file (checked against its owner epoch by `PartitionStore.commit`).
public enum DeliveryLedger {
    /// When the earliest queued delivery is due, or nil when none is queued.
    public static func earliestDue(in db: Database) throws -> Date? {
        try Int64.fetchOne(db, sql: "SELECT MIN(due_at_ms) FROM notifier_deliveries WHERE status = 'queued'")
            .map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// Marks up to `limit` due deliveries `attempting` and returns them, earliest first. The mark
    /// is durable before any provider is called; a process that dies after it leaves the row
    /// `attempting`, and the next owner retries it with the same idempotency key.
    public static func claimDue(at now: Date, limit: Int, in db: Database) throws -> [QueuedDelivery] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT action_id, delivery FROM notifier_deliveries
                WHERE status = 'queued' AND due_at_ms <= ? ORDER BY due_at_ms LIMIT ?
                """,
            arguments: [now.epochMilliseconds, limit])
        var claimed: [QueuedDelivery] = []
        claimed.reserveCapacity(rows.count)
        let mark = try db.cachedStatement(sql: """
            UPDATE notifier_deliveries SET status = 'attempting', channel = ?, idempotency_key = ?, updated_at_ms = ? WHERE action_id = ?
            """)
        for row in rows {
            let delivery = try decode(row)
            try mark.execute(arguments: [
                delivery.channel?.rawValue, delivery.channel.map(delivery.idempotencyKey(for:)), now.epochMilliseconds, delivery.actionID,
            ])
            claimed.append(delivery)
        }
        return claimed
    }

    /// Puts back in the queue what an earlier owner of the file left `attempting`: it may or may
    /// not have reached the provider, so it is tried again, with the same idempotency key.
    @discardableResult
    public static func requeueAttempting(in db: Database) throws -> Int {
        try db.execute(sql: "UPDATE notifier_deliveries SET status = 'queued' WHERE status = 'attempting'")
        return db.changesCount
    }

    /// Records what became of attempted deliveries: due again (a retry or the next channel) or
    /// final. A final row keeps its status, channel and provider id but no longer the message.
    public static func record(_ settlements: [Settlement], at now: Date, in db: Database) throws {
        let requeue = try db.cachedStatement(sql: """
            UPDATE notifier_deliveries SET status = 'queued', due_at_ms = ?, channel = ?, idempotency_key = ?, attempts = ?,
                updated_at_ms = ?, delivery = ? WHERE action_id = ?
            """)
        let finish = try db.cachedStatement(sql: """
            UPDATE notifier_deliveries SET status = ?, due_at_ms = NULL, channel = ?, attempts = ?, provider_message_id = ?,
                updated_at_ms = ?, delivery = NULL WHERE action_id = ?
            """)
        for settlement in settlements {
            let delivery = settlement.delivery
            if let status = settlement.status {
                try finish.execute(arguments: [
                    status.rawValue, settlement.channel?.rawValue, delivery.totalAttempts, settlement.providerMessageID,
                    now.epochMilliseconds, delivery.actionID,
                ])
            } else {
                try requeue.execute(arguments: [
                    delivery.dueAt.epochMilliseconds, delivery.channel?.rawValue, delivery.channel.map(delivery.idempotencyKey(for:)),
                    delivery.totalAttempts, now.epochMilliseconds, encode(delivery), delivery.actionID,
                ])
            }
        }
    }

    /// Deletes final rows settled before `cutoff`.
    @discardableResult
    public static func pruneSettled(before cutoff: Date, in db: Database) throws -> Int {
        try db.execute(
            sql: "DELETE FROM notifier_deliveries WHERE delivery IS NULL AND updated_at_ms < ?", arguments: [cutoff.epochMilliseconds])
        return db.changesCount
    }

    static func forget(_ customer: String, in db: Database) throws {
        for table in ["notifier_deliveries", "notifier_contacts"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE customer_id = ?", arguments: [customer])
        }
    }

    /// One delivery's row as `liaison trace` shows it.
    public static func entry(for actionID: String, in db: Database) throws -> DeliveryLedgerEntry? {
        try Row.fetchOne(db, sql: "SELECT * FROM notifier_deliveries WHERE action_id = ?", arguments: [actionID]).map { row in
            DeliveryLedgerEntry(
                actionID: row["action_id"], customerID: row["customer_id"], status: row["status"], channel: row["channel"],
                idempotencyKey: row["idempotency_key"], attempts: row["attempts"], providerMessageID: row["provider_message_id"],
                dueAt: (row["due_at_ms"] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) },
                updatedAt: Date(timeIntervalSince1970: Double(row["updated_at_ms"] as Int64) / 1000))
        }
    }

    /// How many deliveries are queued or being attempted.
    public static func pendingCount(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notifier_deliveries WHERE delivery IS NOT NULL") ?? 0
    }

    /// The delivery as its row keeps it, written member by member (as `StoredDelivery` reads it
    /// back): every queued action is written once and every retry again, and the generic
    /// encoder would cost more than the provider call's own bookkeeping.
    static func encode(_ delivery: QueuedDelivery) -> Data {
        var writer = JSONWriter(capacity: 2_048)
        writer.beginObject()
        writer.key("action")
        writer.raw(delivery.action.jsonBytes())
        writer.key("source")
        writer.beginObject()
        writer.key("topic")
        writer.string(delivery.source.topic)
        writer.key("partition")
        writer.integer(Int64(delivery.source.partition))
        writer.key("offset")
        writer.integer(delivery.source.offset)
        writer.endObject()
        writer.key("ladder")
        writer.beginArray()
        for channel in delivery.ladder { writer.string(channel.rawValue) }
        writer.endArray()
        for (name, value) in [("rung", delivery.rung), ("attempts", delivery.attempts), ("totalAttempts", delivery.totalAttempts)] {
            writer.key(name)
            writer.integer(Int64(value))
        }
        writer.key("dueAtMs")
        writer.integer(delivery.dueAt.epochMilliseconds)
        writer.key("deadlineMs")
        writer.integer(delivery.deadline.epochMilliseconds)
        writer.key("deferred")
        writer.bool(delivery.deferred)
        writer.key("failures")
        writer.beginArray()
        for failure in delivery.failures { writer.string(failure) }
        writer.endArray()
        writer.endObject()
        return Data(writer.bytes)
    }

    private static func decode(_ row: Row) throws -> QueuedDelivery {
        let actionID: String = row["action_id"]
        guard let data = row["delivery"] as Data? else {
            throw NotifierStoreError(row: actionID, underlying: "a queued delivery has no stored message")
        }
        do {
            return try JSONValueDecoder().decode(StoredDelivery.self, from: Array(data)).delivery
        } catch {
            throw NotifierStoreError(row: actionID, underlying: "its stored delivery cannot be read: \(error)")
        }
    }
}

/// A delivery row as the ledger reports it.
public struct DeliveryLedgerEntry: Sendable, Equatable {
    public var actionID: String
    public var customerID: String
    /// queued, attempting, sent, failed or missed.
    public var status: String
    public var channel: String?
    public var idempotencyKey: String?
    public var attempts: Int
    public var providerMessageID: String?
    public var dueAt: Date?
    public var updatedAt: Date
}

/// A delivery as it is read back from its row: times in milliseconds since the epoch.
private struct StoredDelivery: Decodable {
    var action: ActionV1
    var source: DeadLetterV1.SourcePosition
    var ladder: [Channel]
    var rung: Int
    var attempts: Int
    var totalAttempts: Int
    var dueAtMs: Int64
    var deadlineMs: Int64
    var deferred: Bool
    var failures: [String]

    var delivery: QueuedDelivery {
        QueuedDelivery(
            action: action, source: source, ladder: ladder, rung: rung, attempts: attempts, totalAttempts: totalAttempts,
            dueAt: Date(timeIntervalSince1970: Double(dueAtMs) / 1000), deadline: Date(timeIntervalSince1970: Double(deadlineMs) / 1000),
            deferred: deferred, failures: failures)
    }
}

/// A stored row that no longer reads back: the file was changed by something else.
public struct NotifierStoreError: Error, CustomStringConvertible {
    public var row: String
    public var underlying: String

    public var description: String { "notifier ledger row \(row): \(underlying)" }
}
