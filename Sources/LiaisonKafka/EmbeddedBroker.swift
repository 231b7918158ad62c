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

    /// Delays every answer of broker `id` (all brokers when `nil`) by `milliseconds`: a slow
    /// or distant broker. Zero takes the delay away.
    public func setRoundTripTime(_ milliseconds: Int32, broker id: Int32? = nil) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, id ?? -1, milliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "cannot set the round-trip time of broker \(id ?? -1)") }
    }

    /// The Kafka requests a fault can be injected into, by their protocol API key.
    public enum Request: Int16, Sendable, CaseIterable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9, findCoordinator = 10
        case joinGroup = 11, heartbeat = 12, syncGroup = 14, initProducerID = 22
    }

    /// The broker errors a fault can answer with: the retriable ones a cluster gives while
    /// leaders move, coordinators fail over or brokers are overloaded.
    public enum InjectedError: Sendable {
        case notLeaderOrFollower, requestTimedOut, notCoordinator, coordinatorLoadInProgress, coordinatorNotAvailable
        case notEnoughReplicas, leaderNotAvailable

        var code: rd_kafka_resp_err_t {
            switch self {
            case .notLeaderOrFollower: RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
            case .requestTimedOut: RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT
            case .notCoordinator: RD_KAFKA_RESP_ERR_NOT_COORDINATOR
            case .coordinatorLoadInProgress: RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS
            case .coordinatorNotAvailable: RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE
            case .notEnoughReplicas: RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS
            case .leaderNotAvailable: RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE
            }
        }
    }

    /// Answers the next requests of a kind, whichever broker gets them, with `errors` in turn.
    public func failNext(_ request: Request, with errors: [InjectedError]) {
        let codes = errors.map(\.code)
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, request.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Moves the group's coordinator to broker `id`, as when the broker holding its offsets partition changes.
    public func moveCoordinator(ofGroup group: String, to id: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_coordinator_set(cluster, "group", group, id)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "cannot move group \(group)'s coordinator to broker \(id)") }
    }

    /// Makes broker `id` the leader of the partition, as after a leader election.
    public func moveLeader(of topic: String, partition: Int32, to id: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_partition_set_leader(cluster, topic, partition, id)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "cannot move \(topic)/\(partition)'s leader to broker \(id)") }
    }
}
