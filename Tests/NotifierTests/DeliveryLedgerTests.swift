import Foundation
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Notifier
import NotifierStore
import XCTest

/// The delivery rows through their life in a real partition file: queued with the action's
/// checkpoint, claimed `attempting`, put back after a crash, recorded as retried or final,
/// forgotten on erasure.
final class DeliveryLedgerTests: XCTestCase {
    private var directory: URL!
    private let now = NotifierFixtures.noon
    private let persistence = NotifierPersistence(contactRetentionSeconds: 7 * 86_400)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("notifier-ledger-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func openStore() throws -> PartitionStore {
        let store = try PartitionStore(
            location: PartitionStoreLocation(stateDirectory: directory, stage: "notifier", topic: ActionV1.topic, partition: 0),
            durability: .full, migrations: persistence.registerMigrations)
        try store.claimOwnership()
        return store
    }

    private func enqueue(_ store: PartitionStore, _ actions: [ActionV1], dueIn: TimeInterval = 0) throws {
        let changes = actions.map { action in
            NotifierChange.enqueue(QueuedDelivery(
                action: action, source: .init(topic: ActionV1.topic, partition: 0, offset: 1), ladder: [.push, .email],
                dueAt: now.addingTimeInterval(dueIn), deadline: now.addingTimeInterval(3_600)))
        }
        try store.commit(nextOffset: 2, ledger: []) { db in try persistence.save(changes, to: db) }
    }

    private func claim(_ store: PartitionStore, at time: Date, limit: Int = 10) throws -> [QueuedDelivery] {
        var claimed: [QueuedDelivery] = []
        try store.commit(nextOffset: nil, ledger: []) { db in claimed = try DeliveryLedger.claimDue(at: time, limit: limit, in: db) }
        return claimed
    }

    func testQueuedDeliveriesAreClaimedWhenDueAndOnlyOnce() throws {
        let store = try openStore()
        try enqueue(store, [NotifierFixtures.action(id: "a@1"), NotifierFixtures.action(id: "b@1", customer: "cust-2")])
        try enqueue(store, [NotifierFixtures.action(id: "later@1")], dueIn: 600)
        XCTAssertEqual(try store.read { try DeliveryLedger.earliestDue(in: $0) }, now)
        let claimed = try claim(store, at: now)
        XCTAssertEqual(Set(claimed.map(\.actionID)), ["a@1", "b@1"])
        XCTAssertEqual(claimed.first { $0.actionID == "a@1" }?.action, NotifierFixtures.action(id: "a@1"), "the action reads back whole")
        XCTAssertEqual(try claim(store, at: now), [], "attempting rows are not claimed again")
        let entry = try XCTUnwrap(store.read { try DeliveryLedger.entry(for: "a@1", in: $0) })
        XCTAssertEqual(entry.status, "attempting")
        XCTAssertEqual(entry.idempotencyKey, "a@1/push")
        XCTAssertEqual(try store.read { try DeliveryLedger.earliestDue(in: $0) }, now.addingTimeInterval(600))
    }

    func testAnAttemptInterruptedByACrashIsRetriedWithTheSameKeyByTheNextOwner() throws {
        let store = try openStore()
        try enqueue(store, [NotifierFixtures.action(id: "a@1")])
        XCTAssertEqual(try claim(store, at: now).count, 1)

        let successor = try openStore()
        var requeued = 0
        try successor.commit(nextOffset: nil, ledger: []) { db in requeued = try DeliveryLedger.requeueAttempting(in: db) }
        XCTAssertEqual(requeued, 1)
        let retried = try claim(successor, at: now)
        XCTAssertEqual(retried.map { $0.idempotencyKey(for: $0.channel!) }, ["a@1/push"])
        XCTAssertThrowsError(try claim(store, at: now), "the old owner is fenced off") { error in
            guard case .fenced = error as? StoreError else { return XCTFail("expected fenced, got \(error)") }
        }
    }

    func testSettlementsRequeueOrFinishTheRow() throws {
        let store = try openStore()
        try enqueue(store, [NotifierFixtures.action(id: "a@1"), NotifierFixtures.action(id: "b@1")])
        let claimed = try claim(store, at: now)
        var retry = try XCTUnwrap(claimed.first { $0.actionID == "a@1" })
        retry.rung = 1
        retry.totalAttempts = 1
        retry.dueAt = now.addingTimeInterval(30)
        retry.failures = ["push: unregistered"]
        var sent = try XCTUnwrap(claimed.first { $0.actionID == "b@1" })
        sent.totalAttempts = 1
        try store.commit(nextOffset: nil, ledger: []) { db in
            try DeliveryLedger.record([
                Settlement(delivery: retry, status: nil, channel: .email, outputs: []),
                Settlement(delivery: sent, status: .sent, channel: .push, providerMessageID: "msg-7", outputs: []),
            ], at: now, in: db)
        }
        XCTAssertEqual(try claim(store, at: now.addingTimeInterval(29)), [])
        let again = try XCTUnwrap(try claim(store, at: now.addingTimeInterval(30)).first)
        XCTAssertEqual(again.channel, .email)
        XCTAssertEqual(again.failures, ["push: unregistered"])
        let final = try XCTUnwrap(store.read { try DeliveryLedger.entry(for: "b@1", in: $0) })
        XCTAssertEqual(final.status, "sent")
        XCTAssertEqual(final.providerMessageID, "msg-7")
        XCTAssertNil(final.dueAt)
        XCTAssertEqual(try store.read { try DeliveryLedger.pendingCount(in: $0) }, 1)
        try store.commit(nextOffset: nil, ledger: []) { db in
            XCTAssertEqual(try DeliveryLedger.pruneSettled(before: self.now.addingTimeInterval(1), in: db), 1)
        }
        XCTAssertNil(try store.read { try DeliveryLedger.entry(for: "b@1", in: $0) })
    }

    func testForgettingACustomerRemovesTheirDeliveriesAndContacts() throws {
        let store = try openStore()
        try enqueue(store, [NotifierFixtures.action(id: "a@1"), NotifierFixtures.action(id: "b@1", customer: "cust-2")])
        try store.commit(nextOffset: 3, ledger: []) { db in
            try persistence.save([
                .contact(customerID: "cust-1", ContactMark(channelClass: .marketing, atMs: now.epochMilliseconds)),
                .contact(customerID: "cust-2", ContactMark(channelClass: .marketing, atMs: now.epochMilliseconds)),
            ], to: db)
        }
        let records = ["cust-1", "cust-2"].map { InputRecord(position: .init(topic: ActionV1.topic, partition: 0, offset: 0), key: Array($0.utf8), value: []) }
        XCTAssertEqual(try store.read { try persistence.load(for: records, from: $0) }.contacts.count, 2)
        try store.commit(nextOffset: 4, ledger: []) { db in try persistence.save([.forget(customerID: "cust-1")], to: db) }
        XCTAssertTrue(persistence.erasesPersonalData([.forget(customerID: "cust-1")]))
        XCTAssertEqual(try claim(store, at: now).map(\.actionID), ["b@1"])
        XCTAssertEqual(try store.read { try persistence.load(for: records, from: $0) }.contacts.keys.sorted(), ["cust-2"])
    }

    func testOldContactsArePrunedWhenNewOnesAreWritten() throws {
        let store = try openStore()
        let old = now.addingTimeInterval(-8 * 86_400).epochMilliseconds
        try store.commit(nextOffset: 1, ledger: []) { db in
            try persistence.save([.contact(customerID: "cust-1", ContactMark(channelClass: .marketing, atMs: old))], to: db)
            try persistence.save([.contact(customerID: "cust-1", ContactMark(channelClass: .marketing, atMs: now.epochMilliseconds))], to: db)
        }
        let record = InputRecord(position: .init(topic: ActionV1.topic, partition: 0, offset: 0), key: Array("cust-1".utf8), value: [])
        XCTAssertEqual(try store.read { try persistence.load(for: [record], from: $0) }.contacts["cust-1"]?.count, 1)
    }
}
