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

    func testKnownInputIDsFindsOnlyLedgeredIDsAcrossChunks() throws {
        let store = try PartitionStore(location: location())
        try store.claimOwnership()
        let ids = (0..<1200).map { "id-\($0)" }
        try store.commit(nextOffset: 600, ledger: ids.prefix(600).enumerated().map { entry($1, offset: Int64($0)) })
        let known = try store.knownInputIDs(ids)
        XCTAssertEqual(known, Set(ids.prefix(600)))
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
