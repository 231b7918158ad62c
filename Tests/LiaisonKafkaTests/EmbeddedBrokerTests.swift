import Foundation
import LiaisonKafka
import LiaisonStage
import Logging
import XCTest

/// The client types against librdkafka's in-process cluster: a real broker protocol over TCP.
final class EmbeddedBrokerTests: XCTestCase {
    private final class AcceptEverything: RebalanceListener {
        var assigned: [TopicPartition] = []
        func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
            assigned += partitions
            return [:]
        }
        func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {}
    }

    func testRecordsKeysAndHeadersRoundTripThroughTheEmbeddedBroker() throws {
        let broker = try EmbeddedBroker()
        XCTAssertTrue(broker.bootstrapServers.hasPrefix("127.0.0.1:") || broker.bootstrapServers.contains(":"))
        try broker.createTopic("round.trip", partitions: 2)

        let producer = try KafkaProducer(properties: KafkaProperties(["bootstrap.servers": broker.bootstrapServers]))
        let sent = (0..<200).map { index in
            OutputRecord(
                id: "r-\(index)", topic: "round.trip", key: Array("customer-\(index % 7)".utf8),
                value: Array("payload \(index)".utf8), headers: [RecordHeader(name: "trace", string: "t-\(index)")])
        }
        try producer.sendAndWait(sent)

        let listener = AcceptEverything()
        let consumer = try KafkaConsumer(
            properties: KafkaProperties(["bootstrap.servers": broker.bootstrapServers, "group.id": "round-trip"]),
            listener: listener, logger: Logger(label: "test"))
        try consumer.subscribe(["round.trip"])
        var received: [String: InputRecord] = [:]
        let deadline = Date().addingTimeInterval(30)
        while received.count < sent.count, Date() < deadline {
            if let record = try consumer.poll(timeoutMs: 100) { received[record.defaultID] = record }
        }
        consumer.close()

        XCTAssertEqual(Set(received.keys), Set(sent.map(\.id)))
        XCTAssertEqual(Set(listener.assigned.map(\.partition)), [0, 1])
        let sample = try XCTUnwrap(received["r-42"])
        XCTAssertEqual(sample.keyString, "customer-0")
        XCTAssertEqual(String(decoding: sample.value, as: UTF8.self), "payload 42")
        XCTAssertEqual(sample.header("trace"), Array("t-42".utf8))
        XCTAssertNotNil(sample.timestampMs)
    }

    func testARefusedPropertyIsNamedInTheError() {
        XCTAssertThrowsError(try KafkaProducer(properties: KafkaProperties(["no.such.property": "1"]))) { error in
            XCTAssertTrue("\(error)".contains("no.such.property"), "\(error)")
        }
    }

    func testDeliveryFailuresAreReportedNotSwallowed() throws {
        let broker = try EmbeddedBroker()
        try broker.createTopic("unreachable", partitions: 1)
        try broker.setBrokerDown(1)
        let producer = try KafkaProducer(properties: KafkaProperties([
            "bootstrap.servers": broker.bootstrapServers, "message.timeout.ms": "1500",
        ]))
        let record = OutputRecord(id: "x", topic: "unreachable", key: nil, value: [1])
        XCTAssertThrowsError(try producer.sendAndWait([record])) { error in
            XCTAssertTrue("\(error)".contains("delivery failed"), "\(error)")
        }
        try broker.setBrokerUp(1)
        try producer.sendAndWait([record])
    }
}
