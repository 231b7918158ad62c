import Foundation
import GRDB
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Rules
import RulesStore
import Synchronization
import XCTest

/// A clock the test moves by hand.
final class SimulatedClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: String) {
        current = Mutex(Timestamp(start)!.date)
    }

    var now: Date { current.withLock { $0 } }

    func set(_ text: String) {
        current.withLock { $0 = Timestamp(text)!.date }
    }
}

/// The rules stage over one real partition file, driven the way the runtime drives it: each
/// enriched event is one committed batch, and `advance` fires what is due in simulated time.
/// `restart` drops the stage and the open file and opens them again, as a new process would.
final class RulesHarness {
    let pack: RulePack
    let clock: SimulatedClock
    let directory: URL
    private(set) var stage: RulesStage
    private(set) var store: PartitionStore
    let persistence: RulesPersistence
    private var nextOffset: Int64 = 0
    /// Every action produced, in order.
    private(set) var actions: [ActionV1] = []
    /// The raw output records behind `actions`, in the same order, as they would be published.
    private(set) var outputs: [OutputRecord] = []
    /// The raw bytes of every enriched record sent, in order (duplicates included).
    private(set) var sent: [[UInt8]] = []
    /// The ledger reason of each processed event, by event id.
    private(set) var verdicts: [String: (Verdict, String?)] = [:]

    init(pack: RulePack, start: String) throws {
        self.pack = pack
        clock = SimulatedClock(start)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        persistence = RulesPersistence(firingHorizonSeconds: pack.firingHorizonSeconds)
        let clock = self.clock
        stage = RulesStage(pack: pack, clock: { clock.now })
        store = try Self.open(directory, persistence)
    }

    convenience init(yaml: String, start: String) throws {
        try self.init(pack: try RulePack(yaml: yaml, origin: "test.yaml"), start: start)
    }

    static func defaultPack() throws -> RulePack {
        try RulePack(yaml: try RulePackLoadingTests.defaultPackText(), origin: "default.yaml")
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    private static func open(_ directory: URL, _ persistence: RulesPersistence) throws -> PartitionStore {
        let store = try PartitionStore(
            location: PartitionStoreLocation(stateDirectory: directory, stage: "rules", topic: EnrichedEventV1.topic, partition: 0),
            migrations: persistence.registerMigrations)
        try store.claimOwnership()
        return store
    }

    /// Processes one enriched record and commits it; returns the actions it produced.
    @discardableResult
    func send(_ enriched: [String: Any], key: String? = nil) throws -> [ActionV1] {
        let bytes = Array(try JSONSerialization.data(withJSONObject: enriched, options: [.sortedKeys]))
        sent.append(bytes)
        let context = enriched["context"] as? [String: Any]
        let event = enriched["event"] as? [String: Any]
        let record = InputRecord(
            position: RecordPosition(topic: EnrichedEventV1.topic, partition: 0, offset: nextOffset),
            key: Array((key ?? context?["customerId"] as? String ?? "").utf8), value: bytes,
            headers: [RecordHeader(name: recordIDHeader, string: "enrich:\(event?["id"] as? String ?? "")")])
        let inputID = stage.inputID(of: record, reading: stage.read(record))
        if try store.knownInputIDs([inputID]).contains(inputID) { return [] }
        let persistence = self.persistence
        let state = try store.read { db in try persistence.load(for: [record], from: db) }
        let effect = try stage.process(record, reading: stage.read(record), inputID: inputID, state: state)
        try store.commit(
            nextOffset: nextOffset + 1,
            ledger: [LedgerEntry(inputID: inputID, position: record.position, verdict: effect.verdict, reason: effect.reason, outputIDs: effect.outputs.map(\.id))],
            stageWrites: { db in try persistence.save(effect.changes, to: db) })
        nextOffset += 1
        verdicts[event?["id"] as? String ?? ""] = (effect.verdict, effect.reason)
        let produced = try effect.outputs.map(Self.action)
        actions += produced
        outputs += effect.outputs
        return produced
    }

    /// Moves the clock to `time` and fires every timer due by then, `limit` at a time, as the
    /// runtime's timer loop would; returns the actions that produced.
    @discardableResult
    func advance(to time: String, limit: Int = 1000) throws -> [ActionV1] {
        clock.set(time)
        var produced: [ActionV1] = []
        let persistence = self.persistence
        while true {
            let now = clock.now
            let (due, state) = try store.read { db in try persistence.loadDue(at: now, limit: limit, from: db) }
            guard !due.isEmpty else {
                actions += produced
                return produced
            }
            let effect = stage.fire(due, state: state, now: now)
            try store.commit(nextOffset: nil, ledger: [], stageWrites: { db in try persistence.save(effect.changes, to: db) })
            produced += try effect.outputs.map(Self.action)
            outputs += effect.outputs
        }
    }

    /// A new stage on the same file, as after a crash or a redeploy.
    func restart() throws {
        let clock = self.clock
        stage = RulesStage(pack: pack, clock: { clock.now })
        store = try Self.open(directory, persistence)
    }

    var pendingTimers: [PendingTimer] {
        get throws {
            try store.read { db in try persistence.loadDue(at: .distantFuture, limit: 1_000_000, from: db).due }
        }
    }

    func decisions(of customerId: String) throws -> [DecisionRecordV1] {
        try store.read { db in try persistence.decisions(of: customerId, from: db) }
    }

    static func action(_ output: OutputRecord) throws -> ActionV1 {
        XCTAssertEqual(output.topic, ActionV1.topic)
        let action = try JSONValueDecoder().decode(ActionV1.self, from: output.value)
        XCTAssertEqual(output.id, action.id)
        XCTAssertEqual(output.key, Array(action.customerId.utf8))
        return action
    }
}

/// Enriched records as enrich writes them: the CloudEvent and the customer's context.
enum Enriched {
    static func record(
        id: String, type: String, time: String, customer: String = "cust-1", data: [String: Any] = [:],
        context: [String: Any] = [:]
    ) -> [String: Any] {
        var fullContext: [String: Any] = ["customerId": customer, "erased": false]
        fullContext.merge(context) { _, new in new }
        return [
            "event": [
                "specversion": "1.0", "id": id, "source": "test", "type": type, "time": time, "subject": customer,
                "data": data,
            ] as [String: Any],
            "context": fullContext,
        ]
    }

    nonisolated(unsafe) static let recipient: [String: Any] = [
        "name": "Ana", "locale": "en-GB", "timeZone": "Europe/London", "email": "ana@example.com",
        "pushToken": "tok-1", "device": "phone", "marketingConsent": true, "serviceConsent": true,
    ]
}
