import CRdKafka

/// librdkafka's in-process Kafka cluster, listening on loopback. It keeps only a few MB
/// per partition: for trying Liaison out and for fault injection, never for production.
public final class EmbeddedBroker: @unchecked Sendable {
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    /// The bootstrap string clients (in this process or others) connect to.
    public let bootstrapServers: String

    public init(brokers: Int32 = 1) throws(KafkaError) {
        let conf = try KafkaProperties(["log_level": "3"]).makeConf()
        handle = try makeHandle(RD_KAFKA_PRODUCER, conf: conf, role: "embedded broker host")
        guard let cluster = rd_kafka_mock_cluster_new(handle, brokers) else {
            rd_kafka_destroy(handle)
            throw KafkaError(message: "librdkafka could not start its in-process cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }

    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "cannot create topic \(name) on the embedded broker")
        }
    }

    /// Takes a broker off the network (its connections are closed and refused) for fault tests.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_down(cluster, id)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "cannot take broker \(id) down") }
    }

    public func setBrokerUp(_ id: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_up(cluster, id)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "cannot bring broker \(id) up") }
    }
}
