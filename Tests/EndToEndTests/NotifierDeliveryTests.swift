import Foundation
import LiaisonKafka
import LiaisonRuntime
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import Logging
import Notifier
import NotifierRuntime
import NotifierStore
import SchemaChecking
import Synchronization
import XCTest

/// The notifier's runtime and delivery engine in this process, over the test broker, delivering
/// to real HTTP providers on loopback that fail on command: retries, fallback down the ladder,
/// the circuit breaker, and quiet hours in a simulated clock.
final class NotifierDeliveryTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var sink: HTTPSink!
    private var topics: NotifierTopics!
    private var actionsTopic = ""
    private let clock = TestClock(Date())

    override func setUp() async throws {
        cluster = try TestCluster()
        state = StateDirectory()
        sink = HTTPSink()
        try await sink.start()
        actionsTopic = cluster.topic("actions")
        topics = NotifierTopics(
            receipts: cluster.topic("deliveries"), alerts: cluster.topic("alerts"), deadLetters: cluster.topic("dlq"),
            agentTasks: cluster.topic("agent"), crm: cluster.topic("crm"), inbox: cluster.topic("inbox"))
        try cluster.createTopics([actionsTopic, topics.receipts, topics.alerts, topics.deadLetters, topics.agentTasks, topics.crm, topics.inbox].map {
            TopicSpec(name: $0, partitions: 1)
        })
    }

    override func tearDown() async throws {
        await sink?.stop()
        if testRun?.hasSucceeded == true { state.remove() }
    }

    /// Runs the notifier until `done` holds (or 60 s pass), then stops it.
    private func runNotifier(_ yaml: String, until done: @escaping () throws -> Bool) async throws {
        let configuration = try NotifierConfiguration(
            yaml: """
                templates: \(SchemaChecker.repositoryRoot.appendingPathComponent("schemas/templates").path)
                topics: { receipts: \(topics.receipts), alerts: \(topics.alerts), agent_tasks: \(topics.agentTasks), crm: \(topics.crm), inbox: \(topics.inbox) }
                \(yaml)
                """,
            origin: "test", baseDirectory: URL(fileURLWithPath: "/"), environment: [:])
        let clock = self.clock
        let settings = RuntimeSettings(
            brokers: cluster.brokers, kafka: TestCluster.groupProperties, stateDirectory: state.url, groupID: "notifier-\(cluster.runID)",
            inputTopics: [actionsTopic], deadLetterTopic: topics.deadLetters, durability: .full, clock: { clock.now })
        var logger = Logger(label: "notifier-test")
        logger.logLevel = .warning
        let engine = try NotifierAssembly.engine(
            configuration: configuration, catalog: try TemplateCatalog(directory: configuration.templatesDirectory), settings: settings,
            logger: logger)
        let runtime = try StageRuntime(
            stage: NotifierStage(policy: configuration.policy, topics: configuration.topics, clock: settings.clock),
            persistence: NotifierPersistence(contactRetentionSeconds: 86_400), settings: settings, logger: logger, companion: engine)
        let engineTask = Task { try await engine.run() }
        let thread = Thread { try? runtime.run() }
        thread.start()
        let finished = try eventually(timeout: 60, done)
        runtime.requestStop()
        engineTask.cancel()
        _ = try? await engineTask.value
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertTrue(finished, "the notifier did not finish in time; sink saw \(sink.requestCount) requests")
    }

    private func produce(_ actions: [ActionV1]) throws {
        try cluster.produce(actions.map { OutputRecord(id: $0.id, topic: actionsTopic, key: Array($0.customerId.utf8), value: $0.jsonBytes()) })
    }

    private func action(_ customer: String, priority: ActionPriority = .high, quietHours: (String, String)? = nil) -> ActionV1 {
        var recipient = RecipientV1()
        recipient.name = "Ada"
        recipient.locale = "en"
        recipient.timeZone = "UTC"
        recipient.phone = "+4915100000001"
        recipient.pushToken = "push-\(customer)"
        recipient.device = .phone
        recipient.quietHours = quietHours.map { CustomerProfileUpdatedV1.QuietHours(start: $0.0, end: $0.1) }
        var action = ActionV1(
            id: "check-deposit-confirmation@dep-\(customer)", kind: .engage, customerId: customer, ruleId: "check-deposit-confirmation",
            template: "service.check-deposit-received", channelClass: .service, priority: priority, createdAt: Timestamp(clock.now),
            payload: JSONObject([
                "depositId": .string("dep-\(customer)"), "accountId": .string("chk-1"), "amount": .number(JSONNumber(250)), "currency": .string("EUR"),
            ]),
            decision: DecisionRecordV1(ruleId: "check-deposit-confirmation", packVersion: "test", inputIds: [], inputPositions: [], reads: JSONObject(), outcome: .fired))
        action.recipient = recipient
        return action
    }

    private func receipts() throws -> [DeliveryReceiptV1] {
        try cluster.readAll(topics.receipts, quiet: 1, timeout: 10).map { try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: $0.value) }
    }

    private var providers: String {
        """
        providers:
          push: { url: "\(sink.url("/push"))", body: { token: address, title: subject, body: text }, message_id_field: id, timeout: 2s }
          sms: { url: "\(sink.url("/sms"))", body: { to: address, text: text }, message_id_field: id, timeout: 2s }
        """
    }

    func testFailuresAreRetriedWithBackOffThenTheNextChannelTakesOver() async throws {
        sink.script(SinkReply(status: 503, retryAfter: "0"), path: "/push")
        sink.script([SinkReply(status: 500), .ok], path: "/sms")
        try produce([action("cust-1")])
        try await runNotifier("""
            ladders: { service: [push, sms] }
            retry: { initial: 50ms, max_delay: 200ms, attempts_per_channel: 2 }
            circuit_breaker: { failures: 100 }
            \(providers)
            """) { try self.state.deliveryStatuses().values.contains("sent") }
        XCTAssertEqual(sink.arrivals(ofKey: "check-deposit-confirmation@dep-cust-1/push"), 2)
        XCTAssertEqual(sink.arrivals(ofKey: "check-deposit-confirmation@dep-cust-1/sms"), 2)
        let receipt = try XCTUnwrap(receipts().first)
        XCTAssertEqual(receipt.status, .sent)
        XCTAssertEqual(receipt.channel, "sms")
        XCTAssertEqual(receipt.attempts, 4)
    }

    func testAnOpenCircuitSendsEveryoneDownTheLadderWithoutCallingTheProvider() async throws {
        sink.script(SinkReply(status: 503), path: "/push")
        let customers = (1...8).map { "cust-\($0)" }
        try produce(customers.map { action($0) })
        try await runNotifier("""
            ladders: { service: [push, sms] }
            retry: { initial: 50ms, max_delay: 100ms, attempts_per_channel: 1 }
            circuit_breaker: { failures: 2, cool_down: 60s }
            max_in_flight: 1
            \(providers)
            """) { try self.state.deliveryStatuses().values.filter { $0 == "sent" }.count == customers.count }
        XCTAssertEqual(sink.requests(path: "/push").count, 2, "the breaker opened after two failures")
        XCTAssertEqual(sink.requests(path: "/sms").count, customers.count)
        XCTAssertEqual(Set(try receipts().filter { $0.status == .sent }.map(\.channel)), ["sms"])
    }

    func testQuietHoursDeferAndDeliverWhenTheWindowOpens() async throws {
        clock.set(Date(timeIntervalSince1970: 1_795_473_000))  // 2026-11-23 22:30 UTC
        try produce([action("cust-q", priority: .normal, quietHours: ("22:00", "07:00")), action("cust-u", priority: .urgent, quietHours: ("22:00", "07:00"))])
        try await runNotifier("""
            ladders: { service: [sms] }
            \(providers)
            """) {
            let statuses = try self.state.deliveryStatuses()
            if statuses["check-deposit-confirmation@dep-cust-q"] == "queued" && statuses["check-deposit-confirmation@dep-cust-u"] == "sent" {
                self.clock.set(Date(timeIntervalSince1970: 1_795_503_600))  // 07:00 the next morning
            }
            return statuses.values.filter { $0 == "sent" }.count == 2
        }
        let byCustomer = Dictionary(grouping: try receipts(), by: \.customerId)
        XCTAssertEqual(byCustomer["cust-u"]?.map(\.status), [.sent], "urgent messages ignore quiet hours")
        XCTAssertEqual(byCustomer["cust-q"]?.map(\.status), [.deferred, .sent])
        XCTAssertEqual(byCustomer["cust-q"]?.first?.deferredUntil?.date, Date(timeIntervalSince1970: 1_795_503_600))
        let sms = sink.requests(path: "/sms")
        XCTAssertEqual(sms.count, 2)
        XCTAssertEqual(sms.last?.idempotencyKey, "check-deposit-confirmation@dep-cust-q/sms", "the deferred one went out last")
    }
}

/// The wall clock, shifted by hand: it goes on ticking from whatever time it was set to.
private final class TestClock: Sendable {
    private let offset: Mutex<TimeInterval>

    init(_ start: Date) {
        offset = Mutex(start.timeIntervalSinceNow)
    }

    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func set(_ date: Date) {
        offset.withLock { $0 = date.timeIntervalSinceNow }
    }
}
