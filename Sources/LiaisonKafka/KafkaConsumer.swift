import CRdKafka
import LiaisonStage
import Logging

/// One partition of one topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }
}

/// Told about partition moves, on the polling thread, while the rebalance is in progress.
public protocol RebalanceListener: AnyObject {
    /// Returns where each newly assigned partition starts; a partition left out starts at
    /// the group's committed offset (or `auto.offset.reset` when there is none).
    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64]
    /// Called before the partitions leave this member; `lost` means another member may
    /// already own them, so nothing more may be written for them.
    func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool)
}

/// For consumers that keep no checkpoints of their own (tools, benchmarks, tests): every
/// partition starts at the group's committed offset, and nothing is owed on revocation.
public final class CommittedOffsetsListener: RebalanceListener {
    public init() {}
    public func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] { [:] }
    public func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {}
}

/// A group consumer polled from exactly one thread, with the cooperative-sticky assignor so
/// a rebalance only moves the partitions that must move.
public final class KafkaConsumer {
    private let handle: OpaquePointer
    private let bridge: RebalanceBridge
    private var topicNames: [OpaquePointer: String] = [:]
    private var closed = false

    /// Settings the runtime depends on: it commits offsets itself, after each checkpoint.
    public static let requiredProperties = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
    ]

    public init(properties: KafkaProperties, listener: RebalanceListener, logger: Logger) throws(KafkaError) {
        guard properties["group.id"] != nil else {
            throw KafkaError(message: "the consumer needs a group.id")
        }
        let conf = try properties.withDefaults([
            "partition.assignment.strategy": "cooperative-sticky",
            "auto.offset.reset": "earliest",
        ]).merging(Self.requiredProperties).makeConf()
        bridge = RebalanceBridge(listener: listener, logger: logger)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(bridge).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { handle, err, partitions, opaque in
            guard let handle, let partitions, let opaque else { return }
            Unmanaged<RebalanceBridge>.fromOpaque(opaque).takeUnretainedValue()
                .rebalance(handle: handle, err: err, partitions: partitions)
        }
        handle = try makeHandle(RD_KAFKA_CONSUMER, conf: conf, role: "consumer")
        rd_kafka_poll_set_consumer(handle)
    }

    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let err = rd_kafka_subscribe(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "cannot subscribe to \(topics.joined(separator: ", "))")
        }
    }

    /// Returns the next record, or nil when none arrived within the timeout. Rebalance
    /// callbacks run inside this call. Transient client errors are logged and skipped;
    /// a fatal one is thrown.
    public func poll(timeoutMs: Int32) throws(KafkaError) -> InputRecord? {
        guard let message = rd_kafka_consumer_poll(handle, timeoutMs) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
            var errstr = [CChar](repeating: 0, count: 512)
            let fatal = rd_kafka_fatal_error(handle, &errstr, errstr.count)
            if fatal != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(fatal, context: "the consumer hit a fatal error")
            }
            bridge.logger.warning("consumer error", metadata: ["error": "\(String(cString: rd_kafka_err2str(m.err)))"])
            return nil
        }
        let topic = topicName(m.rkt)
        var headers: [RecordHeader] = []
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(message, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(RecordHeader(name: String(cString: name!), value: bytes(value, size)))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        return InputRecord(
            position: RecordPosition(topic: topic, partition: m.partition, offset: m.offset),
            key: m.key.map { bytes($0, m.key_len) },
            value: bytes(m.payload, m.len),
            headers: headers,
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }

    /// Commits group offsets without waiting, so lag tools see progress; SQLite stays the truth.
    public func commitAsync(_ offsets: [TopicPartition: Int64]) {
        guard !offsets.isEmpty else { return }
        let list = partitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            bridge.logger.debug("offset commit not sent", metadata: ["error": "\(String(cString: rd_kafka_err2str(err)))"])
        }
    }

    public func pause(_ partitions: [TopicPartition]) {
        let list = partitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(-1)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_pause_partitions(handle, list)
    }

    public func resume(_ partitions: [TopicPartition]) {
        let list = partitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(-1)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_resume_partitions(handle, list)
    }

    /// Moves the fetch position of assigned partitions, e.g. back to a batch that must be retried.
    public func seek(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = partitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_seek_partitions(handle, list, 10_000) {
            throw KafkaError(consuming: error, context: "cannot seek")
        }
    }

    /// Reads the given partitions from the given offsets outside any group rebalance: tools
    /// that replay or inspect a topic range use this and never commit.
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = partitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "cannot assign \(offsets.keys.map(\.description).sorted().joined(separator: ", "))")
        }
    }

    /// The offsets this consumer's group has committed; a partition without one is left out.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartition: Int64] {
        try offsetQuery(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })) { list in
            rd_kafka_committed(handle, list, Int32(timeout.components.seconds * 1000))
        }
    }

    /// The earliest offset of each partition whose record timestamp is at or after the time;
    /// a partition with no record that late is left out.
    public func offsets(atOrAfterMs timestampMs: Int64, _ partitions: [TopicPartition], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartition: Int64] {
        try offsetQuery(Dictionary(uniqueKeysWithValues: partitions.map { ($0, timestampMs) })) { list in
            rd_kafka_offsets_for_times(handle, list, Int32(timeout.components.seconds * 1000))
        }
    }

    private func offsetQuery(
        _ request: [TopicPartition: Int64], _ ask: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> rd_kafka_resp_err_t
    ) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = partitionList(request)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = ask(list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "cannot look offsets up") }
        var answers: [TopicPartition: Int64] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            let partition = TopicPartition(topic: String(cString: element.topic), partition: element.partition)
            if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(element.err, context: "cannot look the offset of \(partition) up")
            }
            if element.offset >= 0 { answers[partition] = element.offset }
        }
        return answers
    }

    /// The high watermark librdkafka last saw for the partition, without asking the broker.
    public func cachedHighWatermark(_ partition: TopicPartition) -> Int64? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
    }

    /// Leaves the group: the final revocation runs through the listener before this returns.
    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(handle)
    }

    deinit {
        close()
        rd_kafka_destroy(handle)
    }

    private func topicName(_ topic: OpaquePointer) -> String {
        if let name = topicNames[topic] { return name }
        let name = String(cString: rd_kafka_topic_name(topic))
        topicNames[topic] = name
        return name
    }
}

private func bytes(_ pointer: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    guard let pointer, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: pointer, count: count))
}

func partitionList(_ offsets: [TopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
    for (partition, offset) in offsets {
        rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition).pointee.offset = offset
    }
    return list
}

/// Translates librdkafka's rebalance callback into listener calls and (incremental) assignment.
final class RebalanceBridge {
    weak var listener: RebalanceListener?
    let logger: Logger

    init(listener: RebalanceListener, logger: Logger) {
        self.listener = listener
        self.logger = logger
    }

    func rebalance(handle: OpaquePointer, err: rd_kafka_resp_err_t, partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        var moved: [TopicPartition] = []
        for index in 0..<Int(partitions.pointee.cnt) {
            let element = partitions.pointee.elems[index]
            moved.append(TopicPartition(topic: String(cString: element.topic), partition: element.partition))
        }
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let starts = listener?.partitionsAssigned(moved) ?? [:]
            for index in 0..<Int(partitions.pointee.cnt) {
                if let start = starts[moved[index]] {
                    partitions.pointee.elems[index].offset = start
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(handle, partitions) {
                    logger.error("incremental assign failed", metadata: ["error": "\(KafkaError(consuming: error, context: "assign"))"])
                }
            } else {
                rd_kafka_assign(handle, partitions)
            }
        default:
            listener?.partitionsRevoked(moved, lost: rd_kafka_assignment_lost(handle) != 0)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(handle, partitions) {
                    logger.error("incremental unassign failed", metadata: ["error": "\(KafkaError(consuming: error, context: "unassign"))"])
                }
            } else {
                rd_kafka_assign(handle, nil)
            }
        }
    }
}
