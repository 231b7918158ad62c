import CRdKafka
import Logging

/// librdkafka configuration, passed through untouched so TLS, SASL and tuning need no code here.
public struct KafkaProperties: Sendable, Equatable {
    public private(set) var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// Returns a copy where `other` wins on every key both set.
    public func merging(_ other: [String: String]) -> KafkaProperties {
        KafkaProperties(values.merging(other) { _, new in new })
    }

    /// Returns a copy with `defaults` filled in where nothing was set.
    public func withDefaults(_ defaults: [String: String]) -> KafkaProperties {
        KafkaProperties(defaults.merging(values) { _, set in set })
    }

    /// Builds an `rd_kafka_conf_t`, naming the property librdkafka refused.
    func makeConf() throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(message: "Kafka property '\(key)' was refused: \(reason)")
            }
        }
        rd_kafka_conf_set_log_cb(conf) { _, level, facility, message in
            librdkafkaLogger.log(
                level: logLevel(syslog: level), "\(message.map { String(cString: $0) } ?? "")",
                metadata: ["facility": "\(facility.map { String(cString: $0) } ?? "")"])
        }
        return conf
    }
}

/// The librdkafka version actually loaded, which may differ from the headers built against.
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

func makeHandle(_ type: rd_kafka_type_t, conf: OpaquePointer, role: String) throws(KafkaError) -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        let reason = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        throw KafkaError(message: "cannot create the Kafka \(role): \(reason)")
    }
    return handle
}

/// librdkafka's own log lines, routed through swift-log so they share the process's format.
private let librdkafkaLogger = Logger(label: "librdkafka")

private func logLevel(syslog level: Int32) -> Logger.Level {
    switch level {
    case ...2: .critical
    case 3: .error
    case 4: .warning
    case 5: .notice
    case 6: .info
    default: .debug
    }
}
