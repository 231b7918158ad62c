import LiaisonSchema
import LiaisonStage

/// The front door: every upstream record becomes exactly one canonical event on
/// `liaison.events.v1`, a ledger verdict of `ignored` with its reason, or a dead letter with a
/// stable reason code and a message that names the field. It keeps no state beyond the ledger,
/// which also drops repeats of the same `source` + `id` within the ledger's retention.
public struct IngestStage: Stage {
    public typealias State = NoState

    /// What reading one upstream record found.
    public enum Reading: Sendable {
        case event(NormalizedEvent)
        case ignored(String)
        case rejected(StageFailure)
    }

    public let name = "ingest"
    public let configuration: IngestConfiguration
    public let outputTopic: String
    /// Milliseconds since the epoch; injected so tests and replays control time.
    let clock: @Sendable () -> Int64
    let parser: JSONParser

    public init(configuration: IngestConfiguration, outputTopic: String = EventV1.topic, clock: @escaping @Sendable () -> Int64) {
        self.configuration = configuration
        self.outputTopic = outputTopic
        self.clock = clock
        parser = JSONParser(maxDepth: configuration.maxDepth)
    }

    /// Ingest keeps no state, so all its work happens here, including writing the output:
    /// the runtime reads a batch's records on every core, while `process` runs on one.
    public func read(_ record: InputRecord) -> Reading {
        do throws(StageFailure) {
            return try normalize(record)
        } catch {
            return .rejected(error)
        }
    }

    /// An event is known by its `source` and `id`; anything else by its position (never by a
    /// header upstream may have set), so a rejected record fixed and sent again with the same
    /// id is not taken for a repeat.
    public func inputID(of record: InputRecord, reading: Reading) -> String {
        if case let .event(event) = reading { return event.ledgerID }
        return "\(record.position.topic)-\(record.position.partition)-\(record.position.offset)"
    }

    public func process(_ record: InputRecord, reading: Reading, inputID: String, state: NoState) throws(StageFailure) -> Effect<Never> {
        switch reading {
        case let .rejected(failure): throw failure
        case let .ignored(reason): return Effect(verdict: .ignored, reason: reason)
        case let .event(event): return Effect(outputs: [event.output])
        }
    }

    // MARK: Reading

    func normalize(_ record: InputRecord) throws(StageFailure) -> Reading {
        guard record.value.count <= configuration.maxRecordBytes else {
            throw StageFailure(
                code: "too_large",
                message: "the record has \(record.value.count) bytes; ingest accepts at most \(configuration.maxRecordBytes) (max-record-bytes)")
        }
        let binding = configuration.binding(for: record.position.topic)
        switch binding.format {
        case .cloudevents:
            if record.header("ce_specversion") != nil { return try validated(try binaryEnvelope(record), record: record, mapping: nil) }
            guard !record.value.isEmpty else { throw emptyRecord(record) }
            return try validated(try parse(record.value), record: record, mapping: nil, structured: true)
        case .debezium, .json:
            let name = binding.mapping ?? ""
            guard let mapping = configuration.mappings[name] else {
                throw StageFailure(code: "unsupported_format", message: "topic \(record.position.topic) names mapping '\(name)', which is not configured")
            }
            if record.value.isEmpty {
                if binding.format == .debezium { return .ignored("tombstone: Debezium's marker after a delete, nothing to ingest") }
                throw emptyRecord(record)
            }
            let document = try changeDocument(try parse(record.value), format: binding.format, record: record)
            guard let envelope = try MappedRecord(mapping: mapping, name: name, document: document, record: record).envelope() else {
                let op = document["op"]?.stringValue.map { " (op \($0))" } ?? ""
                return .ignored("mapping \(name) ignores this change\(op)")
            }
            return try validated(.object(envelope), record: record, mapping: name)
        }
    }

    func emptyRecord(_ record: InputRecord) -> StageFailure {
        StageFailure(code: "empty_record", message: "the record has no value (a tombstone?); topic \(record.position.topic) expects CloudEvents or JSON")
    }

    func parse(_ bytes: [UInt8]) throws(StageFailure) -> JSONValue {
        do {
            return try parser.parse(bytes)
        } catch {
            throw StageFailure(code: error.kind.reasonCode, message: error.description)
        }
    }

    /// CloudEvents binary mode: attributes from `ce_*` headers, `content-type` as
    /// `datacontenttype`, the value (if any) as `data`.
    func binaryEnvelope(_ record: InputRecord) throws(StageFailure) -> JSONValue {
        var envelope = JSONObject()
        for header in record.headers {
            let attribute: String
            if header.name.hasPrefix("ce_") {
                attribute = String(header.name.dropFirst(3))
            } else if header.name.lowercased() == "content-type" {
                attribute = "datacontenttype"
            } else {
                continue
            }
            guard let text = String(validating: header.value, as: UTF8.self) else {
                throw StageFailure(code: "invalid_utf8", message: "header \(header.name) is not valid UTF-8")
            }
            envelope[attribute] = .string(text)
        }
        if !record.value.isEmpty { envelope["data"] = try parse(record.value) }
        return .object(envelope)
    }

    /// The document mapping paths read: Debezium's fields plus `row`, or the record as `row`.
    func changeDocument(_ value: JSONValue, format: UpstreamFormat, record: InputRecord) throws(StageFailure) -> JSONObject {
        guard case var .object(object) = value else {
            throw StageFailure(code: "schema_violation", message: "the record must be a JSON object, found \(value.kindName)")
        }
        var document = JSONObject()
        if format == .debezium {
            if object["schema"] != nil, case let .object(payload)? = object["payload"] { object = payload }
            guard let op = object["op"]?.stringValue else {
                throw StageFailure(code: "schema_violation", message: "op: is required in a Debezium change event (c, u, d, r or t)")
            }
            let before = object["before"] ?? .null
            let after = object["after"] ?? .null
            for member in object { document[member.key] = member.value }
            document["op"] = .string(op)
            document["row"] = after != .null ? after : before
        } else {
            document["row"] = .object(object)
        }
        if let key = record.key, let text = String(validating: key, as: UTF8.self) { document["key"] = .string(text) }
        document["topic"] = .string(record.position.topic)
        return document
    }

    func validated(_ envelope: JSONValue, record: InputRecord, mapping: String?, structured: Bool = false) throws(StageFailure) -> Reading {
        let event: EventV1
        do throws(EventRejection) {
            event = try EventV1(json: envelope)
        } catch {
            let via = mapping.map { " (record mapped by \($0))" } ?? ""
            throw StageFailure(code: error.code, message: error.message + via)
        }
        let skewMs = Int64(configuration.futureSkewSeconds) * 1000
        let nowMs = clock()
        if event.time.epochMilliseconds > nowMs + skewMs {
            throw StageFailure(
                code: "future_timestamp",
                message: "time: \(event.time.text) is \((event.time.epochMilliseconds - nowMs) / 1000) s ahead of this stage's clock; "
                    + "at most \(configuration.futureSkewSeconds) s is accepted (future-skew-seconds)")
        }
        guard case let .object(object) = envelope else { preconditionFailure("EventV1 accepted a non-object") }
        let upstreamTrace = event.traceparent ?? record.header(TraceContext.headerName).flatMap { String(validating: $0, as: UTF8.self) }
        let verbatim = structured && !object.contains { Self.isIngestAttribute($0.key) }
        let ledgerID = NormalizedEvent.ledgerID(source: event.source, id: event.id)
        let output = output(
            envelope: object, subject: event.subject, ledgerID: ledgerID, upstreamTraceparent: upstreamTrace, verbatim: verbatim,
            from: record)
        return .event(NormalizedEvent(ledgerID: ledgerID, output: output))
    }

    // MARK: Output

    /// Liaison's attributes, set by ingest whatever upstream sent in them.
    static func isIngestAttribute(_ name: String) -> Bool {
        switch name {
        case "traceparent", "ingesttime", "sourcetopic", "sourcepartition", "sourceoffset": true
        default: false
        }
    }

    /// The canonical event: upstream's envelope and data exactly as sent (unknown fields, number
    /// literals and UTC offsets included), plus trace context, ingest time and source position.
    /// A structured-mode record is copied byte for byte with the attributes appended; other
    /// records are written from their envelope.
    func output(
        envelope: JSONObject, subject: String, ledgerID id: String, upstreamTraceparent: String?, verbatim: Bool, from record: InputRecord
    ) -> OutputRecord {
        let traceparent = TraceContext.child(of: upstreamTraceparent, recordID: id)
        var writer = JSONWriter(capacity: record.value.count + 320)
        if verbatim {
            writer.reopenObject(record.value)
        } else {
            writer.beginObject()
            for member in envelope where !Self.isIngestAttribute(member.key) {
                writer.key(member.key)
                writer.value(member.value)
            }
        }
        writer.key("traceparent")
        writer.string(traceparent)
        writer.key("ingesttime")
        writer.string(Timestamp(epochMilliseconds: clock()).text)
        writer.key("sourcetopic")
        writer.string(record.position.topic)
        writer.key("sourcepartition")
        writer.integer(Int64(record.position.partition))
        writer.key("sourceoffset")
        writer.integer(record.position.offset)
        writer.endObject()
        return OutputRecord(
            id: id, topic: outputTopic, key: Array(subject.utf8), value: writer.bytes,
            headers: [RecordHeader(name: TraceContext.headerName, string: traceparent)])
    }
}

/// An upstream record that passed every check, as the canonical event it becomes. A class, so
/// the runtime's batches pass it around without copying.
public final class NormalizedEvent: Sendable {
    /// `source|id`: the ledger id of the upstream record and the id of the event.
    public let ledgerID: String
    public let output: OutputRecord

    init(ledgerID: String, output: OutputRecord) {
        self.ledgerID = ledgerID
        self.output = output
    }

    /// `source|id`, with `%` and `|` in the source escaped so that no two pairs share a key.
    public static func ledgerID(source: String, id: String) -> String {
        let escaped = source.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "|") })
            ? source.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "|", with: "%7C")
            : source
        return escaped + "|" + id
    }
}
