import Counter
import GRDB
import LiaisonStage
import LiaisonStore

/// Keeps the counting stage's per-key counts in the partition's file.
public struct CountPersistence: StatePersistence {
    public init() {}

    public func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("counter-v1") { db in
            try db.execute(sql: "CREATE TABLE counter_counts (key TEXT PRIMARY KEY, count INTEGER NOT NULL)")
        }
    }

    public func load(for records: some Collection<InputRecord>, from db: Database) throws -> CountState {
        let keys = Set(records.compactMap(\.keyString))
        var counts: [String: Int64] = [:]
        let select = try db.cachedStatement(sql: "SELECT count FROM counter_counts WHERE key = ?")
        for key in keys {
            if let count = try Int64.fetchOne(select, arguments: [key]) { counts[key] = count }
        }
        return CountState(counts: counts)
    }

    public func save(_ changes: [CountState.Change], to db: Database) throws {
        var increments: [String: Int64] = [:]
        for case let .increment(key) in changes { increments[key, default: 0] += 1 }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO counter_counts (key, count) VALUES (?, ?)
            ON CONFLICT (key) DO UPDATE SET count = count + excluded.count
            """)
        for (key, increment) in increments {
            try upsert.execute(arguments: [key, increment])
        }
    }
}
