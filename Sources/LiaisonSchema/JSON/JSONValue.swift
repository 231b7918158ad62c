import Foundation

/// A JSON document as parsed, without loss: numbers keep their literal text (so money never
/// passes through binary floating point) and objects keep their members in order, so fields
/// a type does not know survive a round trip.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case let .object(object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    public var objectValue: JSONObject? {
        if case let .object(object) = self { return object }
        return nil
    }

    /// What a person would call this kind of value in an error message.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON number literal, validated by the parser and kept as written.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    /// Wraps text the caller knows to be a JSON number literal.
    init(validatedText: String) {
        text = validatedText
    }

    public init(_ value: Int64) {
        text = String(value)
    }

    /// `units` steps of 10^-`scale`, written with exactly `scale` decimals and no exponent:
    /// cents as `-120.50`, which a `Decimal` would shorten to `-120.5`.
    public init(units: Int64, scale: Int) {
        precondition(scale >= 0, "a JSON number cannot have a negative number of decimals")
        let digits = String(units.magnitude)
        let padded = String(repeating: "0", count: max(0, scale + 1 - digits.count)) + digits
        let point = padded.index(padded.endIndex, offsetBy: -scale)
        text = (units < 0 ? "-" : "") + padded[..<point] + (scale > 0 ? "." + padded[point...] : "")
    }

    public var description: String { text }
}

/// A JSON object's members in document order. Lookups scan, which beats hashing for the
/// dozen-member objects records are made of.
public struct JSONObject: Sendable, Equatable, Sequence {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var members: [Member]

    public init(_ members: [Member] = []) {
        self.members = members
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get { members.first { sameName($0.key, key) }?.value }
        set {
            if let index = members.firstIndex(where: { sameName($0.key, key) }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }

    public func contains(_ key: String) -> Bool { members.contains { sameName($0.key, key) } }

    /// Equal when both hold the same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }
}

/// Member names are the same when their code points are, as RFC 8259 suggests and as other
/// JSON readers compare them; `String`'s `==` would also equate canonically equivalent names.
/// Comparing lengths first also makes the common miss cheap.
@inline(__always)
func sameName(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.count == rhs.utf8.count && sameBytes(lhs, rhs)
}

/// Compares two names of the same length byte for byte.
func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
    let compared = lhs.utf8.withContiguousStorageIfAvailable { left in
        rhs.utf8.withContiguousStorageIfAvailable { right in
            left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
        }
    }
    return (compared ?? nil) ?? lhs.utf8.elementsEqual(rhs.utf8)
}

/// For coders other than `JSONValueDecoder`/`JSONValueEncoder`, which handle `JSONValue`
/// directly and keep number literals and member order exactly.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() { self = .null; return }
            if let flag = try? container.decode(Bool.self) { self = .bool(flag); return }
            if let text = try? container.decode(String.self) { self = .string(text); return }
            if let number = try? container.decode(Decimal.self) { self = .number(JSONNumber(validatedText: "\(number)")); return }
            if let elements = try? container.decode([JSONValue].self) { self = .array(elements); return }
        }
        self = .object(try JSONObject(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case let .bool(flag):
            var container = encoder.singleValueContainer()
            try container.encode(flag)
        case let .number(number):
            var container = encoder.singleValueContainer()
            try container.encode(Decimal(string: number.text, locale: nil) ?? 0)
        case let .string(text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case let .array(elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case let .object(object):
            try object.encode(to: encoder)
        }
    }
}

extension JSONObject: Codable {
    struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: MemberKey.self)
        self.init(try container.allKeys.map { Member(key: $0.stringValue, value: try container.decode(JSONValue.self, forKey: $0)) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: MemberKey.self)
        for member in members { try container.encode(member.value, forKey: MemberKey(stringValue: member.key)) }
    }
}
