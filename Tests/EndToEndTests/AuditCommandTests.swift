import AsyncHTTPClient
import Foundation
import GRDB
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import NIOCore
import XCTest

/// `liaison audit` after a real run: ingest, enrich, rules and the notifier as their own
/// processes over the test broker, delivering push, SMS, email and webhooks to sinks on loopback.
/// The settled fleet passes with the expected counts; then a lost ledger row, a second final
/// receipt and a message no receipt accounts for are each caught with a non-zero exit.
final class AuditCommandTests: XCTestCase {
    private var fleet: TestFleet!
    private var cluster: TestCluster { fleet.cluster }
    private var topics: [String: String] { fleet.topics }
    private let customers = 20

    override func setUp() async throws {
        fleet = TestFleet(cluster: try TestCluster())
        try await fleet.start()
    }

    override func tearDown() async throws {
        await fleet?.tearDown(succeeded: testRun?.hasSucceeded == true)
    }

    // MARK: The run

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
            profiles.append(fleet.upstreamEvent("\(index)-profile", .customerProfileUpdated, customer: customer, """
                {"name":"Person \(index)","locale":"en","timeZone":"UTC","tier":"standard","contact":\(contact)}
                """))
            others.append(fleet.upstreamEvent("\(index)-deposit", .bankingCheckDeposited, customer: customer, """
                {"accountId":"chk-\(index)","depositId":"dep-\(index)","amount":120.50,"currency":"EUR","via":"mobile"}
                """))
            if index < 10 {
                others.append(fleet.upstreamEvent("\(index)-invoice", .financeInvoicePaid, customer: customer, """
                    {"invoiceId":"inv-\(index)","orderId":"ord-\(index)","amount":99.00,"currency":"EUR"}
                    """))
            }
        }
        for index in 0..<48 {
            others.append(fleet.upstreamEvent("txn-\(index)", .bankingTransactionPosted, customer: "cust-\(index % customers)", """
                {"accountId":"chk-\(index % customers)","accountType":"checking","amount":-12.00,"currency":"EUR","balanceAfter":800.00}
                """))
        }
        let repeated = others.last!
        var broken = repeated
        broken.value = Array(#"{"specversion":"1.0","id":"broken""#.utf8)
        return (profiles + others + [repeated, broken], "e2e-fleet|txn-47")
    }

    private func produceReceipt(_ receipt: DeliveryReceiptV1) throws {
        try cluster.produce([OutputRecord(
            id: receipt.id, topic: topics["deliveries"]!, key: Array(receipt.customerId.utf8), value: try JSONValueEncoder().encodeBytes(receipt))])
    }

    func testAuditPassesASettledRunAndCatchesALostRecordASecondReceiptAndAnExtraDelivery() async throws {
        try fleet.createTopics(partitions: [:])
        let (records, repeated) = upstreamRecords()
        XCTAssertEqual(records.count, 100)
        try cluster.produce(records)
        try fleet.startAll()
        let actions = customers + 10
        let settled = try eventually(timeout: 240) {
            let statuses = try fleet.state.deliveryStatuses()
            return statuses.count == actions && statuses.values.allSatisfy { $0 == "sent" }
        }
        XCTAssertTrue(settled, fleet.logTails)
        fleet.stopAll()

        let passed = try fleet.auditCounts()
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
        let copied = try fleet.audit()
        XCTAssertEqual(copied.status, 0, copied.output)
        XCTAssertNotNil(copied.output.range(of: #"redelivered copies\s+1"#, options: .regularExpression), copied.output)
        XCTAssertTrue(copied.output.contains("consumers de-duplicate by id"), copied.output)

        // A lost record: one of ingest's verdicts removed from its ledger.
        let (file, lostOffset) = try removeIngestRow(sparing: repeated)
        let lost = try fleet.audit()
        XCTAssertNotEqual(lost.status, 0, lost.output)
        XCTAssertTrue(lost.output.contains("lost [ingest] \(topics["upstream"]!)/\(FleetPartition.of(file))@\(lostOffset)"), lost.output)

        // A second, different final receipt for an action that was sent.
        let sent = try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: receiptRecord.value)
        var failed = sent
        failed.status = .failed
        failed.id = "\(sent.actionId):failed"
        failed.reason = "made up by the test"
        try produceReceipt(failed)
        let conflicting = try fleet.audit()
        XCTAssertNotEqual(conflicting.status, 0, conflicting.output)
        XCTAssertTrue(conflicting.output.contains("conflicting-final-receipts [notifier] \(topics["actions"]!)/"), conflicting.output)
        XCTAssertTrue(conflicting.output.contains(" \(sent.actionId): 2 different final receipts"), conflicting.output)

        // The same SMS again under its key, as after a crash between the provider's answer and
        // the `sent` record: counted, not a discrepancy. Then an SMS no receipt accounts for.
        let key = try XCTUnwrap(fleet.sink.requests(path: "/sms").first?.idempotencyKey)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        for sentKey in [key, "\(key)-extra"] {
            var request = HTTPClientRequest(url: fleet.sink.url("/sms"))
            request.method = .POST
            request.headers.add(name: "Idempotency-Key", value: sentKey)
            request.body = .bytes(ByteBuffer(string: "{}"))
            let answer = try await client.execute(request, timeout: .seconds(5))
            XCTAssertEqual(answer.status.code, 200)
        }
        try await client.shutdown()
        let extra = try fleet.audit()
        XCTAssertNotEqual(extra.status, 0, extra.output)
        XCTAssertTrue(extra.output.contains("1 messages were sent again under the same idempotency key and 0 under the same Message-ID (e.g. \(key))"), extra.output)
        XCTAssertTrue(extra.output.contains("channel-count-mismatch [notifier] sms: 7 actions have a sent receipt for sms, but the sinks hold 8"), extra.output)
        XCTAssertTrue(extra.output.contains("audit FAILED: 3 discrepancies"), extra.output)
    }

    /// Deletes an accepted row from the middle of one of ingest's files (not the repeated
    /// record's, whose repeat would be lost too); returns the file and the row's offset.
    private func removeIngestRow(sparing repeated: String) throws -> (URL, Int64) {
        let file = try XCTUnwrap(fleet.state.files(stage: "ingest").first)
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
