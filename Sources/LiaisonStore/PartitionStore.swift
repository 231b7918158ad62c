import Foundation
import GRDB
import LiaisonStage
import Synchronization

/// Where a partition's state lives: `STATE_DIR/<stage>/<topic>-<partition>.sqlite`, so the
/// partition's file can move with it to whichever replica owns it. A stage whose input topics are
/// co-partitioned keeps one file per partition number, named after its first input topic.
public struct PartitionStoreLocation: Sendable, Hashable {
    public var stateDirectory: URL
    public var stage: String
    public var topic: String
    public var partition: Int32

    public init(stateDirectory: URL, stage: String, topic: String, partition: Int32) {
        self.stateDirectory = stateDirectory
        self.stage = stage
        self.topic = topic
        self.partition = partition
    }

    public var url: URL {
        stateDirectory.appendingPathComponent(stage, isDirectory: true)
            .appendingPathComponent("\(topic)-\(partition).sqlite")
    }
}

/// How hard SQLite works to survive power loss. `normal` in WAL mode loses nothing on a
/// process crash; `full` also survives the machine losing power (the notifier's ledger).
public enum Durability: String, Sendable {
    case normal = "NORMAL"
    case full = "FULL"
}

/// One ledger row: what became of one input record. Rows are numbered in processing order, which
/// keeps inserts append-only; a unique index on the input id makes de-duplication a lookup.
public struct LedgerEntry: Sendable, Equatable {
    public var inputID: String
    public var position: RecordPosition
    public var verdict: Verdict
    public var reason: String?
    public var outputIDs: [String]

    public init(inputID: String, position: RecordPosition, verdict: Verdict, reason: String? = nil, outputIDs: [String] = []) {
        self.inputID = inputID
        self.position = position
        self.verdict = verdict
        self.reason = reason
        self.outputIDs = outputIDs
    }
}

/// A partition's SQLite file: checkpoint, owner epoch, record ledger and the stage's own tables,
/// all changed together in one transaction per batch.
public final class PartitionStore: @unchecked Sendable {
    public let location: PartitionStoreLocation
    private let database: DatabaseQueue
    /// The epoch this handle claimed; a write finding a newer one in the file is refused.
    public private(set) var ownerEpoch: Int64 = 0
    /// Every ledgered input id, approximately: read by the polling thread, grown by commits.
    private let seenIDs: Mutex<InputIDFilter>

    /// Opens (creating if needed) and migrates the partition's file.
    public init(
        location: PartitionStoreLocation,
        durability: Durability = .normal,
        migrations: (inout DatabaseMigrator) -> Void = { _ in }
    ) throws(StoreError) {
        self.location = location
        let url = location.url
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotCreateDirectory(url.deletingLastPathComponent().path, underlying: "\(error)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue)")
            try db.execute(sql: "PRAGMA cache_size = -\(Self.pageCacheKiB)")
            // Deleted and replaced rows are overwritten, so erased personal data leaves no trace in the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        var migrator = DatabaseMigrator()
        Self.registerLedgerMigrations(&migrator, fileTopic: location.topic)
        migrations(&migrator)
        do {
            database = try DatabaseQueue(path: url.path, configuration: configuration)
            try migrator.migrate(database)
            seenIDs = Mutex(try Self.loadFilter(database))
        } catch {
            throw StoreError.database(url.path, underlying: "\(error)")
        }
    }

    private static func loadFilter(_ database: DatabaseQueue) throws -> InputIDFilter {
        try database.read { db in
            let rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM liaison_ledger") ?? 0
            var filter = InputIDFilter(capacity: max(1_000_000, rows * 2))
            let ids = try String.fetchCursor(db, sql: "SELECT input_id FROM liaison_ledger")
            while let id = try ids.next() { filter.insert(id) }
            return filter
        }
    }

    private static func registerLedgerMigrations(_ migrator: inout DatabaseMigrator, fileTopic: String) {
        migrator.registerMigration("liaison-ledger-v1") { db in
            try db.execute(sql: """
                CREATE TABLE liaison_checkpoint (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    next_offset INTEGER,
                    owner_epoch INTEGER NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                );
                INSERT INTO liaison_checkpoint (id, next_offset, owner_epoch, updated_at_ms) VALUES (1, NULL, 0, 0);
                CREATE TABLE liaison_ledger (
                    "offset" INTEGER PRIMARY KEY,
                    input_id TEXT NOT NULL,
                    verdict TEXT NOT NULL,
                    reason TEXT,
                    output_ids TEXT NOT NULL,
                    processed_at_ms INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX liaison_ledger_by_input_id ON liaison_ledger (input_id);
                """)
        }
        // One file may serve several co-partitioned topics: checkpoints and ledger rows name theirs.
        migrator.registerMigration("liaison-ledger-v2") { db in
            try db.execute(sql: """
                CREATE TABLE liaison_offsets (topic TEXT PRIMARY KEY, next_offset INTEGER NOT NULL);
                INSERT INTO liaison_offsets (topic, next_offset)
                    SELECT ?, next_offset FROM liaison_checkpoint WHERE next_offset IS NOT NULL;
                ALTER TABLE liaison_checkpoint DROP COLUMN next_offset;
                CREATE TABLE liaison_ledger_v2 (
                    seq INTEGER PRIMARY KEY,
                    topic TEXT NOT NULL,
                    "offset" INTEGER NOT NULL,
                    input_id TEXT NOT NULL,
                    verdict TEXT NOT NULL,
                    reason TEXT,
                    output_ids TEXT NOT NULL,
                    processed_at_ms INTEGER NOT NULL
                );
                INSERT INTO liaison_ledger_v2 (topic, "offset", input_id, verdict, reason, output_ids, processed_at_ms)
                    SELECT ?, "offset", input_id, verdict, reason, output_ids, processed_at_ms FROM liaison_ledger ORDER BY "offset";
                DROP TABLE liaison_ledger;
                ALTER TABLE liaison_ledger_v2 RENAME TO liaison_ledger;
                CREATE UNIQUE INDEX liaison_ledger_by_input_id ON liaison_ledger (input_id);
                """, arguments: [fileTopic, fileTopic])
        }
    }

    /// SQLite's page cache per partition file: enough to keep a large ledger's id index in memory.
    private static let pageCacheKiB = 32 * 1024

    /// Takes ownership of the file for this process, fencing off any earlier owner still writing.
    @discardableResult
    public func claimOwnership() throws(StoreError) -> Int64 {
        ownerEpoch = try write { db in
            try db.execute(sql: "UPDATE liaison_checkpoint SET owner_epoch = owner_epoch + 1")
            return try Int64.fetchOne(db, sql: "SELECT owner_epoch FROM liaison_checkpoint")!
        }
        return ownerEpoch
    }

    /// The offset processing of `topic` (the file's own by default) resumes at, or nil when
    /// nothing of it was ever checkpointed.
    public func checkpoint(topic: String? = nil) throws(StoreError) -> Int64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT next_offset FROM liaison_offsets WHERE topic = ?", arguments: [topic ?? location.topic])
        }
    }

    /// Which of `ids` the ledger already holds: those records were processed before.
    public func knownInputIDs(_ ids: some Collection<String>) throws(StoreError) -> Set<String> {
        let candidates = seenIDs.withLock { filter in ids.filter { filter.mightContain($0) } }
        guard !candidates.isEmpty else { return [] }
        return try read { db in
            var known: Set<String> = []
            try db.forEachRow("SELECT input_id FROM liaison_ledger WHERE input_id IN", matching: candidates) { row in
                known.insert(row[0])
            }
            return known
        }
    }

    /// Most ledger rows written per statement: one statement per row would cost more than the rows.
    private static let insertChunk = 128

    public func ledgerEntry(for inputID: String) throws(StoreError) -> LedgerEntry? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM liaison_ledger WHERE input_id = ?", arguments: [inputID]).map(ledgerEntry)
        }
    }

    /// Commits one batch of `topic` (the file's own by default): the stage's state changes, the
    /// ledger rows and the new checkpoint, all or nothing. A nil `nextOffset` leaves the checkpoint
    /// where it is (fired timers). Refused with `.fenced` when another process claimed the file since.
    public func commit(
        topic: String? = nil, nextOffset: Int64?, ledger: [LedgerEntry], stageWrites: (Database) throws -> Void = { _ in }
    ) throws(StoreError) {
        let topic = topic ?? location.topic
        let epoch = ownerEpoch
        let path = location.url.path
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try write { db in
            let current = try Int64.fetchOne(db, sql: "SELECT owner_epoch FROM liaison_checkpoint")!
            guard current == epoch else { throw StoreError.fenced(path, ownEpoch: epoch, currentEpoch: current) }
            try stageWrites(db)
            // Pieces of power-of-two sizes, so a connection caches eight shapes of the insert.
            var start = 0
            while start < ledger.count {
                let chunk = ledger[start..<start + largestStatementShape(notAbove: min(ledger.count - start, Self.insertChunk))]
                start = chunk.endIndex
                let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO liaison_ledger (topic, "offset", input_id, verdict, reason, output_ids, processed_at_ms) VALUES \(rows)
                    """)
                var values: [(any DatabaseValueConvertible)?] = []
                values.reserveCapacity(chunk.count * 7)
                for entry in chunk {
                    values += [
                        entry.position.topic, entry.position.offset, entry.inputID, entry.verdict.rawValue, entry.reason,
                        entry.outputIDs.joined(separator: "\n"), now,
                    ]
                }
                insert.setUncheckedArguments(StatementArguments(values))
                try insert.execute()
            }
            try db.execute(sql: "UPDATE liaison_checkpoint SET updated_at_ms = ?", arguments: [now])
            guard let nextOffset else { return }
            try db.execute(
                sql: """
                    INSERT INTO liaison_offsets (topic, next_offset) VALUES (?, ?)
                    ON CONFLICT (topic) DO UPDATE SET next_offset = excluded.next_offset
                    """,
                arguments: [topic, nextOffset])
        }
        let full = seenIDs.withLock { filter in
            for entry in ledger { filter.insert(entry.inputID) }
            return filter.isFull
        }
        if full {
            do {
                let rebuilt = try Self.loadFilter(database)
                seenIDs.withLock { $0 = rebuilt }
            } catch {
                throw StoreError.database(location.url.path, underlying: "\(error)")
            }
        }
    }

    /// Forgets the ledger rows processed before `cutoffMs` (milliseconds since the epoch): the
    /// de-duplication horizon. Rows go oldest first, in processing order.
    @discardableResult
    public func pruneLedger(processedBefore cutoffMs: Int64) throws(StoreError) -> Int {
        try write { db in
            try db.execute(
                sql: """
                    DELETE FROM liaison_ledger WHERE seq < COALESCE(
                        (SELECT seq FROM liaison_ledger WHERE processed_at_ms >= ? ORDER BY seq LIMIT 1),
                        (SELECT MAX(seq) + 1 FROM liaison_ledger))
                    """,
                arguments: [cutoffMs])
            return db.changesCount
        }
    }

    /// Drops the old page images the write-ahead log still holds, after copying the current ones
    /// into the file: the last copies of rows an erasure replaced.
    public func scrubWriteAheadLog() throws(StoreError) {
        do {
            try database.writeWithoutTransaction { db in
                let result = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                if let busy: Int = result?[0], busy != 0 {
                    throw StoreError.database(location.url.path, underlying: "the write-ahead log is in use and could not be truncated")
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(location.url.path, underlying: "\(error)")
        }
    }

    /// Reads stage tables (or anything else) in one consistent snapshot.
    public func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(location.url.path, underlying: "\(error)")
        }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            var result: T?
            try database.inTransaction(.immediate) { db in
                result = try body(db)
                return .commit
            }
            return result!
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(location.url.path, underlying: "\(error)")
        }
    }

    private func ledgerEntry(_ row: Row) -> LedgerEntry {
        let outputs: String = row["output_ids"]
        return LedgerEntry(
            inputID: row["input_id"],
            position: RecordPosition(topic: row["topic"], partition: location.partition, offset: row["offset"]),
            verdict: Verdict(rawValue: row["verdict"]) ?? .rejected,
            reason: row["reason"],
            outputIDs: outputs.isEmpty ? [] : outputs.components(separatedBy: "\n"))
    }
}

/// Why the store could not do what was asked, with the file it concerns.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case cannotCreateDirectory(String, underlying: String)
    case database(String, underlying: String)
    case fenced(String, ownEpoch: Int64, currentEpoch: Int64)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, underlying):
            "cannot create the state directory \(path): \(underlying)"
        case let .database(path, underlying):
            "SQLite error in \(path): \(underlying)"
        case let .fenced(path, own, current):
            "\(path) was claimed by another owner (epoch \(current), ours \(own)): this process no longer owns the partition"
        }
    }
}
