import GRDB

extension Database {
    /// Runs `select` (ending in `IN`) for many keys, a bounded list of them per statement, and
    /// hands each row found to `body`: how a batch looks up its ids or its customers at once.
    public func forEachRow(_ select: String, matching keys: [String], _ body: (Row) throws -> Void) throws {
        for start in stride(from: 0, to: keys.count, by: keysPerLookup) {
            let chunk = Array(keys[start..<min(start + keysPerLookup, keys.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let statement = try cachedStatement(sql: "\(select) (\(placeholders))")
            statement.setUncheckedArguments(StatementArguments(chunk))
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() { try body(row) }
        }
    }
}

/// Keys per statement: large enough to amortise the statement, within SQLite's limit on parameters.
private let keysPerLookup = 500
