import Foundation
import Ingest
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import XCTest

/// `liaison-ingest` as its own process over the test broker: 10,000 upstream records in
/// CloudEvents structured and binary mode and as Debezium changes, valid, invalid and
/// repeated, come out as exactly the expected events and dead letters.
final class IngestFleetTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var ingest: StageProcess?

    override func setUpWithError() throws {
        cluster = try TestCluster()
        state = StateDirectory()
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let ingest, ingest.process.isRunning {
            ingest.kill(SIGKILL)
            ingest.waitForExit()
        }
        if testRun?.hasSucceeded == true { state.remove() }
    }

    /// What the test sent and what must come out of it.
    struct Plan {
        var records: [OutputRecord] = []
        var expectedEventIDs: Set<String> = []
        var expectedReasons: [String: Int] = [:]
        var ignored = 0
        var duplicates = 0
        /// Dead-lettered records by their position in `records`, to check the bytes came back whole.
        var rejectedValues: [String: [UInt8]] = [:]
    }

    func testTenThousandMixedRecordsBecomeExactlyTheExpectedEventsAndDeadLetters() throws {
        let banking = cluster.topic("sor.banking")
        let crm = cluster.topic("sor.crm")
        let events = cluster.topic("events")
        let dlq = cluster.topic("dlq")
        try cluster.createTopics([
            TopicSpec(name: banking, partitions: 3), TopicSpec(name: crm, partitions: 2),
            TopicSpec(name: events, partitions: 3), TopicSpec(name: dlq, partitions: 1),
        ])
        let plan = makePlan(banking: banking, crm: crm, total: 10_000)
        XCTAssertEqual(plan.records.count, 10_000)
        try cluster.produce(plan.records, properties: ["message.max.bytes": "4000000"])

        let config = state.url.appendingPathComponent("ingest.yaml")
        try """
            topics:
              \(banking): {format: cloudevents}
              \(crm): {format: debezium, mapping: crm-cases}
            mappings:
              crm-cases:
                source: crm
                id: "case-{row.case_id}-{op}-{source.lsn}"
                subject: row.customer_id
                events:
                  - when: {op: [c, r]}
                    type: crm.case.opened
                    data: {caseId: {path: row.case_id, as: string}, topic: row.topic}
                  - when: {op: [u]}
                    ignore: true
            """.write(to: config, atomically: true, encoding: .utf8)
        var arguments = [
            "--brokers", cluster.brokers, "--ingest-config", config.path, "--output", events, "--dlq-topic", dlq,
            "--state-dir", state.url.path, "--admin-port", "off", "--log-format", "json", "--group", "ingest-\(cluster.runID)",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }
        let process = try StageProcess(executable: "liaison-ingest", arguments: arguments, logURL: state.url.appendingPathComponent("ingest.log"))
        ingest = process

        // Once every record has its ledger row, everything ingest will ever write is written.
        let rejected = plan.expectedReasons.values.reduce(0, +)
        let finished = try eventually(timeout: 240) { try state.ledgerIDs(stage: "ingest").count >= plan.records.count - plan.duplicates }
        XCTAssertTrue(finished, process.logTail)
        XCTAssertEqual(try state.ledgerIDs(stage: "ingest").count, plan.records.count - plan.duplicates)
        let produced = try cluster.readAll(events)
        let letters = try cluster.readAll(dlq)
        XCTAssertEqual(produced.count, plan.expectedEventIDs.count)
        XCTAssertEqual(letters.count, rejected)

        var ids: [String] = []
        for record in produced {
            let event = try EventV1(bytes: record.value)
            ids.append(NormalizedEvent.ledgerID(source: event.source, id: event.id))
            XCTAssertEqual(record.keyString, event.subject)
            XCTAssertNotNil(event.traceparent)
            XCTAssertEqual(event.sourcetopic.map { [banking, crm].contains($0) }, true)
        }
        XCTAssertEqual(ids.count, Set(ids).count, "an event came out twice")
        XCTAssertEqual(Set(ids), plan.expectedEventIDs)

        var reasons: [String: Int] = [:]
        for record in letters {
            let letter = try JSONDecoder().decode(DeadLetterV1.self, from: Data(record.value))
            reasons[letter.reason, default: 0] += 1
            XCTAssertEqual(letter.stage, "ingest")
            XCTAssertFalse(letter.message.isEmpty)
            let original = try XCTUnwrap(plan.rejectedValues[letterKey(letter)], "a dead letter for a record the test did not send as bad")
            if !letter.truncated { XCTAssertEqual(Data(base64Encoded: letter.valueBase64).map { [UInt8]($0) }, original) }
        }
        XCTAssertEqual(reasons, plan.expectedReasons)

        let verdicts = try state.verdicts(stage: "ingest")
        XCTAssertEqual(verdicts["accepted"], plan.expectedEventIDs.count)
        XCTAssertEqual(verdicts["ignored"], plan.ignored)
        XCTAssertEqual(verdicts["rejected"], rejected)
        process.kill(SIGTERM)
        XCTAssertTrue(process.waitForExit(), process.logTail)
    }

    /// Dead letters keep the original headers, so each is matched to what was sent by the test's sequence header.
    private func letterKey(_ letter: DeadLetterV1) -> String {
        let upstream = letter.headers.first { $0.name == "upstream-seq" }.flatMap { Data(base64Encoded: $0.valueBase64) }
        return upstream.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    private func makePlan(banking: String, crm: String, total: Int) -> Plan {
        var plan = Plan()
        var generator = SeededGenerator(seed: 20_261_123)
        let hostile = Self.hostileValues
        func add(_ topic: String, key: String?, value: [UInt8], headers: [RecordHeader] = []) {
            let seq = "\(plan.records.count)"
            plan.records.append(OutputRecord(
                id: "upstream-\(seq)", topic: topic, key: key.map { Array($0.utf8) }, value: value,
                headers: headers + [RecordHeader(name: "upstream-seq", string: seq)]))
        }
        var sent: [(topic: String, key: String, value: [UInt8], headers: [RecordHeader])] = []
        while plan.records.count < total {
            let customer = "cust-\(generator.next() % 700)"
            let roll = generator.next() % 100
            let n = plan.records.count
            switch roll {
            case 0..<62:
                let value = Array(Self.transaction(id: "txn-\(n)", customer: customer, amount: "-\(n % 900).\(n % 100)").utf8)
                add(banking, key: customer, value: value)
                sent.append((banking, customer, value, []))
                plan.expectedEventIDs.insert(NormalizedEvent.ledgerID(source: "core-banking", id: "txn-\(n)"))
            case 62..<72:
                let headers = [
                    RecordHeader(name: "ce_specversion", string: "1.0"), RecordHeader(name: "ce_id", string: "web-\(n)"),
                    RecordHeader(name: "ce_source", string: "web"), RecordHeader(name: "ce_type", string: "engagement.web.researched"),
                    RecordHeader(name: "ce_time", string: "2026-11-20T09:00:00+01:00"), RecordHeader(name: "ce_subject", string: customer),
                    RecordHeader(name: "content-type", string: "application/json"),
                ]
                let value = Array(#"{"topic":"mortgage"}"#.utf8)
                add(banking, key: customer, value: value, headers: headers)
                sent.append((banking, customer, value, headers))
                plan.expectedEventIDs.insert(NormalizedEvent.ledgerID(source: "web", id: "web-\(n)"))
            case 72..<80:
                let row = #"{"case_id":\#(n),"customer_id":"\#(customer)","topic":"card"}"#
                add(crm, key: "\(n)", value: Array(Self.debezium(op: "c", row: row, lsn: n).utf8))
                plan.expectedEventIDs.insert(NormalizedEvent.ledgerID(source: "crm", id: "case-\(n)-c-\(n)"))
            case 80..<82:
                let row = #"{"case_id":\#(n),"customer_id":"\#(customer)","topic":"card"}"#
                add(crm, key: "\(n)", value: Array(Self.debezium(op: "u", row: row, lsn: n).utf8))
                plan.ignored += 1
            case 82..<83:
                add(crm, key: "\(n)", value: [])
                plan.ignored += 1
            case 83..<91 where !sent.isEmpty:
                let original = sent[Int(generator.next() % UInt64(sent.count))]
                add(original.topic, key: original.key, value: original.value, headers: original.headers)
                plan.duplicates += 1
            default:
                let (reason, value) = hostile[Int(generator.next() % UInt64(hostile.count))]
                add(banking, key: customer, value: value)
                plan.expectedReasons[reason, default: 0] += 1
                plan.rejectedValues["\(plan.records.count - 1)"] = value
            }
        }
        return plan
    }

    static func transaction(id: String, customer: String, amount: String, time: String = "2026-11-02T10:15:00Z") -> String {
        #"{"specversion":"1.0","id":"\#(id)","source":"core-banking","type":"banking.transaction.posted","time":"\#(time)","#
            + #""subject":"\#(customer)","data":{"accountId":"chk-1","accountType":"checking","amount":\#(amount),"currency":"USD","#
            + #""balanceAfter":18250.00,"description":"Grocery"}}"#
    }

    static func debezium(op: String, row: String, lsn: Int) -> String {
        #"{"before":null,"after":\#(row),"source":{"ts_ms":1763800000000,"table":"cases","lsn":\#(lsn)},"op":"\#(op)","ts_ms":1763800000100}"#
    }

    /// Bad records of every kind, each with the reason ingest must give.
    static let hostileValues: [(String, [UInt8])] = {
        let valid = transaction(id: "bad", customer: "cust-1", amount: "1")
        return [
            ("invalid_json", Array(valid.utf8.prefix(40))),
            ("invalid_json", Array("{\"specversion\":\"1.0\",}".utf8)),
            ("invalid_json", Array(valid.replacingOccurrences(of: "\"amount\":1", with: "\"amount\":NaN").utf8)),
            ("invalid_utf8", Array(valid.utf8.prefix(30)) + [0xC0, 0xAF] + Array(valid.utf8.dropFirst(30))),
            ("duplicate_key", Array(valid.replacingOccurrences(of: "\"subject\"", with: "\"id\":\"again\",\"subject\"").utf8)),
            ("too_deep", Array(repeating: UInt8(ascii: "["), count: 5000)),
            ("too_large", Array(valid.replacingOccurrences(of: "Grocery", with: String(repeating: "g", count: 1_100_000)).utf8)),
            ("schema_violation", Array(valid.replacingOccurrences(of: "\"amount\":1", with: "\"amount\":\"1\"").utf8)),
            ("schema_violation", Array(valid.replacingOccurrences(of: "2026-11-02T10:15:00Z", with: "2026-02-30T10:15:00Z").utf8)),
            ("unknown_type", Array(valid.replacingOccurrences(of: "transaction.posted", with: "transaction.reversed").utf8)),
            ("missing_subject", Array(valid.replacingOccurrences(of: "\"subject\":\"cust-1\",", with: "").utf8)),
            ("future_timestamp", Array(valid.replacingOccurrences(of: "2026-11-02T10:15:00Z", with: "2099-01-01T00:00:00Z").utf8)),
            ("empty_record", []),
        ]
    }()
}

/// A small seedable generator, so a failing run can be repeated with the same records.
struct SeededGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
