import Foundation
import SchemaChecking
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import XCTest

/// `liaison-rules` as its own process over the test broker, with the default rule pack, killed
/// with SIGKILL around its timers' due time: every check-in reminder still comes out once (a
/// repeat on the topic would carry the same action id, which the notifier drops), and none
/// is reported missed.
final class RulesFleetTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var rules: StageProcess?
    private let rounds = 5
    private let bookingsPerRound = 8

    override func setUpWithError() throws {
        cluster = try TestCluster()
        state = StateDirectory()
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let rules, rules.process.isRunning {
            rules.kill(SIGKILL)
            rules.waitForExit()
        }
        if testRun?.hasSucceeded == true { state.remove() }
    }

    private static var defaultPack: String {
        SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml").path
    }

    private func booking(customer: String, booking: String, departure: Date) -> OutputRecord {
        let now = Timestamp(Date()).text
        let json = """
            {"event":{"specversion":"1.0","id":"\(booking)-confirmed","source":"e2e","type":"travel.booking.confirmed",\
            "time":"\(now)","subject":"\(customer)","data":{"bookingId":"\(booking)","flight":"LH 400","origin":"FRA",\
            "destination":"JFK","departure":"\(Timestamp(departure).text)"}},\
            "context":{"customerId":"\(customer)","erased":false,"recipient":{"email":"\(customer)@example.com","serviceConsent":true}}}
            """
        return OutputRecord(id: "enrich:\(booking)-confirmed", topic: "", key: Array(customer.utf8), value: Array(json.utf8))
    }

    private func start(_ arguments: [String]) throws -> StageProcess {
        try StageProcess(executable: "liaison-rules", arguments: arguments, logURL: state.url.appendingPathComponent("rules.log"))
    }

    func testACheckInReminderComesOutOnceWhenTheStageIsKilledAroundItsDueTime() throws {
        let enriched = cluster.topic("enriched")
        let actions = cluster.topic("actions")
        let dlq = cluster.topic("dlq")
        try cluster.createTopics([
            TopicSpec(name: enriched, partitions: 2), TopicSpec(name: actions, partitions: 2), TopicSpec(name: dlq, partitions: 1),
        ])
        var arguments = [
            "--brokers", cluster.brokers, "--input", enriched, "--output", actions, "--dlq-topic", dlq,
            "--rules", Self.defaultPack, "--state-dir", state.url.path, "--admin-port", "off", "--log-format", "json",
            "--group", "rules-\(cluster.runID)",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }

        var expected = 0
        for round in 1...rounds {
            let process = try start(arguments)
            rules = process
            // Due times spread over two seconds, starting eight seconds from now.
            let firstDue = Date().addingTimeInterval(8)
            let bookings = (0..<bookingsPerRound).map { index in
                booking(
                    customer: "cust-\(round)-\(index)", booking: "BK-\(round)-\(index)",
                    departure: firstDue.addingTimeInterval(86_400 + Double(index) * 0.25))
            }
            try cluster.produce(bookings.map { record in
                var routed = record
                routed.topic = enriched
                return routed
            })
            let scheduled = try eventually(timeout: 60) {
                Set(try state.ledgerIDs(stage: "rules")).isSuperset(of: bookings.map(\.id))
            }
            XCTAssertTrue(scheduled, process.logTail)
            let killAt = firstDue.addingTimeInterval(Double.random(in: -0.5...2.25))
            Thread.sleep(until: killAt)
            process.kill(SIGKILL)
            XCTAssertTrue(process.waitForExit(), "round \(round)")

            let restarted = try start(arguments)
            rules = restarted
            expected += bookingsPerRound
            // Counted by customer: a reminder produced just before the kill comes again with the same id.
            let delivered = try eventually(timeout: 90) {
                Set(try cluster.readAll(actions, quiet: 1, timeout: 20).compactMap(\.keyString)).count >= expected
            }
            XCTAssertTrue(delivered, "round \(round): \(restarted.logTail)")
            restarted.kill(SIGTERM)
            XCTAssertTrue(restarted.waitForExit(), restarted.logTail)
            print("round \(round): killed \(String(format: "%+.2f", killAt.timeIntervalSince(firstDue))) s from the first due time")
        }

        let records = try cluster.readAll(actions)
        let decoded = try records.map { try JSONValueDecoder().decode(ActionV1.self, from: $0.value) }
        var copies: [String: Int] = [:]
        for action in decoded { copies[action.id, default: 0] += 1 }
        let byCustomer = Dictionary(grouping: decoded, by: \.customerId)
        XCTAssertEqual(byCustomer.count, rounds * bookingsPerRound)
        for (customer, customerActions) in byCustomer {
            XCTAssertEqual(Set(customerActions.map(\.id)).count, 1, "\(customer) got \(customerActions.map(\.id))")
            XCTAssertEqual(customerActions.first?.kind, .engage, customer)
            XCTAssertEqual(customerActions.first?.ruleId, "checkin-reminder", customer)
            XCTAssertEqual(customerActions.first?.channelClass, .service, customer)
        }
        XCTAssertEqual(try cluster.readAll(dlq).count, 0)
        print("reminders: \(copies.count) distinct, \(records.count) records on the topic")
    }
}
