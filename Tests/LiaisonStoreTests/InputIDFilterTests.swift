import Foundation
@testable import LiaisonStore
import XCTest

final class InputIDFilterTests: XCTestCase {
    func testEveryInsertedIDIsReportedAndFewOthersAre() {
        var filter = InputIDFilter(capacity: 100_000)
        let inserted = (0..<100_000).map { "txn-\($0)" }
        inserted.forEach { filter.insert($0) }
        XCTAssertTrue(inserted.allSatisfy(filter.mightContain), "a Bloom filter must never miss an id it holds")
        let falsePositives = (0..<100_000).filter { filter.mightContain("other-\($0)") }.count
        XCTAssertLessThan(falsePositives, 2_000, "at capacity the false-positive rate should stay near 1%")
        XCTAssertFalse(filter.isFull)
        filter.insert("one-more")
        XCTAssertTrue(filter.isFull)
    }

    func testAStoreRebuildsItsFilterWhenItOutgrowsItAndStillFindsEverything() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filter-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try PartitionStore(location: PartitionStoreLocation(stateDirectory: directory, stage: "s", topic: "t", partition: 0))
        try store.claimOwnership()
        // Past the initial capacity of a million ids the filter is rebuilt twice as large.
        let batch = 250_001
        for round in 0..<4 {
            let entries = (0..<batch).map { index in
                LedgerEntry(inputID: "r\(round)-\(index)", position: .init(topic: "t", partition: 0, offset: Int64(round * batch + index)), verdict: .accepted)
            }
            try store.commit(nextOffset: Int64((round + 1) * batch), ledger: entries)
        }
        XCTAssertEqual(try store.knownInputIDs(["r0-0", "r3-250000", "r4-0"]), ["r0-0", "r3-250000"])
    }
}
