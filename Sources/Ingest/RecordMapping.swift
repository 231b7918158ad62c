import LiaisonSchema

/// Turns a Debezium change event or a plain JSON record into a CloudEvents envelope,
/// declaratively. Paths are dotted names into the change document:
///
/// - `row`: for Debezium the row after the change (before it, for a delete); for plain JSON the record;
/// - `before`, `after`, `source`, `op`, `ts_ms`: Debezium's own fields;
/// - `key`: the Kafka key as text; `topic`: the upstream topic.
///
/// The first rule in `events` whose condition holds decides the record type (or that the
/// change is deliberately ignored); its `data` map builds the payload.
public struct RecordMapping: Codable, Sendable, Equatable {
    /// CloudEvents `source` of the events this mapping makes.
    public var source: String
    /// CloudEvents `id`, a template such as `invoice-{row.invoice_id}-{source.lsn}`. It must be
    /// unique per source and the same when the same change is delivered again.
    public var id: String
    /// Path to the customer id.
    public var subject: String
    /// Path to the event time: epoch milliseconds or RFC 3339 text. Defaults to `source.ts_ms`,
    /// then `ts_ms`, for Debezium, and to the Kafka record's timestamp for plain JSON.
    public var time: String?
    public var events: [EventRule]

    public init(source: String, id: String, subject: String, time: String? = nil, events: [EventRule]) {
        self.source = source
        self.id = id
        self.subject = subject
        self.time = time
        self.events = events
    }

    func validate() throws(IngestConfigurationError) {
        guard !source.isEmpty else { throw IngestConfigurationError("`source` must not be empty") }
        guard IDTemplate.parse(id) != nil else {
            throw IngestConfigurationError("`id` template '\(id)' has an unbalanced or empty {path}")
        }
        guard !events.isEmpty else { throw IngestConfigurationError("`events` needs at least one rule") }
        for (index, rule) in events.enumerated() {
            let name = "events[\(index)]"
            switch (rule.type, rule.ignore ?? false) {
            case (nil, false): throw IngestConfigurationError("\(name) needs a `type`, or `ignore: true`")
            case (.some, true): throw IngestConfigurationError("\(name) has both `type` and `ignore: true`; keep one")
            case let (type?, false):
                guard EventType(rawValue: type) != nil else {
                    throw IngestConfigurationError("\(name): '\(type)' is not a record type Liaison knows")
                }
            case (nil, true): break
            }
            for op in rule.when?.op ?? [] where ChangeOperation(name: op) == nil {
                throw IngestConfigurationError("\(name): op '\(op)' is not one of c, u, d, r, t (or create, update, delete, read, truncate)")
            }
            if rule.when?.field == nil, rule.when?.equals != nil || rule.when?.in != nil {
                throw IngestConfigurationError("\(name): `equals` and `in` need a `field` to compare")
            }
        }
    }
}

/// One way a change becomes (or deliberately does not become) an event.
public struct EventRule: Codable, Sendable, Equatable {
    public var when: Condition?
    /// The record type to make.
    public var type: String?
    /// True to record the change as `ignored` in the ledger instead of making an event.
    public var ignore: Bool?
    /// Payload fields by name. Without it, the payload is `row` as it is.
    public var data: [String: FieldSource]?

    public init(when: Condition? = nil, type: String? = nil, ignore: Bool? = nil, data: [String: FieldSource]? = nil) {
        self.when = when
        self.type = type
        self.ignore = ignore
        self.data = data
    }
}

/// When a rule applies. Values compare as text: a number matches its literal (`5`), a boolean `true`/`false`.
public struct Condition: Codable, Sendable, Equatable {
    /// Debezium operations: c, u, d, r, t (or their names).
    public var op: [String]?
    public var field: String?
    public var equals: String?
    public var `in`: [String]?

    public init(op: [String]? = nil, field: String? = nil, equals: String? = nil, in values: [String]? = nil) {
        self.op = op
        self.field = field
        self.equals = equals
        self.in = values
    }
}

/// Where a payload field comes from: a path (`row.amount`) or a constant (`{value: mobile}`),
/// optionally converted (`{path: row.amount, as: decimal}`).
public struct FieldSource: Codable, Sendable, Equatable {
    public enum Conversion: String, Codable, Sendable {
        /// A number, or text holding one, as an exact JSON number (money).
        case decimal
        /// A whole number, or text holding one.
        case integer
        case string
        case boolean
        /// Epoch milliseconds (as Debezium's `io.debezium.time.Timestamp`) to RFC 3339 UTC; RFC 3339 text passes through.
        case timestamp
        /// Epoch microseconds (`io.debezium.time.MicroTimestamp`) to RFC 3339 UTC.
        case timestampMicros = "timestamp-micros"
    }

    public var path: String?
    public var value: String?
    public var `as`: Conversion?

    public init(path: String? = nil, value: String? = nil, as conversion: Conversion? = nil) {
        self.path = path
        self.value = value
        self.as = conversion
    }

    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer(), let path = try? container.decode(String.self) {
            self.init(path: path)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            path: try container.decodeIfPresent(String.self, forKey: .path),
            value: try container.decodeIfPresent(String.self, forKey: .value),
            as: try container.decodeIfPresent(Conversion.self, forKey: .as))
        guard (path == nil) != (value == nil) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "give either `path` or `value`"))
        }
    }
}

/// Debezium's `op` codes.
enum ChangeOperation: String {
    case create = "c"
    case update = "u"
    case delete = "d"
    case read = "r"
    case truncate = "t"

    init?(name: String) {
        switch name {
        case "c", "create": self = .create
        case "u", "update": self = .update
        case "d", "delete": self = .delete
        case "r", "read", "snapshot": self = .read
        case "t", "truncate": self = .truncate
        default: return nil
        }
    }
}

/// An id template: literal text with `{path}` placeholders.
enum IDTemplate {
    enum Part {
        case literal(String)
        case path(String)
    }

    static func parse(_ template: String) -> [Part]? {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else { return nil }
            let path = rest[rest.index(after: open)..<close]
            guard !path.isEmpty, !path.contains("{") else { return nil }
            parts.append(.path(String(path)))
            rest = rest[rest.index(after: close)...]
        }
        if rest.contains("}") { return nil }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        return parts
    }
}
