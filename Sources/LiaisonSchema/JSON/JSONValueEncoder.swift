import Foundation

/// Encodes `Encodable` types to a `JSONValue`, with `Decimal` written as an exact number
/// literal. Encoding a value twice into one object (a type's fields, then its unknown ones)
/// merges the members.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let box = EncodingBox()
        try encodeJSON(value, into: box, at: [])
        return box.json
    }

    public func encodeBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        JSONWriter.encode(try encode(value))
    }
}

private final class EncodingBox {
    enum Content {
        case empty
        case value(JSONValue)
        case object([(String, EncodingBox)])
        case array([EncodingBox])
    }

    var content = Content.empty

    var json: JSONValue {
        switch content {
        case .empty: .object(JSONObject())
        case let .value(value): value
        case let .object(members): .object(JSONObject(members.map { JSONObject.Member(key: $0.0, value: $0.1.json) }))
        case let .array(elements): .array(elements.map(\.json))
        }
    }

    func child(forKey key: String) -> EncodingBox {
        var members: [(String, EncodingBox)] = []
        if case let .object(existing) = content { members = existing }
        if let found = members.first(where: { sameName($0.0, key) }) { return found.1 }
        let box = EncodingBox()
        members.append((key, box))
        content = .object(members)
        return box
    }

    func makeObject() {
        if case .object = content { return }
        content = .object([])
    }

    func appendElement() -> EncodingBox {
        var elements: [EncodingBox] = []
        if case let .array(existing) = content { elements = existing }
        let box = EncodingBox()
        elements.append(box)
        content = .array(elements)
        return box
    }
}

private func invalid(_ value: Any, _ path: [any CodingKey], _ why: String) -> EncodingError {
    EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: why))
}

private func encodeJSON<T: Encodable>(_ value: T, into box: EncodingBox, at path: [any CodingKey]) throws {
    switch value {
    case let text as String: box.content = .value(.string(text))
    case let flag as Bool: box.content = .value(.bool(flag))
    case let json as JSONValue: box.content = .value(json)
    case let object as JSONObject: box.content = .value(.object(object))
    case let decimal as Decimal:
        guard !decimal.isNaN else { throw invalid(decimal, path, "NaN is not a JSON number") }
        box.content = .value(.number(JSONNumber(validatedText: decimal.plainText)))
    case let double as Double:
        guard double.isFinite else { throw invalid(double, path, "\(double) is not a JSON number") }
        box.content = .value(.number(JSONNumber(validatedText: "\(double)")))
    case let integer as any BinaryInteger:
        box.content = .value(.number(JSONNumber(validatedText: "\(integer)")))
    default:
        try value.encode(to: ValueEncoder(box: box, codingPath: path))
        if let open = value as? any OpenFields {
            box.makeObject()
            for member in open.extra {
                let child = box.child(forKey: member.key)
                if case .empty = child.content { child.content = .value(member.value) }
            }
        }
    }
}

private struct ValueEncoder: Encoder {
    let box: EncodingBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        box.makeObject()
        return KeyedEncodingContainer(ObjectEncodingContainer<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = box.content {} else { box.content = .array([]) }
        return ArrayEncodingContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleEncodingContainer(box: box, codingPath: codingPath)
    }
}

private struct ObjectEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodingBox
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        box.child(forKey: key.stringValue).content = .value(.null)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeJSON(value, into: box.child(forKey: key.stringValue), at: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(box: box, codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct ArrayEncodingContainer: UnkeyedEncodingContainer {
    let box: EncodingBox
    let codingPath: [any CodingKey]
    var count: Int {
        if case let .array(elements) = box.content { return elements.count }
        return 0
    }

    mutating func encodeNil() throws { box.appendElement().content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        try encodeJSON(value, into: box.appendElement(), at: codingPath + [IndexKey(index)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let index = count
        return ValueEncoder(box: box.appendElement(), codingPath: codingPath + [IndexKey(index)]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = count
        return ValueEncoder(box: box.appendElement(), codingPath: codingPath + [IndexKey(index)]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let index = count
        return ValueEncoder(box: box.appendElement(), codingPath: codingPath + [IndexKey(index)])
    }
}

private struct SingleEncodingContainer: SingleValueEncodingContainer {
    let box: EncodingBox
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeJSON(value, into: box, at: codingPath)
    }
}
