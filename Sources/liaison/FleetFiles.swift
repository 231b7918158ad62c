import Foundation
import GRDB
import LiaisonAudit
import LiaisonStage

/// Reads the stages' partition files while the stages write them (read-only, waiting out
/// their locks), as an operator with sqlite3 would.
struct FleetFiles {
    let stateDirectory: URL

    init(stateDirectory: URL) {
        self.stateDirectory = stateDirectory
    }

    /// The directory a tool was given, else `LIAISON_STATE_DIR`, else `./state`, as the stages resolve it.
    init(stateDir: String?) {
        stateDirectory = URL(
            fileURLWithPath: stateDir ?? ProcessInfo.processInfo.environment["LIAISON_STATE_DIR"] ?? "state", isDirectory: true)
    }

    struct LedgerCounts: Sendable, Equatable {
        var processed = 0
        var rejected = 0
    }

    func files(of stage: String) -> [URL] {
        let directory = stateDirectory.appendingPathComponent(stage)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".sqlite") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// The topic and partition a file is named after: `<topic>-<partition>.sqlite`.
    static func partition(of file: URL) -> (topic: String, partition: Int32) {
        let name = file.deletingPathExtension().lastPathComponent
        guard let dash = name.lastIndex(of: "-"), let partition = Int32(name[name.index(after: dash)...]) else { return (name, 0) }
        return (String(name[..<dash]), partition)
    }

    /// Reads a file, or nil when it cannot be read: for tools that show what is there.
    func read<T>(_ file: URL, _ body: (Database) throws -> T) -> T? {
        try? reading(file, body)
    }

    /// Reads a file, or says which one could not be read: for tools whose answer would be wrong without it.
    func reading<T>(_ file: URL, _ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            return try DatabaseQueue(path: file.path, configuration: configuration).read(body)
        } catch {
            throw CommandFailure("cannot read \(file.path): \(error)")
        }
    }

    func ledgerCounts(of stage: String) -> LedgerCounts {
        var counts = LedgerCounts()
        for file in files(of: stage) {
            let rows = read(file) { db -> [Row] in
                guard try db.tableExists("liaison_ledger") else { return [] }
                return try Row.fetchAll(db, sql: "SELECT verdict = 'rejected' AS rejected, COUNT(*) AS n FROM liaison_ledger GROUP BY 1")
            } ?? []
            for row in rows {
                let count: Int = row["n"]
                counts.processed += count
                if row["rejected"] as Bool { counts.rejected += count }
            }
        }
        return counts
    }

    /// Ledger rows of one file, read in `db`: every row, or those a WHERE clause picks.
    static func ledgerRows(
        stage: String, file: URL, in db: Database, where condition: String? = nil, arguments: StatementArguments = []
    ) throws -> [LedgerRow] {
        guard try db.tableExists("liaison_ledger") else { return [] }
        let partition = partition(of: file).partition
        let sql = "SELECT * FROM liaison_ledger" + (condition.map { " WHERE \($0)" } ?? "") + " ORDER BY seq"
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let outputs: String = row["output_ids"]
            return LedgerRow(
                stage: stage, inputID: row["input_id"], position: RecordPosition(topic: row["topic"], partition: partition, offset: row["offset"]),
                verdict: row["verdict"], reason: row["reason"], outputs: outputs.isEmpty ? [] : outputs.components(separatedBy: "\n"),
                processedAtMs: row["processed_at_ms"])
        }
    }

    /// Every ledger row of a stage, over all its files.
    func ledgerRows(of stage: String) throws -> [LedgerRow] {
        try files(of: stage).flatMap { file in
            try reading(file) { db in try Self.ledgerRows(stage: stage, file: file, in: db) }
        }
    }

    /// Where the stage resumes each topic of each partition file: `[topic: [partition: next offset]]`.
    func checkpoints(of stage: String) throws -> [String: [Int32: Int64]] {
        var checkpoints: [String: [Int32: Int64]] = [:]
        for file in files(of: stage) {
            let partition = Self.partition(of: file).partition
            let rows = try reading(file) { db -> [Row] in
                guard try db.tableExists("liaison_offsets") else { return [] }
                return try Row.fetchAll(db, sql: "SELECT topic, next_offset FROM liaison_offsets")
            }
            for row in rows { checkpoints[row["topic"], default: [:]][partition] = row["next_offset"] }
        }
        return checkpoints
    }
}
