import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import Logging
import Synchronization

/// What the fleet produced, read back from its output topics as any downstream consumer would:
/// actions, receipts, alerts, dead letters and the Kafka channels. Repeats (a stage restarted
/// after a crash may produce a record again) are counted once, by record id.
struct DemoTally: Sendable {
    struct Action: Sendable {
        var customer: String
        var rule: String
        var template: String
        var kind: ActionKind
        var locale: String?
        var createdAt: Date
    }

    struct DeadLetters: Sendable {
        var count = 0
        var example = ""
    }

    private(set) var actions: [String: Action] = [:]
    private(set) var actionOrder: [String] = []
    /// Receipts per action, in arrival order.
    private(set) var receipts: [String: [DeliveryReceiptV1]] = [:]
    /// Dead letters by stage and reason.
    private(set) var deadLetters: [String: [String: DeadLetters]] = [:]
    private(set) var alerts = 0
    private(set) var kafkaChannelMessages = 0
    private var seen: Set<String> = []

    mutating func take(_ record: InputRecord) {
        let id = record.defaultID
        guard seen.insert("\(record.position.topic) \(id)").inserted else { return }
        switch record.position.topic {
        case LiaisonTopics.actions:
            guard let action = try? JSONValueDecoder().decode(ActionV1.self, from: record.value) else { return }
            actions[action.id] = Action(
                customer: action.customerId, rule: action.ruleId, template: action.template, kind: action.kind,
                locale: action.recipient?.locale, createdAt: action.createdAt.date)
            actionOrder.append(action.id)
        case LiaisonTopics.deliveries:
            guard let receipt = try? JSONValueDecoder().decode(DeliveryReceiptV1.self, from: record.value) else { return }
            receipts[receipt.actionId, default: []].append(receipt)
        case LiaisonTopics.deadLetters:
            guard let letter = try? JSONValueDecoder().decode(DeadLetterV1.self, from: record.value) else { return }
            var entry = deadLetters[letter.stage, default: [:]][letter.reason, default: DeadLetters()]
            entry.count += 1
            if entry.example.isEmpty { entry.example = letter.message }
            deadLetters[letter.stage, default: [:]][letter.reason] = entry
        case LiaisonTopics.alerts:
            alerts += 1
        default:
            kafkaChannelMessages += 1
        }
    }

    /// The receipt that ended the action, if any has.
    func finalReceipt(of action: String) -> DeliveryReceiptV1? {
        receipts[action]?.last { $0.status.isFinal }
    }

    func wasDeferred(_ action: String) -> Bool {
        receipts[action]?.contains { $0.status == .deferred } ?? false
    }

    var finalReceipts: [DeliveryReceiptV1] { actionOrder.compactMap { finalReceipt(of: $0) } }

    /// Actions still without a final receipt (queued, deferred or in flight); an erasure's
    /// `forget` action ends without one.
    var openActions: Int { actionOrder.filter { actions[$0]?.kind != .forget && finalReceipt(of: $0) == nil }.count }
}

/// Reads the fleet's output topics on its own thread into a tally, from the beginning, in a
/// consumer group of its own so it never disturbs the stages.
final class DemoObserver: Sendable {
    private let tally = Mutex(DemoTally())
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    static let topics = [
        LiaisonTopics.actions, LiaisonTopics.deliveries, LiaisonTopics.deadLetters, LiaisonTopics.alerts,
        LiaisonTopics.agentTasks, LiaisonTopics.crmUpdates, LiaisonTopics.inbox,
    ]

    func start(properties: KafkaProperties) throws {
        let consumer = try KafkaConsumer(
            properties: properties.merging(["group.id": "liaison-demo-observer-\(UUID().uuidString)", "auto.offset.reset": "earliest"]),
            listener: CommittedOffsetsListener(), logger: Logger(label: "liaison.demo.observer"))
        try consumer.subscribe(Self.topics)
        let box = ConsumerBox(consumer)
        Thread.detachNewThread { [self] in
            while !stopping.load(ordering: .relaxed) {
                if let record = try? box.consumer.poll(timeoutMs: 100) {
                    tally.withLock { $0.take(record) }
                }
            }
            box.consumer.close()
            finished.store(true, ordering: .releasing)
        }
    }

    var snapshot: DemoTally { tally.withLock { $0 } }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.02) }
    }
}

/// Hands the consumer to the thread that alone polls it.
private final class ConsumerBox: @unchecked Sendable {
    let consumer: KafkaConsumer
    init(_ consumer: KafkaConsumer) { self.consumer = consumer }
}
