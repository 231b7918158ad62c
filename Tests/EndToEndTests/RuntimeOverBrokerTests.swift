import Counter
import CounterStore
import Foundation
import LiaisonKafka
@testable import LiaisonRuntime
import LiaisonSchema
import LiaisonStage
import Logging
import XCTest

/// The processing loop run in-process, against the test broker and the embedded broker.
final class RuntimeOverBrokerTests: XCTestCase {
    private var state: StateDirectory!

    override func setUp() {
        state = StateDirectory()
    }

    override func tearDown() {
        state.remove()
    }

    /// Runs the counting stage on a background thread until the returned closure is called.
    private func runCounter(
        brokers: String, input: String, output: String, dlq: String, kafka: [String: String] = [:]
    ) throws -> () -> Void {
        let settings = RuntimeSettings(
            brokers: brokers, kafka: TestCluster.groupProperties.merging(kafka) { _, new in new }, stateDirectory: state.url, groupID: "runtime-\(UUID())",
            inputTopics: [input], deadLetterTopic: dlq, batchMaxRecords: 100)
        let runtime = try StageRuntime(
            stage: CountingStage(outputTopic: output), persistence: CountPersistence(), settings: settings,
            logger: Logger(label: "test-runtime"))
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { try runtime.run() } catch { XCTFail("runtime failed: \(error)") }
            finished.signal()
        }
        thread.start()
        return {
            runtime.requestStop()
            XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "the runtime did not stop")
        }
    }

    func testAPoisonRecordLandsInTheDeadLetterTopicWhileTheRestIsProcessed() throws {
        let cluster = try TestCluster()
        let (input, output, dlq) = (cluster.topic("poison.in"), cluster.topic("poison.out"), cluster.topic("poison.dlq"))
        try cluster.createTopics([TopicSpec(name: input, partitions: 1), TopicSpec(name: output, partitions: 1), TopicSpec(name: dlq, partitions: 1)])
        var records = upstreamRecords(topic: input, count: 200, customers: 10)
        let poison = OutputRecord(
            id: "poison-1", topic: input, key: nil, value: Array("no key here".utf8),
            headers: [RecordHeader(name: "origin", string: "crm")])
        records.insert(poison, at: 100)
        try cluster.produce(records)

        let stop = try runCounter(brokers: cluster.brokers, input: input, output: output, dlq: dlq)
        XCTAssertTrue(try eventually(timeout: 60) { try state.counts(stage: "counter").values.reduce(0, +) >= 200 })
        stop()

        XCTAssertEqual(try state.counts(stage: "counter"), expectedCounts(count: 200, customers: 10))
        let letters = try cluster.read(dlq, count: 1)
        XCTAssertEqual(letters.count, 1)
        let letter = try JSONDecoder().decode(DeadLetterV1.self, from: Data(try XCTUnwrap(letters.first).value))
        XCTAssertEqual(letter.reason, "missing_key")
        XCTAssertEqual(letter.stage, "counter")
        XCTAssertEqual(letter.inputID, "poison-1")
        XCTAssertEqual(letter.source, .init(topic: input, partition: 0, offset: 100))
        XCTAssertEqual(Data(base64Encoded: letter.valueBase64), Data("no key here".utf8))
        XCTAssertFalse(letter.truncated)
        XCTAssertTrue(letter.headers.contains { $0.name == "origin" && Data(base64Encoded: $0.valueBase64) == Data("crm".utf8) })
        XCTAssertTrue(letter.message.contains("\(input)/0@100"), letter.message)
        XCTAssertEqual(letters.first?.header("liaison-dlq-reason"), Array("missing_key".utf8))

        let ledger = try state.ledgerIDs(stage: "counter")
        XCTAssertEqual(ledger.count, 201)
        XCTAssertTrue(ledger.contains("poison-1"))
    }

    func testAnOutputTooLargeToPublishIsDeadLetteredInsteadOfBlockingThePartition() throws {
        let cluster = try TestCluster()
        let (input, output, dlq) = (cluster.topic("large.in"), cluster.topic("large.out"), cluster.topic("large.dlq"))
        try cluster.createTopics([TopicSpec(name: input, partitions: 1), TopicSpec(name: output, partitions: 1), TopicSpec(name: dlq, partitions: 1)])
        var records = upstreamRecords(topic: input, count: 50, customers: 5)
        // The counting stage copies the key into its output: this one cannot be published under the limit below.
        let hugeKey = Array(repeating: UInt8(ascii: "k"), count: 150_000)
        records.insert(OutputRecord(id: "huge-1", topic: input, key: hugeKey, value: Array("{}".utf8)), at: 20)
        try cluster.produce(records)

        let stop = try runCounter(
            brokers: cluster.brokers, input: input, output: output, dlq: dlq, kafka: ["message.max.bytes": "100000"])
        XCTAssertTrue(try eventually(timeout: 60) { try state.counts(stage: "counter").values.reduce(0, +) >= 50 })
        stop()

        XCTAssertEqual(try state.counts(stage: "counter"), expectedCounts(count: 50, customers: 5))
        let letters = try cluster.read(dlq, count: 1)
        let letter = try JSONDecoder().decode(DeadLetterV1.self, from: Data(try XCTUnwrap(letters.first).value))
        XCTAssertEqual(letter.reason, "output_too_large")
        XCTAssertEqual(letter.inputID, "huge-1")
        XCTAssertTrue(letter.truncated)
        XCTAssertEqual(letter.valueBytes, 2)
        XCTAssertLessThan(letters[0].value.count, 100_000)
        XCTAssertTrue(letter.message.contains("message.max.bytes is 100000"), letter.message)
    }

    func testTheEmbeddedBrokerRunsTheSameRuntime() throws {
        let broker = try EmbeddedBroker()
        for topic in ["embedded.in", "embedded.out", "embedded.dlq"] { try broker.createTopic(topic, partitions: 2) }
        let producer = try KafkaProducer(properties: KafkaProperties(["bootstrap.servers": broker.bootstrapServers]))
        try producer.sendAndWait(upstreamRecords(topic: "embedded.in", count: 1_000, customers: 25))

        let stop = try runCounter(brokers: broker.bootstrapServers, input: "embedded.in", output: "embedded.out", dlq: "embedded.dlq")
        XCTAssertTrue(try eventually(timeout: 60) { try state.counts(stage: "counter").values.reduce(0, +) >= 1_000 })
        stop()
        XCTAssertEqual(try state.counts(stage: "counter"), expectedCounts(count: 1_000, customers: 25))
        XCTAssertEqual(state.files(stage: "counter").map(\.lastPathComponent), ["embedded.in-0.sqlite", "embedded.in-1.sqlite"])
    }

    func testARestartedRuntimeResumesAtItsCheckpointWithoutRecounting() throws {
        let cluster = try TestCluster()
        let (input, output, dlq) = (cluster.topic("resume.in"), cluster.topic("resume.out"), cluster.topic("resume.dlq"))
        try cluster.createTopics([TopicSpec(name: input, partitions: 2), TopicSpec(name: output, partitions: 1), TopicSpec(name: dlq, partitions: 1)])
        try cluster.produce(upstreamRecords(topic: input, count: 500, customers: 5))
        var stop = try runCounter(brokers: cluster.brokers, input: input, output: output, dlq: dlq)
        XCTAssertTrue(try eventually(timeout: 60) { try state.counts(stage: "counter").values.reduce(0, +) >= 500 })
        stop()

        // A new group id: Kafka knows no offsets for it, so only the SQLite checkpoint prevents a recount.
        try cluster.produce(upstreamRecords(topic: input, count: 800, customers: 5).suffix(300))
        stop = try runCounter(brokers: cluster.brokers, input: input, output: output, dlq: dlq)
        XCTAssertTrue(try eventually(timeout: 60) { try state.counts(stage: "counter").values.reduce(0, +) >= 800 })
        Thread.sleep(forTimeInterval: 1)
        stop()
        XCTAssertEqual(try state.counts(stage: "counter"), expectedCounts(count: 800, customers: 5))
    }
}
