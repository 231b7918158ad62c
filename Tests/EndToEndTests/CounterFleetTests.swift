import Foundation
import LiaisonKafka
import LiaisonStage
import XCTest

/// The runtime's guarantees, proven on the counting stage run as separate processes over the
/// real test broker: state changes exactly once through SIGKILLs and through scaling.
final class CounterFleetTests: XCTestCase {
    private var cluster: TestCluster!
    private var state: StateDirectory!
    private var processes: [StageProcess] = []

    override func setUpWithError() throws {
        cluster = try TestCluster()
        state = StateDirectory()
    }

    override func tearDown() {
        for process in processes where process.process.isRunning {
            process.kill(SIGKILL)
            process.waitForExit()
        }
        if testRun?.hasSucceeded == true { state.remove() }
    }

    private func startCounter(name: String, input: String, output: String, dlq: String, extra: [String] = []) throws -> StageProcess {
        var arguments = [
            "--brokers", cluster.brokers, "--input", input, "--output", output, "--dlq-topic", dlq,
            "--name", name, "--state-dir", state.url.path, "--admin-port", "off", "--batch-max-records", "500",
            "--log-format", "json",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }
        let process = try StageProcess(
            executable: "liaison-counter", arguments: arguments + extra,
            logURL: state.url.appendingPathComponent("\(name).log"))
        processes.append(process)
        return process
    }

    private func total(_ stage: String) throws -> Int64 {
        try state.counts(stage: stage).values.reduce(0, +)
    }

    func testKillNineThreeTimesLosesNothingAndAppliesNothingTwice() throws {
        let records = 50_000
        let customers = 200
        let (input, middle, output, dlq) = (cluster.topic("crash.in"), cluster.topic("crash.mid"), cluster.topic("crash.out"), cluster.topic("crash.dlq"))
        try cluster.createTopics([
            TopicSpec(name: input, partitions: 4), TopicSpec(name: middle, partitions: 4),
            TopicSpec(name: output, partitions: 1), TopicSpec(name: dlq, partitions: 1),
        ])
        try cluster.produce(upstreamRecords(topic: input, count: records, customers: customers))
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)

        // The checker re-counts the counter's outputs: its ledger drops every re-produced output id.
        let checker = try startCounter(name: "checker", input: middle, output: output, dlq: dlq)
        var counter = try startCounter(name: "counter", input: input, output: middle, dlq: dlq)
        var kills: [Int64] = []
        for round in 0..<3 {
            let threshold = Int64(round * 14_000 + Int.random(in: 2_000...10_000))
            let reached = try eventually(timeout: 120) { try total("counter") >= threshold }
            XCTAssertTrue(reached, "counter never reached \(threshold) records before kill \(round + 1):\n\(counter.logTail)")
            counter.kill(SIGKILL)
            XCTAssertTrue(counter.waitForExit(timeout: 10))
            kills.append(try total("counter"))
            counter = try startCounter(name: "counter", input: input, output: middle, dlq: dlq)
        }
        print("counter killed with SIGKILL after \(kills) records were checkpointed")

        XCTAssertTrue(try eventually(timeout: 180) { try total("counter") >= Int64(records) }, counter.logTail)
        XCTAssertTrue(try eventually(timeout: 180) { try total("checker") >= Int64(records) }, checker.logTail)
        counter.kill(SIGTERM)
        checker.kill(SIGTERM)
        XCTAssertTrue(counter.waitForExit(), "counter ignored SIGTERM:\n\(counter.logTail)")
        XCTAssertTrue(checker.waitForExit(), "checker ignored SIGTERM:\n\(checker.logTail)")

        XCTAssertEqual(try state.counts(stage: "counter"), expectedCounts(count: records, customers: customers))
        let counterLedger = try state.ledgerIDs(stage: "counter")
        XCTAssertEqual(counterLedger.count, records)
        XCTAssertEqual(Set(counterLedger), Set((0..<records).map { "r-\($0)" }))

        // Every output id reached the middle topic at least once, and was counted exactly once.
        let checkerLedger = try state.ledgerIDs(stage: "checker")
        XCTAssertEqual(checkerLedger.count, records)
        XCTAssertEqual(Set(checkerLedger), Set((0..<records).map { "counter:r-\($0)" }))
        XCTAssertEqual(try total("checker"), Int64(records))
    }

    func testScalingOutToThreeAndBackToOneKeepsCountsExact() throws {
        let records = 30_000
        let customers = 300
        let (input, output, dlq) = (cluster.topic("scale.in"), cluster.topic("scale.out"), cluster.topic("scale.dlq"))
        try cluster.createTopics([
            TopicSpec(name: input, partitions: 6), TopicSpec(name: output, partitions: 6), TopicSpec(name: dlq, partitions: 1),
        ])
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
        let all = upstreamRecords(topic: input, count: records, customers: customers)

        // Records keep flowing in slices while members join and leave.
        let first = try startCounter(name: "counter", input: input, output: output, dlq: dlq)
        let slices = stride(from: 0, to: records, by: 1_000).map { Array(all[$0..<min($0 + 1_000, records)]) }
        var extra: [StageProcess] = []
        for (index, slice) in slices.enumerated() {
            try cluster.produce(slice)
            if index == 3 {
                extra.append(try startCounter(name: "counter", input: input, output: output, dlq: dlq))
                extra.append(try startCounter(name: "counter", input: input, output: output, dlq: dlq))
            }
            if index == 18 {
                for process in extra { process.kill(SIGTERM) }
                for process in extra { XCTAssertTrue(process.waitForExit(), process.logTail) }
            }
            Thread.sleep(forTimeInterval: 0.4)
        }
        XCTAssertTrue(try eventually(timeout: 180) { try total("counter") >= Int64(records) }, first.logTail)
        first.kill(SIGTERM)
        XCTAssertTrue(first.waitForExit(), first.logTail)

        // All three members really took part.
        for process in [first] + extra {
            let log = try String(contentsOf: process.logURL, encoding: .utf8)
            XCTAssertTrue(log.contains("partition assigned"))
        }
        XCTAssertEqual(try state.counts(stage: "counter"), expectedCounts(count: records, customers: customers))
        let ledger = try state.ledgerIDs(stage: "counter")
        XCTAssertEqual(ledger.count, records)
        XCTAssertEqual(Set(ledger).count, records)
        let outputs = try cluster.read(output, count: records)
        XCTAssertEqual(Set(outputs.map(\.defaultID)), Set((0..<records).map { "counter:r-\($0)" }))
    }
}
