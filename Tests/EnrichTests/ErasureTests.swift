import Enrich
import EnrichStore
import Foundation
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import XCTest

/// An erasure request removes the customer's personal data for good: from the profile, from the
/// partition's SQLite file, and from every later snapshot.
final class ErasureTests: XCTestCase {
    private var directory: URL!
    private let settings = FeatureSettings()
    private let personalData = ["Anna Geheimnis", "anna.geheimnis@example.com", "+4915199887766", "push-token-7f3a9c"]

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("enrich-erasure-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func knownCustomer(_ factory: inout EventFactory) -> [EventV1] {
        [
            factory.event(.customerProfileUpdated, day: -10, """
                {"name":"Anna Geheimnis","birthYear":1985,"locale":"de-DE","timeZone":"Europe/Berlin","tier":"gold",
                 "contact":{"email":"anna.geheimnis@example.com","phone":"+4915199887766","pushToken":"push-token-7f3a9c","device":"phone"},
                 "consent":{"marketing":true}}
                """),
            factory.debit("120.00", day: -9),
            factory.event(.engagementFeedbackReceived, day: -8, #"{"channel":"review","rating":2,"text":"Anna Geheimnis was kept waiting"}"#),
        ]
    }

    func testErasureLeavesATombstoneThatLaterEventsDoNotRebuild() {
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-1")
        for event in knownCustomer(&factory) { profile.apply(event, sentiment: -0.5) }
        XCTAssertEqual(profile.context(settings).recipient?.email, "anna.geheimnis@example.com")

        profile.apply(factory.event(.customerErasureRequested, day: -5), sentiment: nil)
        profile.apply(factory.event(.customerProfileUpdated, day: -1, #"{"contact":{"email":"again@example.com"}}"#), sentiment: nil)
        profile.apply(factory.debit("10.00", day: 0), sentiment: nil)
        var receipt = DeliveryReceiptV1(id: "d", actionId: "a", customerId: "c-1", status: .sent, at: EventFactory.time(day: 0), attempts: 1)
        receipt.channel = "email"
        profile.apply(receipt)

        XCTAssertEqual(profile, {
            var tombstone = CustomerProfile(customerId: "c-1")
            tombstone.erasedAtMs = EventFactory.time(day: -5).epochMilliseconds
            tombstone.latestEventMs = tombstone.erasedAtMs
            return tombstone
        }())
        XCTAssertEqual(profile.context(settings), CustomerContextV1(customerId: "c-1", erased: true))
    }

    func testTheErasedCustomersPersonalDataIsNowhereInThePartitionFile() throws {
        let persistence = ProfilePersistence()
        let location = PartitionStoreLocation(stateDirectory: directory, stage: "enrich", topic: EventV1.topic, partition: 0)
        let store = try PartitionStore(location: location, migrations: persistence.registerMigrations)
        try store.claimOwnership()
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-1")
        var offset: Int64 = 0
        // The profile is rewritten several times before the erasure, leaving old copies behind.
        for event in knownCustomer(&factory) {
            profile.apply(event, sentiment: -0.5)
            try commit([.put(profile)], offset: &offset, store: store, persistence: persistence)
        }
        let beforeErasure = try fileContents(location)
        XCTAssertTrue(personalData.allSatisfy { beforeErasure.range(of: Data($0.utf8)) != nil }, "the test must see the data it looks for")

        profile.apply(factory.event(.customerErasureRequested, day: 0), sentiment: nil)
        let erasure: [ProfileState.Change] = [.put(profile)]
        XCTAssertTrue(persistence.erasesPersonalData(erasure))
        try commit(erasure, offset: &offset, store: store, persistence: persistence)
        try store.scrubWriteAheadLog()

        let afterErasure = try fileContents(location)
        for text in personalData {
            XCTAssertNil(afterErasure.range(of: Data(text.utf8)), "\(text) is still in the partition's files")
        }
        let loaded = try store.read { db in
            try persistence.load(for: [factory.record(factory.event(.engagementWebResearched, day: 1, #"{"topic":"x"}"#))], from: db)
        }
        XCTAssertEqual(loaded.profile(of: "c-1").isErased, true)
    }

    private func commit(
        _ changes: [ProfileState.Change], offset: inout Int64, store: PartitionStore, persistence: ProfilePersistence
    ) throws {
        let entry = LedgerEntry(inputID: "in-\(offset)", position: RecordPosition(topic: EventV1.topic, partition: 0, offset: offset), verdict: .accepted)
        offset += 1
        try store.commit(nextOffset: offset, ledger: [entry]) { db in try persistence.save(changes, to: db) }
    }

    /// The database file and its write-ahead log, byte for byte.
    private func fileContents(_ location: PartitionStoreLocation) throws -> Data {
        var contents = try Data(contentsOf: location.url)
        let wal = URL(fileURLWithPath: location.url.path + "-wal")
        if FileManager.default.fileExists(atPath: wal.path) { contents += try Data(contentsOf: wal) }
        return contents
    }
}
