import Enrich
import Foundation
import GRDB
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import XCTest

/// `liaison-enrich` as its own process over the test broker: events and delivery receipts for
/// 300 customers, with repeats, a record keyed to the wrong customer and an erasure, come out as
/// one enriched event per event, with profiles that hold both topics' facts.
final class EnrichFleetTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var enrich: StageProcess?
    private let customers = 300
    /// 2026-06-30 at noon, UTC: the test's "today".
    private let todayMs: Int64 = 20_634 * 86_400_000 + 43_200_000

    override func setUpWithError() throws {
        cluster = try TestCluster()
        state = StateDirectory()
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let enrich, enrich.process.isRunning {
            enrich.kill(SIGKILL)
            enrich.waitForExit()
        }
        if testRun?.hasSucceeded == true { state.remove() }
    }

    private func event(_ id: String, _ type: EventType, customer: String, day: Int, _ data: String) -> OutputRecord {
        let time = Timestamp(epochMilliseconds: todayMs + Int64(day) * 86_400_000).text
        let json = """
            {"specversion":"1.0","id":"\(id)","source":"e2e","type":"\(type.rawValue)","time":"\(time)",\
            "subject":"\(customer)","datacontenttype":"application/json","data":\(data)}
            """
        return OutputRecord(id: "ingest:e2e|\(id)", topic: "", key: Array(customer.utf8), value: Array(json.utf8))
    }

    func testEventsAndReceiptsBuildOneProfilePerCustomerAndAnErasureLeavesNoPersonalData() throws {
        let events = cluster.topic("events")
        let deliveries = cluster.topic("deliveries")
        let enriched = cluster.topic("enriched")
        let dlq = cluster.topic("dlq")
        try cluster.createTopics([
            TopicSpec(name: events, partitions: 3), TopicSpec(name: deliveries, partitions: 3),
            TopicSpec(name: enriched, partitions: 3), TopicSpec(name: dlq, partitions: 1),
        ])

        var eventRecords: [OutputRecord] = []
        var receiptRecords: [OutputRecord] = []
        for index in 0..<customers {
            let customer = "cust-\(index)"
            eventRecords += [
                event("\(index)-p", .customerProfileUpdated, customer: customer, day: -60, """
                    {"name":"Person \(index)","birthYear":\(1950 + index % 60),"tier":"\(index % 3 == 0 ? "gold" : "standard")",\
                    "contact":{"email":"person.\(index)@example.com","device":"phone"},"consent":{"marketing":true}}
                    """),
                event("\(index)-t1", .bankingTransactionPosted, customer: customer, day: -40, """
                    {"accountId":"a-\(index)","accountType":"checking","amount":-500.00,"currency":"EUR","balanceAfter":3000.00}
                    """),
                event("\(index)-f", .engagementFeedbackReceived, customer: customer, day: -20, """
                    {"channel":"chat","text":"The staff were very rude and the app is terrible"}
                    """),
                event("\(index)-t2", .bankingTransactionPosted, customer: customer, day: -5, """
                    {"accountId":"a-\(index)","accountType":"checking","amount":-200.00,"currency":"EUR","balanceAfter":2800.00}
                    """),
                event("\(index)-r", .engagementWebResearched, customer: customer, day: 0, #"{"topic":"mortgage"}"#),
            ]
            var receipt = DeliveryReceiptV1(
                id: "d-\(index)", actionId: "a-\(index)", customerId: customer, status: .sent,
                at: Timestamp(epochMilliseconds: todayMs - 86_400_000), attempts: 1)
            receipt.channel = "push"
            receipt.template = "welcome"
            receiptRecords.append(OutputRecord(
                id: "notifier:d-\(index)", topic: deliveries, key: Array(customer.utf8), value: try JSONValueEncoder().encodeBytes(receipt)))
        }
        let repeats = Array(eventRecords.prefix(40))
        let erasure = event("7-erase", .customerErasureRequested, customer: "cust-7", day: 1, "{}")
        let afterErasure = event("7-after", .customerProfileUpdated, customer: "cust-7", day: 2, #"{"contact":{"email":"back.again@example.com"}}"#)
        var misKeyed = event("mis", .engagementWebResearched, customer: "cust-8", day: 0, #"{"topic":"cd"}"#)
        misKeyed.key = Array("cust-9".utf8)
        let allEvents = (eventRecords + repeats + [erasure, afterErasure, misKeyed]).map { record -> OutputRecord in
            var routed = record
            routed.topic = events
            return routed
        }
        try cluster.produce(allEvents)
        try cluster.produce(receiptRecords)

        var arguments = [
            "--brokers", cluster.brokers, "--input", events, "--input", deliveries, "--deliveries", deliveries,
            "--output", enriched, "--dlq-topic", dlq, "--state-dir", state.url.path, "--admin-port", "off",
            "--log-format", "json", "--group", "enrich-\(cluster.runID)",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }
        let process = try StageProcess(executable: "liaison-enrich", arguments: arguments, logURL: state.url.appendingPathComponent("enrich.log"))
        enrich = process

        let distinct = eventRecords.count + 3 + receiptRecords.count
        let finished = try eventually(timeout: 180) { try state.ledgerIDs(stage: "enrich").count >= distinct }
        XCTAssertTrue(finished, process.logTail)
        XCTAssertEqual(state.files(stage: "enrich").count, 3, "one file per partition number, shared by both topics")
        let verdicts = try state.verdicts(stage: "enrich")
        // cust-7's receipt is ignored when it comes after the erasure: the topics are read side by side.
        XCTAssertEqual(verdicts["accepted", default: 0] + verdicts["ignored", default: 0], eventRecords.count + 2 + receiptRecords.count)
        XCTAssertLessThanOrEqual(verdicts["ignored", default: 0], 1)
        XCTAssertEqual(verdicts["rejected"], 1)

        let outputs = try cluster.readAll(enriched)
        XCTAssertEqual(outputs.count, eventRecords.count + 2, "one enriched event per distinct, well-keyed event")
        var lastContext: [String: CustomerContextV1] = [:]
        for output in outputs {
            let record = try JSONValueDecoder().decode(EnrichedEventV1.self, from: output.value)
            XCTAssertEqual(output.keyString, record.event.subject)
            XCTAssertEqual(record.context.customerId, record.event.subject)
            if record.event.type == .engagementWebResearched { lastContext[record.event.subject] = record.context }
            if record.event.id == "7-erase" || record.event.id == "7-after" {
                XCTAssertEqual(record.context, CustomerContextV1(customerId: "cust-7", erased: true))
            }
        }
        // Windows of 30 days: the 500.00 debit (day −40) alone is the largest; plus 10 % → 550.00.
        let context = try XCTUnwrap(lastContext["cust-3"])
        XCTAssertEqual(context.checkingBalance, Decimal(string: "2800.00"))
        XCTAssertEqual(context.cashNeed, Decimal(string: "550.00"))
        XCTAssertEqual(context.surplus, Decimal(string: "2250.00"))
        XCTAssertEqual(context.segment, SegmentV1(tier: .gold, generation: "boomer"))
        XCTAssertLessThan(try XCTUnwrap(context.sentiment), -0.3, "rude and terrible")
        XCTAssertEqual(context.recipient?.email, "person.3@example.com")

        let letters = try cluster.readAll(dlq)
        XCTAssertEqual(try letters.map { try JSONDecoder().decode(DeadLetterV1.self, from: Data($0.value)).reason }, ["key_mismatch"])

        // Receipts and events met in the same profile, whichever partition file holds it.
        let profiles = try storedProfiles()
        XCTAssertEqual(profiles.count, customers)
        XCTAssertEqual(profiles["cust-3"]?.lastContactByChannel["push"], todayMs - 86_400_000)
        XCTAssertEqual(profiles["cust-3"]?.email?.value, "person.3@example.com")
        XCTAssertEqual(profiles["cust-7"]?.isErased, true)

        process.kill(SIGTERM)
        XCTAssertTrue(process.waitForExit(), process.logTail)
        let files = state.files(stage: "enrich").flatMap { [$0, URL(fileURLWithPath: $0.path + "-wal")] }
        for file in files where FileManager.default.fileExists(atPath: file.path) {
            let bytes = try Data(contentsOf: file)
            for text in ["person.7@example.com", "Person 7\"", "back.again@example.com"] {
                XCTAssertNil(bytes.range(of: Data(text.utf8)), "\(text) is still in \(file.lastPathComponent)")
            }
        }
    }

    private func storedProfiles() throws -> [String: CustomerProfile] {
        var profiles: [String: CustomerProfile] = [:]
        for file in state.files(stage: "enrich") {
            let rows = try DatabaseQueue(path: file.path).read { db in try Row.fetchAll(db, sql: "SELECT customer_id, profile FROM enrich_profiles") }
            for row in rows {
                let bytes: Data = row["profile"]
                profiles[row["customer_id"]] = try CustomerProfile(json: Array(bytes))
            }
        }
        return profiles
    }
}
