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
                    customer_id TEXT NOT NULL UNIQUE,
                    erased INTEGER NOT NULL,
                    profile BLOB NOT NULL
                )
                """)
        }
    }

    public func load(for records: some Collection<InputRecord>, from db: Database) throws -> ProfileState {
        let customers = Array(Set(records.compactMap(\.keyString)))
        var stored: [(customerId: String, bytes: [UInt8])] = []
        stored.reserveCapacity(customers.count)
        try db.forEachRow("SELECT customer_id, profile FROM enrich_profiles WHERE customer_id IN", matching: customers) { row in
            stored.append((row[0], Array(row.dataNoCopy(atIndex: 1) ?? Data())))
        }
        // Decoded on every core; encoded likewise in `save`, where the file stays locked meanwhile.
        let decoded = concurrentMap(stored) { entry in Result { try CustomerProfile(json: entry.bytes) } }
        var profiles: [String: CustomerProfile] = [:]
        profiles.reserveCapacity(stored.count)
        for (entry, result) in zip(stored, decoded) {
            do {
                profiles[entry.customerId] = try result.get()
            } catch {
                throw ProfileStoreError(customerId: entry.customerId, underlying: "\(error)")
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
        let profiles = Array(latest.values)
        let encoded = concurrentMap(profiles) { Data($0.jsonBytes()) }
        for (profile, bytes) in zip(profiles, encoded) {
            try upsert.execute(arguments: [profile.customerId, profile.isErased, bytes])
        }
    }

    public func erasesPersonalData(_ changes: [ProfileState.Change]) -> Bool {
        changes.contains { change in
            guard case let .put(profile) = change else { return false }
            return profile.isErased
        }
    }
}

/// A stored profile that no longer reads back: the file was changed by something else.
public struct ProfileStoreError: Error, CustomStringConvertible {
    public var customerId: String
    public var underlying: String

    public var description: String {
        "the stored profile of \(customerId) cannot be read (\(underlying)); restore the partition file or delete its row to rebuild the profile from a replay"
    }
}
