import Foundation
import GRDB
import LiaisonStage
import LiaisonStore
import XCTest

final class PartitionStoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func location(partition: Int32 = 0) -> PartitionStoreLocation {
        PartitionStoreLocation(stateDirectory: directory, stage: "counter", topic: "in", partition: partition)
    }

    private func entry(_ id: String, offset: Int64, verdict: Verdict = .accepted) -> LedgerEntry {
        LedgerEntry(inputID: id, position: RecordPosition(topic: "in", partition: 0, offset: offset), verdict: verdict, outputIDs: ["out-\(id)"])
    }

    private func withNotesTable(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("notes-v1") { db in
            try db.execute(sql: "CREATE TABLE notes (id TEXT PRIMARY KEY)")
        }
    }

    func testFileLivesUnderStageAndPartitionAndUsesWAL() throws {
        let store = try PartitionStore(location: location(partition: 3))
        XCTAssertEqual(store.location.url.path, directory.path + "/counter/in-3.sqlite")
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.location.url.path))
        let mode = try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
    }

    func testCheckpointIsAbsentUntilTheFirstCommitAndSurvivesReopening() throws {
        do {
            let store = try PartitionStore(location: location())
            try store.claimOwnership()
            XCTAssertNil(try store.checkpoint())
            try store.commit(nextOffset: 42, ledger: [entry("a", offset: 41)])
        }
        let reopened = try PartitionStore(location: location())
        XCTAssertEqual(try reopened.checkpoint(), 42)
        XCTAssertEqual(try reopened.ledgerEntry(for: "a"), entry("a", offset: 41))
        XCTAssertEqual(try reopened.knownInputIDs(["a", "never-seen"]), ["a"])
    }

    func testCoPartitionedTopicsKeepTheirOwnCheckpointsAndLedgerRowsInOneFile() throws {
        let store = try PartitionStore(location: location())
        try store.claimOwnership()
        let receipt = LedgerEntry(inputID: "r", position: RecordPosition(topic: "receipts", partition: 0, offset: 7), verdict: .accepted)
        try store.commit(nextOffset: 42, ledger: [entry("a", offset: 41)])
        try store.commit(topic: "receipts", nextOffset: 8, ledger: [receipt])
        XCTAssertEqual(try store.checkpoint(), 42)
        XCTAssertEqual(try store.checkpoint(topic: "receipts"), 8)
        XCTAssertNil(try store.checkpoint(topic: "elsewhere"))
        XCTAssertEqual(try store.ledgerEntry(for: "r"), receipt)
        XCTAssertEqual(try store.ledgerEntry(for: "a"), entry("a", offset: 41))
    }

    func testAFileFromTheFirstLedgerVersionKeepsItsCheckpointAndLedger() throws {
        try FileManager.default.createDirectory(at: location().url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: location().url.path)
        try old.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('liaison-ledger-v1');
                CREATE TABLE liaison_checkpoint (
                    id INTEGER PRIMARY KEY CHECK (id = 1), next_offset INTEGER, owner_epoch INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
                INSERT INTO liaison_checkpoint VALUES (1, 12, 3, 0);
                CREATE TABLE liaison_ledger (
                    "offset" INTEGER PRIMARY KEY, input_id TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT,
                    output_ids TEXT NOT NULL, processed_at_ms INTEGER NOT NULL);
                CREATE UNIQUE INDEX liaison_ledger_by_input_id ON liaison_ledger (input_id);
                INSERT INTO liaison_ledger VALUES (11, 'a', 'accepted', NULL, 'out-a', 0);
                """)
        }
        try old.close()
        let store = try PartitionStore(location: location())
        XCTAssertEqual(try store.checkpoint(), 12)
        XCTAssertEqual(try store.ledgerEntry(for: "a"), entry("a", offset: 11))
        XCTAssertEqual(try store.claimOwnership(), 4)
        try store.commit(nextOffset: 13, ledger: [entry("b", offset: 12)])
        XCTAssertEqual(try store.knownInputIDs(["a", "b", "c"]), ["a", "b"])
    }

    func testKnownInputIDsFindsOnlyLedgeredIDsAcrossChunks() throws {
        let store = try PartitionStore(location: location())
        try store.claimOwnership()
        let ids = (0..<1200).map { "id-\($0)" }
        try store.commit(nextOffset: 600, ledger: ids.prefix(600).enumerated().map { entry($1, offset: Int64($0)) })
        let known = try store.knownInputIDs(ids)
        XCTAssertEqual(known, Set(ids.prefix(600)))
    }

    func testBatchesOfAnyLengthLedgerEveryRowOnceInOrder() throws {
        let store = try PartitionStore(location: location())
        try store.claimOwnership()
        var offset: Int64 = 0
        for length in [1, 3, 127, 128, 129, 300] {
            let batch = (0..<length).map { index in entry("len\(length)-\(index)", offset: offset + Int64(index)) }
            offset += Int64(length)
            try store.commit(nextOffset: offset, ledger: batch)
        }
        let rows = try store.read { db in try String.fetchAll(db, sql: "SELECT input_id FROM liaison_ledger ORDER BY seq") }
        XCTAssertEqual(rows, [1, 3, 127, 128, 129, 300].flatMap { length in (0..<length).map { "len\(length)-\($0)" } })
    }

    func testKeyLookupsOfAnyLengthFindEachRowOnce() throws {
        let store = try PartitionStore(location: location(), migrations: withNotesTable)
        try store.claimOwnership()
        try store.commit(nextOffset: nil, ledger: []) { db in
            for index in 0..<700 { try db.execute(sql: "INSERT INTO notes (id) VALUES (?)", arguments: ["note-\(index)"]) }
        }
        for length in [1, 2, 3, 5, 511, 512, 513, 1_100] {
            let keys = (0..<length).map { "note-\($0)" }
            var found: [String] = []
            try store.read { db in try db.forEachRow("SELECT id FROM notes WHERE id IN", matching: keys) { found.append($0[0]) } }
            XCTAssertEqual(found.sorted(), keys.prefix(700).sorted(), "\(length) keys")
        }
    }

    func testPruningForgetsOnlyRowsProcessedBeforeTheHorizon() throws {
        let store = try PartitionStore(location: location())
        _ = try store.claimOwnership()
        func entries(_ ids: ClosedRange<Int>) -> [LedgerEntry] {
            ids.map { LedgerEntry(inputID: "id-\($0)", position: RecordPosition(topic: "t", partition: 0, offset: Int64($0)), verdict: .accepted) }
        }
        try store.commit(nextOffset: 3, ledger: entries(0...2))
        Thread.sleep(forTimeInterval: 0.01)
        let horizon = Int64(Date().timeIntervalSince1970 * 1000)
        Thread.sleep(forTimeInterval: 0.01)
        try store.commit(nextOffset: 6, ledger: entries(3...5))
        XCTAssertEqual(try store.pruneLedger(processedBefore: horizon), 3)
        XCTAssertEqual(try store.knownInputIDs((0...5).map { "id-\($0)" }), Set((3...5).map { "id-\($0)" }))
        XCTAssertEqual(try store.pruneLedger(processedBefore: horizon), 0)
        XCTAssertEqual(try store.pruneLedger(processedBefore: horizon + 60_000), 3)
        XCTAssertEqual(try store.knownInputIDs((0...5).map { "id-\($0)" }), [])
        XCTAssertEqual(try store.checkpoint(), 6)
    }

    func testStageWritesLedgerAndCheckpointCommitTogetherOrNotAtAll() throws {
        let store = try PartitionStore(location: location(), migrations: withNotesTable)
        try store.claimOwnership()
        try store.commit(nextOffset: 1, ledger: [entry("a", offset: 0)]) { db in
            try db.execute(sql: "INSERT INTO notes VALUES ('first')")
        }
        // A ledger id seen before violates the primary key: the whole batch must roll back.
        XCTAssertThrowsError(try store.commit(nextOffset: 3, ledger: [entry("b", offset: 1), entry("a", offset: 2)]) { db in
            try db.execute(sql: "INSERT INTO notes VALUES ('second')")
        })
        XCTAssertEqual(try store.checkpoint(), 1)
        XCTAssertNil(try store.ledgerEntry(for: "b"))
        let notes = try store.read { db in try String.fetchAll(db, sql: "SELECT id FROM notes") }
        XCTAssertEqual(notes, ["first"])
    }

    func testAnEarlierOwnerIsFencedOffOnceAnotherClaimsTheFile() throws {
        let zombie = try PartitionStore(location: location())
        XCTAssertEqual(try zombie.claimOwnership(), 1)
        let successor = try PartitionStore(location: location())
        XCTAssertEqual(try successor.claimOwnership(), 2)

        XCTAssertThrowsError(try zombie.commit(nextOffset: 10, ledger: [entry("z", offset: 9)])) { error in
            guard case StoreError.fenced(_, ownEpoch: 1, currentEpoch: 2) = error else {
                return XCTFail("expected fencing, got \(error)")
            }
        }
        try successor.commit(nextOffset: 5, ledger: [entry("s", offset: 4)])
        XCTAssertEqual(try successor.checkpoint(), 5)
        XCTAssertNil(try successor.ledgerEntry(for: "z"))
    }

    func testAnUnwritableStateDirectoryIsReportedWithItsPath() throws {
        let blocker = directory.appendingPathComponent("file")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: blocker)
        let bad = PartitionStoreLocation(stateDirectory: blocker, stage: "counter", topic: "in", partition: 0)
        XCTAssertThrowsError(try PartitionStore(location: bad)) { error in
            XCTAssertTrue("\(error)".contains(blocker.path), "\(error)")
        }
    }
}
