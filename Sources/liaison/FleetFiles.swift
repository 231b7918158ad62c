import Foundation
import GRDB

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

    func read<T>(_ file: URL, _ body: (Database) throws -> T) -> T? {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return try? DatabaseQueue(path: file.path, configuration: configuration).read(body)
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
}
