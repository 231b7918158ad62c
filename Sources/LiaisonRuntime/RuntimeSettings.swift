import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonStore

/// Everything the processing loop needs to know, already validated.
public struct RuntimeSettings: Sendable {
    public var brokers: String
    /// librdkafka properties passed to both the consumer and the producer.
    public var kafka: [String: String]
    public var stateDirectory: URL
    public var groupID: String
    public var inputTopics: [String]
    /// The input topics are keyed alike and have as many partitions each, and the stage keeps one
    /// state per partition number across them (enrich: a customer's events and delivery
    /// receipts update one profile). Partition p of every input topic is then assigned to the
    /// same member (the range assignor) and processed one batch at a time.
    public var copartitionedInputs: Bool
    public var deadLetterTopic: String
    public var batchMaxRecords: Int
    public var batchMaxWait: Duration
    public var durability: Durability
    public var readyMaxLag: Int64
    /// How long ledger rows are kept: the horizon within which a redelivered record is
    /// recognised. nil keeps them forever.
    public var ledgerRetention: Duration?
    /// nil turns the admin HTTP endpoint off; port 0 picks a free port.
    public var adminPort: Int?
    public var adminHost: String
    public var logFormat: LogFormat
    public var logLevel: String
    /// Logs record payloads, which hold personal data: for debugging on test data only.
    public var debugPayloads: Bool
    /// At most this many timers fire per second in this process, so the backlog found after
    /// downtime is released steadily rather than as one burst.
    public var timerReleaseRate: Int
    /// The wall clock timers are due by; tests inject their own.
    public var clock: @Sendable () -> Date

    public init(
        brokers: String, kafka: [String: String] = [:], stateDirectory: URL, groupID: String, inputTopics: [String],
        copartitionedInputs: Bool = false, deadLetterTopic: String = DeadLetterV1.topic, batchMaxRecords: Int = 2000, batchMaxWait: Duration = .milliseconds(100),
        durability: Durability = .normal, readyMaxLag: Int64 = 1000, ledgerRetention: Duration? = .seconds(7 * 86_400),
        adminPort: Int? = nil, adminHost: String = "127.0.0.1", logFormat: LogFormat = .text, logLevel: String = "info",
        debugPayloads: Bool = false, timerReleaseRate: Int = 1000, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.brokers = brokers
        self.kafka = kafka
        self.stateDirectory = stateDirectory
        self.groupID = groupID
        self.inputTopics = inputTopics
        self.copartitionedInputs = copartitionedInputs
        self.deadLetterTopic = deadLetterTopic
        self.batchMaxRecords = batchMaxRecords
        self.batchMaxWait = batchMaxWait
        self.durability = durability
        self.readyMaxLag = readyMaxLag
        self.ledgerRetention = ledgerRetention
        self.adminPort = adminPort
        self.adminHost = adminHost
        self.logFormat = logFormat
        self.logLevel = logLevel
        self.debugPayloads = debugPayloads
        self.timerReleaseRate = timerReleaseRate
        self.clock = clock
    }

    var ledgerRetentionMs: Int64? {
        ledgerRetention.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 }
    }

    var consumerProperties: KafkaProperties {
        var properties = KafkaProperties(kafka).merging(["bootstrap.servers": brokers, "group.id": groupID])
        if copartitionedInputs { properties = properties.merging(["partition.assignment.strategy": "range"]) }
        return properties
    }

    public var producerProperties: KafkaProperties {
        KafkaProperties(kafka.filter { !Self.consumerOnlyProperties.contains($0.key) })
            .merging(["bootstrap.servers": brokers])
    }

    /// Consumer settings librdkafka would warn about (or refuse) on a producer.
    static let consumerOnlyProperties: Set<String> = [
        "group.id", "group.instance.id", "max.poll.interval.ms", "session.timeout.ms", "heartbeat.interval.ms",
        "auto.offset.reset", "partition.assignment.strategy", "fetch.min.bytes", "fetch.wait.max.ms",
        "fetch.max.bytes", "max.partition.fetch.bytes", "queued.min.messages", "queued.max.messages.kbytes",
        "isolation.level", "enable.auto.commit", "enable.auto.offset.store", "auto.commit.interval.ms",
        "group.protocol.type", "check.crcs", "enable.partition.eof",
    ]
}

public enum LogFormat: String, Sendable, CaseIterable {
    case json
    case text
}
