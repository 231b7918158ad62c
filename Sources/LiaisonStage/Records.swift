/// A Kafka record header; values are bytes because upstream systems put anything there.
public struct RecordHeader: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

/// The header that carries a record's deterministic id from one stage to the next,
/// so every downstream ledger can recognise a re-produced record.
public let recordIDHeader = "liaison-id"

/// Where a record sits in its topic: the coordinates every ledger row and dead letter names.
public struct RecordPosition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)/\(partition)@\(offset)" }
}

/// A record as a stage sees it: bytes and coordinates, with no client library attached.
public struct InputRecord: Sendable {
    public var position: RecordPosition
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [RecordHeader]
    /// Broker or producer timestamp in milliseconds since the epoch, when the broker gave one.
    public var timestampMs: Int64?

    public init(position: RecordPosition, key: [UInt8]?, value: [UInt8], headers: [RecordHeader] = [], timestampMs: Int64? = nil) {
        self.position = position
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    public func header(_ name: String) -> [UInt8]? {
        headers.last { $0.name == name }?.value
    }

    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// The id an upstream stage stamped on the record, or its position when nobody did.
    public var defaultID: String {
        if let id = header(recordIDHeader), !id.isEmpty { return String(decoding: id, as: UTF8.self) }
        return "\(position.topic)-\(position.partition)-\(position.offset)"
    }
}

/// A record a stage wants produced. Its `id` must be derived from the input, so a
/// re-processed batch produces the same ids and downstream ledgers drop the repeats.
public struct OutputRecord: Sendable {
    public var id: String
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [RecordHeader]

    public init(id: String, topic: String, key: [UInt8]?, value: [UInt8], headers: [RecordHeader] = []) {
        self.id = id
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Its size on the wire, near enough to compare with the producer's `message.max.bytes`.
    public var approximateBytes: Int {
        let headerBytes = headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count }
        return (key?.count ?? 0) + value.count + headerBytes + recordIDHeader.utf8.count + id.utf8.count + 128
    }
}
