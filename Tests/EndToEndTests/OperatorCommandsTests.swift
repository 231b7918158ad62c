import Foundation
import LiaisonKafka
import LiaisonStage
import XCTest

/// `liaison replay`, `trace` and `dlq` as an operator runs them, over the test broker, after a
/// real `liaison-ingest` process has judged a handful of upstream records.
final class OperatorCommandsTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!

    override func setUpWithError() throws {
        cluster = try TestCluster()
        state = StateDirectory()
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: state.url)
    }

    private func liaison(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = state.url.appendingPathComponent("liaison-\(UUID().uuidString).log")
        let process = try StageProcess(executable: "liaison", arguments: arguments, logURL: log)
        XCTAssertTrue(process.waitForExit(timeout: 120), "liaison \(arguments.joined(separator: " ")) did not finish")
        return (process.process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    private func event(_ id: String, type: String, customer: String) -> OutputRecord {
        let data = type == "banking.check.deposited"
            ? #"{"accountId":"chk-1","depositId":"dep-\#(id)","amount":120.50,"currency":"USD","via":"mobile"}"#
            : #"{"accountId":"chk-1","accountType":"checking","amount":-12.00,"currency":"USD","balanceAfter":100.00,"description":"Coffee"}"#
        let value = #"{"specversion":"1.0","id":"\#(id)","source":"core-banking","type":"\#(type)","time":"2026-11-02T10:15:00Z","subject":"\#(customer)","data":\#(data)}"#
        return OutputRecord(id: id, topic: "", key: Array(customer.utf8), value: Array(value.utf8))
    }

    func testReplayTraceAndDeadLettersFollowRecordsThroughIngest() throws {
        let upstream = cluster.topic("sor.core-banking")
        let events = cluster.topic("events")
        let dlq = cluster.topic("dlq")
        let copy = cluster.topic("copy")
        let redriven = cluster.topic("redriven")
        try cluster.createTopics([upstream, events, dlq, copy, redriven].map { TopicSpec(name: $0, partitions: 2) })

        var records = (0..<6).map { index in
            event("txn-\(index)", type: index % 3 == 0 ? "banking.check.deposited" : "banking.transaction.posted", customer: "cust-\(index % 3)")
        }
        records.append(OutputRecord(id: "bad", topic: "", key: Array("cust-1".utf8), value: Array("[1, 2]".utf8)))
        try cluster.produce(records.map { var record = $0; record.topic = upstream; return record })

        var arguments = [
            "--brokers", cluster.brokers, "--input", upstream, "--output", events, "--dlq-topic", dlq,
            "--state-dir", state.url.path, "--admin-port", "off", "--log-format", "json", "--group", "ingest-\(cluster.runID)",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }
        let ingest = try StageProcess(executable: "liaison-ingest", arguments: arguments, logURL: state.url.appendingPathComponent("ingest.log"))
        let judged = try eventually(timeout: 120) { try state.ledgerIDs(stage: "ingest").count >= records.count }
        ingest.kill(SIGTERM)
        ingest.waitForExit()
        XCTAssertTrue(judged, ingest.logTail)

        // trace: from the upstream id to ingest's verdict and the event it emitted.
        let traced = try liaison(["trace", "txn-4", "--state-dir", state.url.path, "--brokers", cluster.brokers])
        XCTAssertEqual(traced.status, 0, traced.output)
        XCTAssertTrue(traced.output.contains("ingest"), traced.output)
        XCTAssertTrue(traced.output.contains("\(upstream)/"), traced.output)
        XCTAssertTrue(traced.output.contains("core-banking|txn-4  accepted"), traced.output)
        let unknown = try liaison(["trace", "no-such-record", "--state-dir", state.url.path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("no stage has a ledger entry for 'no-such-record'"), unknown.output)

        // replay into another topic, keeping only one type.
        let copied = try liaison(["replay", "--brokers", cluster.brokers, "--topic", upstream, "--to-topic", copy, "--type", "banking.check.deposited", "--quiet"])
        XCTAssertEqual(copied.status, 0, copied.output)
        XCTAssertTrue(copied.output.contains("copied 2 of 7 records"), copied.output)
        let copies = try cluster.read(copy, count: 2)
        XCTAssertEqual(Set(copies.map { String(decoding: $0.value, as: UTF8.self) }), Set(records.filter { $0.id == "txn-0" || $0.id == "txn-3" }.map { String(decoding: $0.value, as: UTF8.self) }))

        // replay by key, through ingest in a sandbox: what it would emit, nothing written.
        let sandbox = try liaison(["replay", "--brokers", cluster.brokers, "--topic", upstream, "--key", "cust-1", "--through", "ingest", "--quiet"])
        XCTAssertEqual(sandbox.status, 0, sandbox.output)
        XCTAssertTrue(sandbox.output.contains("ingest sandbox: 3 records, 2 accepted, 1 dead-lettered, 2 records it would emit"), sandbox.output)
        XCTAssertTrue(sandbox.output.contains("schema_violation"), sandbox.output)

        // a time range that starts after every record holds nothing.
        let late = try liaison(["replay", "--brokers", cluster.brokers, "--topic", upstream, "--from-time", "2100-01-01T00:00:00Z", "--to-topic", copy, "--quiet"])
        XCTAssertEqual(late.status, 0, late.output)
        XCTAssertTrue(late.output.contains("copied 0 of 0 records"), late.output)

        // dead letters: listed by reason, shown whole, re-driven with the original bytes.
        let listed = try liaison(["dlq", "list", "--brokers", cluster.brokers, "--topic", dlq])
        XCTAssertEqual(listed.status, 0, listed.output)
        XCTAssertTrue(listed.output.contains("schema_violation"), listed.output)
        XCTAssertTrue(listed.output.contains("1 dead letters"), listed.output)
        let shown = try liaison(["dlq", "show", "--brokers", cluster.brokers, "--topic", dlq, "--reason", "schema_violation"])
        XCTAssertTrue(shown.output.contains("value (6 bytes): [1, 2]"), shown.output)
        XCTAssertTrue(shown.output.contains("source:  \(upstream)/"), shown.output)
        let redrive = try liaison(["dlq", "redrive", "--brokers", cluster.brokers, "--topic", dlq, "--reason", "schema_violation", "--to-topic", redriven])
        XCTAssertEqual(redrive.status, 0, redrive.output)
        let again = try cluster.read(redriven, count: 1)
        XCTAssertEqual(again.first.map { String(decoding: $0.value, as: UTF8.self) }, "[1, 2]")
        XCTAssertEqual(again.first?.keyString, "cust-1")
    }
}
