import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import SchemaChecking
import XCTest

/// `liaison-notifier` as its own process over the test broker, delivering SMS to a real HTTP
/// provider on loopback. Killed with SIGKILL while the provider holds its answers (after the
/// call, before `sent` is recorded), the restarted notifier calls again with the same
/// idempotency keys: the provider sees each key twice and each customer gets one message, and
/// every action ends with exactly one `sent` receipt.
final class NotifierFleetTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var notifier: StageProcess?
    private var sink: HTTPSink!
    private let customers = 12

    override func setUp() async throws {
        cluster = try TestCluster()
        state = StateDirectory()
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
        sink = HTTPSink()
        try await sink.start()
    }

    override func tearDown() async throws {
        if let notifier, notifier.process.isRunning {
            notifier.kill(SIGKILL)
            notifier.waitForExit()
        }
        await sink?.stop()
        if testRun?.hasSucceeded == true { state.remove() }
    }

    private func action(customer: String) -> OutputRecord {
        var recipient = RecipientV1()
        recipient.name = "Ada"
        recipient.locale = "de"
        recipient.phone = "+49151000\(customer.suffix(2))"
        recipient.timeZone = "Europe/Berlin"
        let decision = DecisionRecordV1(
            ruleId: "check-deposit-confirmation", packVersion: "2026.11.1", inputIds: ["dep-\(customer)"], inputPositions: [],
            reads: JSONObject(), outcome: .fired)
        var action = ActionV1(
            id: "check-deposit-confirmation@dep-\(customer)", kind: .engage, customerId: customer, ruleId: "check-deposit-confirmation",
            template: "service.check-deposit-received", channelClass: .service, priority: .urgent, createdAt: Timestamp(Date()),
            payload: JSONObject([
                "depositId": .string("dep-\(customer)"), "accountId": .string("chk-1"), "amount": .number(JSONNumber(250)),
                "currency": .string("EUR"),
            ]),
            decision: decision)
        action.recipient = recipient
        return OutputRecord(id: action.id, topic: "", key: Array(customer.utf8), value: action.jsonBytes())
    }

    private func writeConfiguration(receipts: String, alerts: String) throws -> String {
        let file = state.url.appendingPathComponent("notifier.yaml")
        let templates = SchemaChecker.repositoryRoot.appendingPathComponent("schemas/templates").path
        try """
            templates: \(templates)
            ladders: { service: [sms] }
            retry: { initial: 200ms, max_delay: 1s, attempts_per_channel: 5 }
            topics: { receipts: \(receipts), alerts: \(alerts) }
            providers:
              sms:
                url: \(sink.url("/sms"))
                headers: { Authorization: "Bearer ${E2E_SMS_TOKEN}" }
                body: { to: address, text: text }
                message_id_field: id
                timeout: 30s
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    private func start(_ arguments: [String]) throws -> StageProcess {
        try StageProcess(
            executable: "liaison-notifier", arguments: arguments, logURL: state.url.appendingPathComponent("notifier.log"),
            environment: ["E2E_SMS_TOKEN": "token-e2e"])
    }

    func testAKillBetweenTheProviderCallAndTheSentRecordSendsEachMessageOnce() async throws {
        let actions = cluster.topic("actions")
        let receipts = cluster.topic("deliveries")
        let alerts = cluster.topic("alerts")
        let dlq = cluster.topic("dlq")
        try cluster.createTopics([
            TopicSpec(name: actions, partitions: 2), TopicSpec(name: receipts, partitions: 2), TopicSpec(name: alerts, partitions: 1),
            TopicSpec(name: dlq, partitions: 1),
        ])
        var arguments = [
            "--brokers", cluster.brokers, "--input", actions, "--dlq-topic", dlq,
            "--notifier-config", try writeConfiguration(receipts: receipts, alerts: alerts),
            "--state-dir", state.url.path, "--admin-port", "off", "--log-format", "json", "--group", "notifier-\(cluster.runID)",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }

        // The provider takes every message but holds its answer long enough to kill the notifier first.
        sink.script(SinkReply(status: 200, delay: .seconds(60)), path: "/sms")
        let ids = (0..<customers).map { String(format: "cust-%02d", $0) }
        try cluster.produce(ids.map { customer in
            var record = action(customer: customer)
            record.topic = actions
            return record
        })
        let first = try start(arguments)
        notifier = first
        let called = eventually(timeout: 60) { Set(sink.requests(path: "/sms").compactMap(\.idempotencyKey)).count == customers }
        XCTAssertTrue(called, first.logTail)
        first.kill(SIGKILL)
        XCTAssertTrue(first.waitForExit())
        XCTAssertEqual(try state.deliveryStatuses().values.filter { $0 == "attempting" }.count, customers, "killed after the calls, before `sent`")

        sink.script(.ok, path: "/sms")
        let restarted = try start(arguments)
        notifier = restarted
        let settled = try eventually(timeout: 60) { try state.deliveryStatuses().values.filter { $0 == "sent" }.count == customers }
        XCTAssertTrue(settled, restarted.logTail)
        restarted.kill(SIGTERM)
        XCTAssertTrue(restarted.waitForExit(), restarted.logTail)

        let requests = sink.requests(path: "/sms")
        for customer in ids {
            let key = "check-deposit-confirmation@dep-\(customer)/sms"
            XCTAssertEqual(sink.arrivals(ofKey: key), 2, "\(key): called before the kill and again after it, with the same key")
        }
        XCTAssertEqual(sink.deliveries, customers, "the provider delivered each message once")
        XCTAssertTrue(requests.allSatisfy { $0.header("Authorization") == "Bearer token-e2e" }, "the credential came from the environment")

        let decoded = try cluster.readAll(receipts).map { try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: $0.value) }
        XCTAssertEqual(Set(decoded.map(\.id)), Set(ids.map { "check-deposit-confirmation@dep-\($0):sent" }))
        XCTAssertTrue(decoded.allSatisfy { $0.status == .sent && $0.channel == "sms" && $0.providerMessageId != nil })
        XCTAssertEqual(try cluster.readAll(dlq, quiet: 1, timeout: 5).count, 0)
        let records = try cluster.readAll(receipts, quiet: 1).enumerated().map { ("receipt \($0.offset)", $0.element.value, "liaison.deliveries.v1") }
        let verdicts = try SchemaChecker.check(records)
        XCTAssertEqual(verdicts.count, records.count)
        for (name, verdict) in verdicts { XCTAssertTrue(verdict.valid, "\(name): \(verdict.message)") }
    }
}
