import GRDB

extension Database {
    /// Runs `select` (ending in `IN`) for many keys, a bounded list of them per statement, and
    /// hands each row found to `body`: how a batch looks up its ids or its customers at once.
    /// A list is padded to a power of two by repeating its last key (which finds nothing more),
    /// so a connection caches at most ten shapes of each statement rather than one per length.
    public func forEachRow(_ select: String, matching keys: [String], _ body: (Row) throws -> Void) throws {
        for start in stride(from: 0, to: keys.count, by: keysPerLookup) {
            var chunk = Array(keys[start..<min(start + keysPerLookup, keys.count)])
            let shape = statementShape(for: chunk.count)
            chunk += repeatElement(chunk[chunk.count - 1], count: shape - chunk.count)
            let placeholders = Array(repeating: "?", count: shape).joined(separator: ",")
            let statement = try cachedStatement(sql: "\(select) (\(placeholders))")
            statement.setUncheckedArguments(StatementArguments(chunk))
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() { try body(row) }
        }
    }
}

/// Keys per statement: large enough to amortise the statement, within SQLite's limit on parameters.
private let keysPerLookup = 512

/// The smallest power of two that holds `count` items: the lengths statements are prepared for.
func statementShape(for count: Int) -> Int {
    count <= 1 ? 1 : 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount)
}

/// The largest power of two not above `count` (at least 1): how many rows the next piece of a
/// multi-row insert takes, so such statements come in power-of-two shapes as well.
func largestStatementShape(notAbove count: Int) -> Int {
    count <= 1 ? 1 : 1 << (Int.bitWidth - 1 - count.leadingZeroBitCount)
}
