import Foundation
import Enrich
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore

/// Keeps customer profiles in the partition's file, one row per customer, as the compact JSON of
/// `CustomerProfile.jsonBytes`, which reads back to the exact same profile.
public struct ProfilePersistence: StatePersistence {
    public init() {}

    public func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("enrich-profiles-v1") { db in
            try db.execute(sql: """
                CREATE TABLE enrich_profiles (
                    customer_id TEXT PRIMARY KEY,
                    erased INTEGER NOT NULL,
                    profile BLOB NOT NULL
                ) WITHOUT ROWID
                """)
        }
    }

    public func load(for records: some Collection<InputRecord>, from db: Database) throws -> ProfileState {
        let customers = Array(Set(records.compactMap(\.keyString)))
        var profiles: [String: CustomerProfile] = [:]
        profiles.reserveCapacity(customers.count)
        for start in stride(from: 0, to: customers.count, by: Self.lookupChunk) {
            let chunk = Array(customers[start..<min(start + Self.lookupChunk, customers.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let select = try db.cachedStatement(sql: "SELECT customer_id, profile FROM enrich_profiles WHERE customer_id IN (\(placeholders))")
            select.setUncheckedArguments(StatementArguments(chunk))
            let rows = try Row.fetchCursor(select)
            while let row = try rows.next() {
                let customerId: String = row[0]
                let bytes: [UInt8] = Array(row.dataNoCopy(atIndex: 1) ?? Data())
                do {
                    profiles[customerId] = try CustomerProfile(json: bytes)
                } catch {
                    throw ProfileStoreError(customerId: customerId, underlying: "\(error)")
                }
            }
        }
        return ProfileState(profiles: profiles)
    }

    public func save(_ changes: [ProfileState.Change], to db: Database) throws {
        var latest: [String: CustomerProfile] = [:]
        for case let .put(profile) in changes { latest[profile.customerId] = profile }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO enrich_profiles (customer_id, erased, profile) VALUES (?, ?, ?)
            ON CONFLICT (customer_id) DO UPDATE SET erased = excluded.erased, profile = excluded.profile
            """)
        for profile in latest.values {
            try upsert.execute(arguments: [profile.customerId, profile.isErased, Data(profile.jsonBytes())])
        }
    }

    public func erasesPersonalData(_ changes: [ProfileState.Change]) -> Bool {
        changes.contains { change in
            guard case let .put(profile) = change else { return false }
            return profile.isErased
        }
    }

    /// Ids looked up per statement, within SQLite's limit on parameters.
    private static let lookupChunk = 500
}

/// A stored profile that no longer reads back: the file was changed by something else.
public struct ProfileStoreError: Error, CustomStringConvertible {
    public var customerId: String
    public var underlying: String

    public var description: String {
        "the stored profile of \(customerId) cannot be read (\(underlying)); restore the partition file or delete its row to rebuild the profile from a replay"
    }
}
