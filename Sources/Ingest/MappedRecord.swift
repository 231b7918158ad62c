import LiaisonSchema
import LiaisonStage

/// One record going through a `RecordMapping`.
struct MappedRecord {
    let mapping: RecordMapping
    let name: String
    let document: JSONObject
    let record: InputRecord

    /// The envelope the mapping makes, or nil when its matching rule ignores the change.
    func envelope() throws(StageFailure) -> JSONObject? {
        guard let rule = mapping.events.first(where: matches) else {
            let op = document["op"]?.stringValue.map { " with op \($0)" } ?? ""
            throw StageFailure(
                code: "unmapped_record",
                message: "no rule of mapping \(name) matches this record\(op); add one (with `ignore: true` to skip such records)")
        }
        guard let type = rule.type else { return nil }
        var envelope = JSONObject()
        envelope["specversion"] = .string(EventV1.specVersion)
        envelope["id"] = .string(try renderID())
        envelope["source"] = .string(mapping.source)
        envelope["type"] = .string(type)
        envelope["time"] = try time()
        guard let subject = resolve(mapping.subject).flatMap(scalarText), !subject.isEmpty else {
            throw StageFailure(
                code: "missing_subject",
                message: "subject: mapping \(name) takes the customer id from \(mapping.subject), which this record lacks")
        }
        envelope["subject"] = .string(subject)
        envelope["datacontenttype"] = .string("application/json")
        if let fields = rule.data {
            var data = JSONObject()
            for (field, source) in fields.sorted(by: { $0.key < $1.key }) {
                if let value = try value(of: source, field: field) { data[field] = value }
            }
            envelope["data"] = .object(data)
        } else {
            envelope["data"] = document["row"] ?? .null
        }
        return envelope
    }

    func matches(_ rule: EventRule) -> Bool {
        guard let condition = rule.when else { return true }
        if let ops = condition.op {
            guard let op = document["op"]?.stringValue.flatMap(ChangeOperation.init(name:)),
                  ops.compactMap(ChangeOperation.init(name:)).contains(op)
            else { return false }
        }
        if let field = condition.field {
            let actual = resolve(field).flatMap(scalarText)
            if let expected = condition.equals, actual != expected { return false }
            if let allowed = condition.in, !allowed.contains(where: { $0 == actual }) { return false }
            if condition.equals == nil, condition.in == nil, actual == nil { return false }
        }
        return true
    }

    func resolve(_ path: String) -> JSONValue? {
        var current: JSONValue = .object(document)
        for name in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case let .object(object) = current, let next = object[String(name)], next != .null else { return nil }
            current = next
        }
        return current
    }

    func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case let .string(text): text
        case let .number(number): number.text
        case let .bool(flag): flag ? "true" : "false"
        case .null, .array, .object: nil
        }
    }

    func renderID() throws(StageFailure) -> String {
        var id = ""
        for part in IDTemplate.parse(mapping.id) ?? [] {
            switch part {
            case let .literal(text): id += text
            case let .path(path):
                guard let text = resolve(path).flatMap(scalarText) else {
                    throw StageFailure(
                        code: "unmapped_record",
                        message: "id: mapping \(name) builds the id from \(path), which this record lacks")
                }
                id += text
            }
        }
        return id
    }

    func time() throws(StageFailure) -> JSONValue {
        let candidates = mapping.time.map { [$0] } ?? ["source.ts_ms", "ts_ms"]
        for path in candidates {
            guard let value = resolve(path) else { continue }
            if let converted = try convert(value, to: .timestamp, field: "time") { return converted }
        }
        if mapping.time == nil, let timestampMs = record.timestampMs {
            return .string(Timestamp(epochMilliseconds: timestampMs).text)
        }
        throw StageFailure(
            code: "schema_violation",
            message: "time: mapping \(name) takes the event time from \(candidates.joined(separator: " or ")), which this record lacks")
    }

    func value(of source: FieldSource, field: String) throws(StageFailure) -> JSONValue? {
        let raw: JSONValue?
        if let constant = source.value {
            raw = .string(constant)
        } else {
            raw = resolve(source.path ?? "")
        }
        guard let raw else { return nil }
        guard let conversion = source.as else { return raw }
        return try convert(raw, to: conversion, field: "data.\(field)")
    }

    func convert(_ value: JSONValue, to conversion: FieldSource.Conversion, field: String) throws(StageFailure) -> JSONValue? {
        func failure(_ expectation: String) -> StageFailure {
            StageFailure(
                code: "schema_violation",
                message: "\(field): mapping \(name) expects \(expectation) here, found \(value.kindName)"
                    + (scalarText(value).map { " \"\($0.prefix(40))\"" } ?? ""))
        }
        switch conversion {
        case .string:
            return scalarText(value).map(JSONValue.string)
        case .boolean:
            switch value {
            case .bool: return value
            case .string("true"): return .bool(true)
            case .string("false"): return .bool(false)
            default: throw failure("true or false")
            }
        case .decimal, .integer:
            let text: String
            switch value {
            case let .number(number): text = number.text
            case let .string(string): text = string.trimmingSpaces
            default: throw failure("a number")
            }
            guard case let .number(number)? = try? JSONParser().parse(Array(text.utf8)) else { throw failure("a number") }
            if conversion == .integer, number.text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { throw failure("a whole number") }
            return .number(number)
        case .timestamp, .timestampMicros:
            switch value {
            case let .string(text) where Timestamp(text) != nil:
                return value
            case let .number(number):
                guard let count = Int64(number.text) else { throw failure("epoch milliseconds") }
                return .string(Timestamp(epochMilliseconds: conversion == .timestampMicros ? count / 1000 : count).text)
            case let .string(text):
                guard let count = Int64(text) else { throw failure("an RFC 3339 time or epoch milliseconds") }
                return .string(Timestamp(epochMilliseconds: conversion == .timestampMicros ? count / 1000 : count).text)
            default:
                throw failure("a time")
            }
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
