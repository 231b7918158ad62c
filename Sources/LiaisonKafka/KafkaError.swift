import CRdKafka

/// A failure reported by librdkafka or by the broker, with librdkafka's own explanation.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value, when the failure carried one.
    public var code: Int32?
    public var message: String

    public init(code: Int32? = nil, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String) {
        self.code = err.rawValue
        self.message = "\(context): \(String(cString: rd_kafka_err2str(err)))"
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, context: String) {
        self.code = rd_kafka_error_code(error).rawValue
        self.message = "\(context): \(String(cString: rd_kafka_error_string(error)))"
        rd_kafka_error_destroy(error)
    }

    public var description: String { message }
}
