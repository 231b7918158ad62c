import CRdKafka

/// What a topic should look like when Liaison creates it.
public struct TopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Topic administration and offset look-ups for commands and tests.
public final class KafkaAdmin: @unchecked Sendable {
    private let handle: OpaquePointer

    public init(properties: KafkaProperties) throws(KafkaError) {
        handle = try makeHandle(RD_KAFKA_PRODUCER, conf: try properties.makeConf(), role: "admin client")
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    public enum CreateOutcome: String, Sendable {
        case created
        case alreadyExisted = "already existed"
    }

    /// Creates the topics that do not exist yet; an existing topic is left as it is.
    @discardableResult
    public func createTopics(_ specs: [TopicSpec], timeout: Duration = .seconds(30)) throws(KafkaError) -> [String: CreateOutcome] {
        guard !specs.isEmpty else { return [:] }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for spec in specs {
            guard let topic = rd_kafka_NewTopic_new(spec.name, spec.partitions, spec.replicationFactor, &errstr, errstr.count) else {
                let reason = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(message: "topic \(spec.name) is not valid: \(reason)")
            }
            newTopics.append(topic)
            for (key, value) in spec.configs {
                let err = rd_kafka_NewTopic_set_config(topic, key, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(err, context: "topic \(spec.name): config \(key)=\(value)")
                }
            }
        }
        let timeoutMs = Int32(timeout.components.seconds * 1000)
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 5000) else {
            throw KafkaError(message: "no answer to CreateTopics within \(timeout): is the broker reachable?")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(eventError, context: "CreateTopics failed")
        }
        var count = 0
        let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
        var outcomes: [String: CreateOutcome] = [:]
        for index in 0..<count {
            let result = results![index]
            let name = String(cString: rd_kafka_topic_result_name(result))
            switch rd_kafka_topic_result_error(result) {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes[name] = .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcomes[name] = .alreadyExisted
            case let err:
                let detail = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? ""
                throw KafkaError(code: err.rawValue, message: "cannot create topic \(name): \(String(cString: rd_kafka_err2str(err))) \(detail)")
            }
        }
        return outcomes
    }

    /// The number of partitions of `topic`, asking the broker.
    public func partitionCount(_ topic: String, timeout: Duration = .seconds(10)) throws(KafkaError) -> Int32 {
        let topicHandle = rd_kafka_topic_new(handle, topic, nil)
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, topicHandle, &metadata, Int32(timeout.components.seconds * 1000))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(err, context: "cannot read metadata of \(topic)")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0 else { throw KafkaError(message: "topic \(topic) does not exist") }
        let described = metadata.pointee.topics[0]
        if described.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(described.err, context: "topic \(topic)")
        }
        return described.partition_cnt
    }

    /// The low and high watermarks of a partition, asking its leader.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(
            handle, partition.topic, partition.partition, &low, &high, Int32(timeout.components.seconds * 1000))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "cannot read the offsets of \(partition)")
        }
        return (low, high)
    }
}
