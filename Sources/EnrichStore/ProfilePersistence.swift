import Foundation
import Enrich
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Synchronization

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
        for start in stride(from: 0, to: customers.count, by: Self.lookupChunk) {
            let chunk = Array(customers[start..<min(start + Self.lookupChunk, customers.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let select = try db.cachedStatement(sql: "SELECT customer_id, profile FROM enrich_profiles WHERE customer_id IN (\(placeholders))")
            select.setUncheckedArguments(StatementArguments(chunk))
            let rows = try Row.fetchCursor(select)
            while let row = try rows.next() {
                stored.append((row[0], Array(row.dataNoCopy(atIndex: 1) ?? Data())))
            }
        }
        let decoded = onEveryCore(stored) { entry in Result { try CustomerProfile(json: entry.bytes) } }
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
        let encoded = onEveryCore(profiles) { Data($0.jsonBytes()) }
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

    /// Ids looked up per statement, within SQLite's limit on parameters.
    private static let lookupChunk = 500
}

/// Maps on every core: decoding and encoding a batch's profiles is independent per profile, and
/// the file stays locked while a commit encodes.
private func onEveryCore<Input, Output: Sendable>(_ inputs: [Input], _ transform: (Input) -> Output) -> [Output] {
    let chunks = min(ProcessInfo.processInfo.activeProcessorCount * 4, max(1, inputs.count / 64))
    let chunk = (inputs.count + chunks - 1) / chunks
    let results = Mutex([Output?](repeating: nil, count: inputs.count))
    withoutActuallyEscaping(transform) { transform in
        nonisolated(unsafe) let transform = transform
        nonisolated(unsafe) let inputs = inputs
        DispatchQueue.concurrentPerform(iterations: chunks) { worker in
            let range = (worker * chunk)..<min(inputs.count, (worker + 1) * chunk)
            guard !range.isEmpty else { return }
            let outputs = range.map { transform(inputs[$0]) }
            results.withLock { all in
                for (index, output) in zip(range, outputs) { all[index] = output }
            }
        }
    }
    return results.withLock { $0.map { $0! } }
}

/// A stored profile that no longer reads back: the file was changed by something else.
public struct ProfileStoreError: Error, CustomStringConvertible {
    public var customerId: String
    public var underlying: String

    public var description: String {
        "the stored profile of \(customerId) cannot be read (\(underlying)); restore the partition file or delete its row to rebuild the profile from a replay"
    }
}
