import AsyncHTTPClient
import Foundation
import GRDB
import LiaisonKafka
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import NIOCore
import SchemaChecking
import XCTest

/// `liaison audit` after a real run: ingest, enrich, rules and the notifier as their own
/// processes over the test broker, delivering push, SMS, email and webhooks to sinks on loopback.
/// The settled fleet passes with the expected counts; then a lost ledger row, a second final
/// receipt and a message delivered twice are each caught with a non-zero exit.
final class AuditCommandTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var mail: SMTPSink!
    private var sink: HTTPSink!
    private var stages: [StageProcess] = []
    private var topics: [String: String] = [:]
    private let customers = 20

    override func setUp() async throws {
        cluster = try TestCluster()
        state = StateDirectory()
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
        mail = SMTPSink()
        try await mail.start()
        sink = HTTPSink(configuration: HTTPSink.Configuration(servesReport: true, reportedMail: mail))
        try await sink.start()
        for name in ["upstream", "events", "enriched", "actions", "deliveries", "dlq", "alerts", "agent", "crm", "inbox"] {
            topics[name] = cluster.topic(name)
        }
    }

    override func tearDown() async throws {
        for stage in stages where stage.process.isRunning {
            stage.kill(SIGKILL)
            stage.waitForExit()
        }
        await sink?.stop()
        await mail?.stop()
        if testRun?.hasSucceeded == true { state.remove() }
    }

    // MARK: The run

    private func event(_ id: String, _ type: EventType, customer: String, _ data: String) -> OutputRecord {
        let json = """
            {"specversion":"1.0","id":"\(id)","source":"e2e-audit","type":"\(type.rawValue)","time":"\(Timestamp(Date()).text)",\
            "subject":"\(customer)","datacontenttype":"application/json","data":\(data)}
            """
        return OutputRecord(id: id, topic: topics["upstream"]!, key: Array(customer.utf8), value: Array(json.utf8))
    }

    /// 100 upstream records: a profile and a mobile check deposit per customer (an action each,
    /// by push, SMS or email as the contact allows), ten paid invoices (a CRM update by webhook),
    /// transactions that ask for nothing, one repeat of a transaction and one broken record.
    private func upstreamRecords() -> (records: [OutputRecord], repeated: String) {
        var profiles: [OutputRecord] = []
        var others: [OutputRecord] = []
        for index in 0..<customers {
            let customer = "cust-\(index)"
            let contact = switch index % 3 {
            case 0: #"{"email":"p\#(index)@example.com","phone":"+4915100000\#(index + 10)","pushToken":"push-\#(index)","device":"phone"}"#
            case 1: #"{"email":"p\#(index)@example.com","phone":"+4915100000\#(index + 10)"}"#
            default: #"{"email":"p\#(index)@example.com"}"#
            }
            profiles.append(event("\(index)-profile", .customerProfileUpdated, customer: customer, """
                {"name":"Person \(index)","locale":"en","timeZone":"UTC","tier":"standard","contact":\(contact)}
                """))
            others.append(event("\(index)-deposit", .bankingCheckDeposited, customer: customer, """
                {"accountId":"chk-\(index)","depositId":"dep-\(index)","amount":120.50,"currency":"EUR","via":"mobile"}
                """))
            if index < 10 {
                others.append(event("\(index)-invoice", .financeInvoicePaid, customer: customer, """
                    {"invoiceId":"inv-\(index)","orderId":"ord-\(index)","amount":99.00,"currency":"EUR"}
                    """))
            }
        }
        for index in 0..<48 {
            others.append(event("txn-\(index)", .bankingTransactionPosted, customer: "cust-\(index % customers)", """
                {"accountId":"chk-\(index % customers)","accountType":"checking","amount":-12.00,"currency":"EUR","balanceAfter":800.00}
                """))
        }
        let repeated = others.last!
        var broken = repeated
        broken.value = Array(#"{"specversion":"1.0","id":"broken""#.utf8)
        return (profiles + others + [repeated, broken], "e2e-audit|txn-47")
    }

    private func writeNotifierConfiguration() throws -> String {
        let file = state.url.appendingPathComponent("notifier.yaml")
        let secret = Data((0..<24).map { UInt8($0) }).base64EncodedString()
        try """
            templates: \(SchemaChecker.repositoryRoot.appendingPathComponent("schemas/templates").path)
            default_locale: en
            ladders: { service: [push, sms, email], crm-update: [webhook] }
            retry: { initial: 200ms, max_delay: 1s, attempts_per_channel: 5 }
            topics: { receipts: \(topics["deliveries"]!), alerts: \(topics["alerts"]!), agent_tasks: \(topics["agent"]!), crm: \(topics["crm"]!), inbox: \(topics["inbox"]!) }
            providers:
              email: { host: 127.0.0.1, port: \(mail.port), security: plain, from: engage@liaison.test }
              sms: { url: "\(sink.url("/sms"))", idempotency_header: Idempotency-Key, body: { to: address, text: text }, message_id_field: id, timeout: 10s }
              push: { url: "\(sink.url("/push"))", idempotency_header: Idempotency-Key, body: { token: address, title: subject, body: text }, message_id_field: id, timeout: 10s }
              webhooks:
                default: { url: "\(sink.url("/webhook"))", secret: "whsec_\(secret)", timeout: 10s }
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    private func startFleet() throws {
        var common = ["--brokers", cluster.brokers, "--dlq-topic", topics["dlq"]!, "--state-dir", state.url.path, "--admin-port", "off", "--log-format", "json"]
        for (key, value) in TestCluster.groupProperties { common += ["--kafka", "\(key)=\(value)"] }
        let pack = SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml").path
        let notifierFile = try writeNotifierConfiguration()
        let fleet: [(String, [String])] = [
            ("liaison-ingest", ["--input", topics["upstream"]!, "--output", topics["events"]!]),
            ("liaison-enrich", ["--input", topics["events"]!, "--input", topics["deliveries"]!, "--deliveries", topics["deliveries"]!, "--output", topics["enriched"]!]),
            ("liaison-rules", ["--input", topics["enriched"]!, "--output", topics["actions"]!, "--rules", pack]),
            ("liaison-notifier", ["--input", topics["actions"]!, "--notifier-config", notifierFile]),
        ]
        for (executable, arguments) in fleet {
            stages.append(try StageProcess(
                executable: executable, arguments: common + arguments + ["--group", "\(executable)-\(cluster.runID)"],
                logURL: state.url.appendingPathComponent("\(executable).log")))
        }
    }

    private func stopFleet() {
        for stage in stages { stage.kill(SIGTERM) }
        for stage in stages { XCTAssertTrue(stage.waitForExit(), stage.logTail) }
    }

    private var logTails: String {
        stages.map { "\($0.process.executableURL?.lastPathComponent ?? ""):\n\($0.logTail)" }.joined(separator: "\n")
    }

    // MARK: The audit

    private func audit(json: Bool = false) throws -> (status: Int32, output: String) {
        var arguments = [
            "audit", "--brokers", cluster.brokers, "--state-dir", state.url.path, "--upstream", topics["upstream"]!,
            "--actions-topic", topics["actions"]!, "--deliveries-topic", topics["deliveries"]!, "--sinks", sink.baseURL,
        ]
        if json { arguments.append("--json") }
        let log = state.url.appendingPathComponent("audit-\(UUID().uuidString).log")
        let process = try StageProcess(executable: "liaison", arguments: arguments, logURL: log)
        XCTAssertTrue(process.waitForExit(timeout: 120), "liaison audit did not finish")
        return (process.process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    /// Each check's counts by name, from `--json`.
    private func auditCounts() throws -> (status: Int32, counts: [String: [String: Int]], output: String) {
        let (status, output) = try audit(json: true)
        let line = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") }, output)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
        var counts: [String: [String: Int]] = [:]
        for check in checks { counts[check["name"] as! String] = check["counts"] as? [String: Int] }
        return (status, counts, output)
    }

    private func produceReceipt(_ receipt: DeliveryReceiptV1) throws {
        try cluster.produce([OutputRecord(
            id: receipt.id, topic: topics["deliveries"]!, key: Array(receipt.customerId.utf8), value: try JSONValueEncoder().encodeBytes(receipt))])
    }

    func testAuditPassesASettledRunAndCatchesALostRecordASecondReceiptAndADuplicateDelivery() async throws {
        try cluster.createTopics(
            ["upstream", "events", "deliveries", "enriched", "actions"].map { TopicSpec(name: topics[$0]!, partitions: 2) }
                + ["dlq", "alerts", "agent", "crm", "inbox"].map { TopicSpec(name: topics[$0]!, partitions: 1) })
        let (records, repeated) = upstreamRecords()
        XCTAssertEqual(records.count, 100)
        try cluster.produce(records)
        try startFleet()
        let actions = customers + 10
        let settled = try eventually(timeout: 240) {
            let statuses = try state.deliveryStatuses()
            return statuses.count == actions && statuses.values.allSatisfy { $0 == "sent" }
        }
        XCTAssertTrue(settled, logTails)
        stopFleet()

        let passed = try auditCounts()
        XCTAssertEqual(passed.status, 0, passed.output)
        XCTAssertEqual(passed.counts["upstream-verdicts"]?["upstream_records"], 100)
        XCTAssertEqual(passed.counts["upstream-verdicts"]?["accepted"], 98)
        XCTAssertEqual(passed.counts["upstream-verdicts"]?["rejected"], 1)
        XCTAssertEqual(passed.counts["upstream-verdicts"]?["repeats_dropped"], 1)
        XCTAssertEqual(passed.counts["stage-handoffs"]?["events_reached_enrich"], 98)
        XCTAssertEqual(passed.counts["stage-handoffs"]?["enriched_reached_rules"], 98)
        XCTAssertEqual(passed.counts["receipts"]?["actions"], actions)
        XCTAssertEqual(passed.counts["receipts"]?["final_sent"], actions)
        let sinks = try XCTUnwrap(passed.counts["sink-deliveries"])
        XCTAssertEqual(["push", "sms", "email", "webhook"].map { sinks["sent_receipts_\($0)"] }, [7, 7, 6, 10])
        XCTAssertEqual(["push", "sms", "email", "webhook"].map { sinks["sink_deliveries_\($0)"] }, [7, 7, 6, 10])

        // A byte-identical receipt record again, as after a crash between produce and checkpoint.
        let receiptRecord = try XCTUnwrap(try cluster.readAll(topics["deliveries"]!, quiet: 1).first)
        try cluster.produce([OutputRecord(
            id: "copy", topic: topics["deliveries"]!, key: receiptRecord.key, value: receiptRecord.value, headers: receiptRecord.headers)])
        let copied = try audit()
        XCTAssertEqual(copied.status, 0, copied.output)
        XCTAssertNotNil(copied.output.range(of: #"redelivered copies\s+1"#, options: .regularExpression), copied.output)
        XCTAssertTrue(copied.output.contains("consumers de-duplicate by id"), copied.output)

        // A lost record: one of ingest's verdicts removed from its ledger.
        let (file, lostOffset) = try removeIngestRow(sparing: repeated)
        let lost = try audit()
        XCTAssertNotEqual(lost.status, 0, lost.output)
        XCTAssertTrue(lost.output.contains("lost [ingest] \(topics["upstream"]!)/\(FleetPartition.of(file))@\(lostOffset)"), lost.output)

        // A second, different final receipt for an action that was sent.
        let sent = try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: receiptRecord.value)
        var failed = sent
        failed.status = .failed
        failed.id = "\(sent.actionId):failed"
        failed.reason = "made up by the test"
        try produceReceipt(failed)
        let conflicting = try audit()
        XCTAssertNotEqual(conflicting.status, 0, conflicting.output)
        XCTAssertTrue(conflicting.output.contains("conflicting-final-receipts [notifier] \(topics["actions"]!)/"), conflicting.output)
        XCTAssertTrue(conflicting.output.contains(" \(sent.actionId): 2 different final receipts"), conflicting.output)

        // The same SMS accepted by the provider twice.
        let key = try XCTUnwrap(sink.requests(path: "/sms").first?.idempotencyKey)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        var request = HTTPClientRequest(url: sink.url("/sms"))
        request.method = .POST
        request.headers.add(name: "Idempotency-Key", value: key)
        request.body = .bytes(ByteBuffer(string: "{}"))
        let answer = try await client.execute(request, timeout: .seconds(5))
        try await client.shutdown()
        XCTAssertEqual(answer.status.code, 200)
        let duplicated = try audit()
        XCTAssertNotEqual(duplicated.status, 0, duplicated.output)
        XCTAssertTrue(duplicated.output.contains("sink-duplicate [notifier] \(key): the HTTP sink accepted this idempotency key on /sms more than once"), duplicated.output)
        XCTAssertTrue(duplicated.output.contains("audit FAILED: 3 discrepancies"), duplicated.output)
    }

    /// Deletes an accepted row from the middle of one of ingest's files (not the repeated
    /// record's, whose repeat would be lost too); returns the file and the row's offset.
    private func removeIngestRow(sparing repeated: String) throws -> (URL, Int64) {
        let file = try XCTUnwrap(state.files(stage: "ingest").first)
        let offset = try DatabaseQueue(path: file.path).write { db -> Int64 in
            let offset = try XCTUnwrap(Int64.fetchOne(
                db, sql: """
                    SELECT "offset" FROM liaison_ledger WHERE verdict = 'accepted' AND input_id != ?
                    ORDER BY "offset" LIMIT 1 OFFSET 10
                    """, arguments: [repeated]))
            try db.execute(sql: #"DELETE FROM liaison_ledger WHERE "offset" = ?"#, arguments: [offset])
            return offset
        }
        return (file, offset)
    }
}

/// The partition a state file is named after: `<topic>-<partition>.sqlite`.
private enum FleetPartition {
    static func of(_ file: URL) -> Int32 {
        Int32(file.deletingPathExtension().lastPathComponent.split(separator: "-").last ?? "") ?? -1
    }
}
