import Foundation

/// A record that parsed as JSON but does not fit its type: `path` names the field the way an
/// upstream team would write it (`data.amount`, `contact.email`, `items[2]`).
public struct SchemaViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Decodes `Decodable` types from a parsed `JSONValue`, so a record is parsed once and decoded
/// without a second pass over its bytes. Numbers decode from their literal text: `Decimal`
/// exactly and within the money rules (`Money`), integers only when written as integers.
public struct JSONValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [any CodingKey] = []) throws(SchemaViolation) -> T {
        do {
            return try ValueDecoder(value: value, codingPath: path).decodeValue(T.self)
        } catch let error as DecodingError {
            throw SchemaViolation(decodingError: error)
        } catch let error as SchemaViolation {
            throw error
        } catch {
            throw SchemaViolation(path: codingPathText(path), message: "\(error)")
        }
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], parser: JSONParser = JSONParser()) throws -> T {
        try decode(type, from: try parser.parse(bytes))
    }
}

extension SchemaViolation {
    init(decodingError: DecodingError) {
        switch decodingError {
        case let .keyNotFound(key, context):
            self.init(path: codingPathText(context.codingPath + [key]), message: "is required")
        case let .valueNotFound(_, context):
            self.init(path: codingPathText(context.codingPath), message: "must not be null")
        case let .typeMismatch(_, context), let .dataCorrupted(context):
            self.init(path: codingPathText(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(path: "", message: "\(decodingError)")
        }
    }
}

/// `data.items[2].name` for a coding path.
public func codingPathText(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue, key.stringValue == "Index \(index)" || key.stringValue == "\(index)" {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}

/// A decoding error of a settings file as one line that names the key: "mappings.orders.type is required".
public func settingsErrorText(_ error: DecodingError) -> String {
    switch error {
    case let .keyNotFound(key, context):
        return "\(codingPathText(context.codingPath + [key])) is required"
    case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
        let path = codingPathText(context.codingPath)
        return (path.isEmpty ? "" : "\(path): ") + context.debugDescription
    @unknown default:
        return "\(error)"
    }
}

struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue!)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private final class ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// One bit per member of the object the decoded type read (for objects of up to 64 members),
    /// so the members it did not read — the unknown fields — need no lookup by name.
    var membersRead: UInt64 = 0

    init(value: JSONValue, codingPath: [any CodingKey]) {
        self.value = value
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(object) = value else {
            throw mismatch(expected: "an object", found: value, at: codingPath)
        }
        return KeyedDecodingContainer(ObjectContainer<Key>(object: object, codingPath: codingPath, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case let .array(elements) = value else {
            throw mismatch(expected: "an array", found: value, at: codingPath)
        }
        return ArrayContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(value: value, codingPath: codingPath) }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeJSON(type, from: value, at: codingPath)
    }
}

private func mismatch(expected: String, found: JSONValue, at path: @autoclosure () -> [any CodingKey]) -> DecodingError {
    DecodingError.typeMismatch(
        Any.self, .init(codingPath: path(), debugDescription: "expected \(expected), found \(found.kindName)"))
}

/// Paths are built only when needed: for an error, or for a nested decoder.
private func decodeJSON<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: @autoclosure () -> [any CodingKey]) throws -> T {
    if T.self == String.self { return try decodeString(value, at: path()) as! T }
    if T.self == Decimal.self { return try decodeDecimal(value, at: path()) as! T }
    if T.self == JSONValue.self { return value as! T }
    if T.self == JSONObject.self {
        guard case let .object(object) = value else { throw mismatch(expected: "an object", found: value, at: path()) }
        return object as! T
    }
    if let openType = T.self as? any OpenFields.Type, case let .object(object) = value {
        let decoder = ValueDecoder(value: value, codingPath: path())
        var decoded = try T(from: decoder) as! any OpenFields
        if object.count <= 64 {
            let read = decoder.membersRead
            if read.nonzeroBitCount != object.count {
                decoded.extra = JSONObject(object.members.enumerated().filter { read & (1 << UInt64($0.offset)) == 0 }.map(\.element))
            }
        } else {
            decoded.extra = openType.unknownMembers(of: object)
        }
        return decoded as! T
    }
    return try T(from: ValueDecoder(value: value, codingPath: path()))
}

private func decodeString(_ value: JSONValue, at path: @autoclosure () -> [any CodingKey]) throws -> String {
    guard case let .string(text) = value else { throw mismatch(expected: "a string", found: value, at: path()) }
    return text
}

private func numberText(_ value: JSONValue, at path: @autoclosure () -> [any CodingKey]) throws -> String {
    guard case let .number(number) = value else { throw mismatch(expected: "a number", found: value, at: path()) }
    return number.text
}

private func decodeDecimal(_ value: JSONValue, at path: @autoclosure () -> [any CodingKey]) throws -> Decimal {
    let text = try numberText(value, at: path())
    let outOfRange = DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "must be between -10^15 and 10^15"))
    if let (decimal, places, integerDigits) = smallDecimal(text) {
        guard places <= maxDecimalPlaces else {
            throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(text) has more than \(maxDecimalPlaces) decimal places"))
        }
        guard integerDigits <= 15 || abs(decimal) <= Money.limit else { throw outOfRange }
        return decimal
    }
    guard decimalPlaces(of: text) <= maxDecimalPlaces else {
        throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(text.prefix(40)) has more than \(maxDecimalPlaces) decimal places"))
    }
    if !text.utf8.prefix(while: { $0 | 0x20 != UInt8(ascii: "e") }).contains(where: { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }) {
        return 0
    }
    guard let decimal = Decimal(string: text, locale: nil), !decimal.isNaN else {
        throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(text) is out of the range a decimal can hold"))
    }
    guard abs(decimal) <= Money.limit else { throw outOfRange }
    return decimal
}

/// Decimals in Liaison are money: at most this many places after the point.
let maxDecimalPlaces = 6

/// Places after the decimal point a number's value needs: `1.50` and `150e-2` need 1, `10e-7`
/// needs 6, zero needs none, however it is written.
func decimalPlaces(of literal: String) -> Int {
    let utf8 = Array(literal.utf8)
    let exponentStart = utf8.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") } ?? utf8.count
    let mantissa = utf8[..<exponentStart]
    let point = mantissa.firstIndex(of: UInt8(ascii: "."))
    var digits = mantissa.filter { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    guard digits.contains(where: { $0 != UInt8(ascii: "0") }) else { return 0 }
    var places = point.map { mantissa.endIndex - $0 - 1 } ?? 0
    while digits.last == UInt8(ascii: "0") {
        digits.removeLast()
        places -= 1
    }
    guard exponentStart < utf8.count else { return max(0, places) }
    let exponentText = String(decoding: utf8[(exponentStart + 1)...], as: UTF8.self)
    guard let exponent = Int(exponentText.hasPrefix("+") ? String(exponentText.dropFirst()) : exponentText) else {
        return exponentText.hasPrefix("-") ? Int.max : 0
    }
    let (shifted, overflow) = places.subtractingReportingOverflow(exponent)
    return overflow ? (exponent < 0 ? Int.max : 0) : max(0, shifted)
}

/// The value of a plain literal (`-120.50`, no exponent, at most 18 digits) and the places it
/// needs (trailing zeros not counted), without Foundation's general parser, which was ingest's
/// costliest step for money.
func smallDecimal(_ literal: String) -> (Decimal, places: Int, integerDigits: Int)? {
    var significand: UInt64 = 0
    var digits = 0
    var places = 0
    var afterPoint = false
    var negative = false
    for byte in literal.utf8 {
        switch byte {
        case UInt8(ascii: "-") where digits == 0 && !negative: negative = true
        case UInt8(ascii: "."): afterPoint = true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            digits += 1
            guard digits <= 18 else { return nil }
            significand = significand * 10 + UInt64(byte - UInt8(ascii: "0"))
            if afterPoint { places += 1 }
        default: return nil
        }
    }
    let decimal = Decimal(sign: negative ? .minus : .plus, exponent: -places, significand: Decimal(significand))
    let integerDigits = digits - places
    while places > 0, significand % 10 == 0 {
        significand /= 10
        places -= 1
    }
    return (decimal, places, integerDigits)
}

/// Integers must be written as integers: `2`, not `2.0` or `2e0`.
private func decodeInteger<T: FixedWidthInteger>(_ value: JSONValue, as type: T.Type, at path: @autoclosure () -> [any CodingKey]) throws -> T {
    let text = try numberText(value, at: path())
    guard let integer = T(text) else {
        throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "expected a whole number that fits \(T.self), found \(text.prefix(40))"))
    }
    return integer
}

private func decodeFloating(_ value: JSONValue, at path: @autoclosure () -> [any CodingKey]) throws -> Double {
    let text = try numberText(value, at: path())
    guard let double = Double(text), double.isFinite else {
        throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(text) is out of range"))
    }
    return double
}

private struct ObjectContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]
    let decoder: ValueDecoder

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    /// The member's value, marking it read.
    func lookup(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        guard let index = object.members.firstIndex(where: { sameName($0.key, name) }) else { return nil }
        if index < 64 { decoder.membersRead |= 1 << UInt64(index) }
        return object.members[index].value
    }

    func member(_ key: Key) throws -> JSONValue {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "is required"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let value = try member(key)
        if value == .null {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath + [key], debugDescription: "must not be null"))
        }
        return try decodeJSON(T.self, from: value, at: codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = lookup(key), value != .null else { return nil }
        return try decodeJSON(T.self, from: value, at: codingPath + [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try SingleContainer(value: member(key), codingPath: codingPath + [key]).decode(Bool.self) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeString(member(key), at: codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeFloating(member(key), at: codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try decodeFloating(member(key), at: codingPath + [key])) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeInteger(member(key), as: Int.self, at: codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeInteger(member(key), as: Int8.self, at: codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeInteger(member(key), as: Int16.self, at: codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeInteger(member(key), as: Int32.self, at: codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeInteger(member(key), as: Int64.self, at: codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeInteger(member(key), as: UInt.self, at: codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeInteger(member(key), as: UInt8.self, at: codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeInteger(member(key), as: UInt16.self, at: codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeInteger(member(key), as: UInt32.self, at: codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeInteger(member(key), as: UInt64.self, at: codingPath + [key]) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object), codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key])
    }
}

private struct ArrayContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> (JSONValue, [any CodingKey]) {
        let path = codingPath + [IndexKey(currentIndex)]
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: path, debugDescription: "the array has too few elements"))
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        if value == .null {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: path, debugDescription: "must not be null"))
        }
        return try decodeJSON(T.self, from: value, at: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return ValueDecoder(value: value, codingPath: path)
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case let .bool(flag) = value else { throw mismatch(expected: "true or false", found: value, at: codingPath) }
        return flag
    }

    func decode(_ type: String.Type) throws -> String { try decodeString(value, at: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try decodeFloating(value, at: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try decodeFloating(value, at: codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(value, as: Int.self, at: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(value, as: Int8.self, at: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(value, as: Int16.self, at: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(value, as: Int32.self, at: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(value, as: Int64.self, at: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(value, as: UInt.self, at: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(value, as: UInt8.self, at: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(value, as: UInt16.self, at: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(value, as: UInt32.self, at: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(value, as: UInt64.self, at: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeJSON(T.self, from: value, at: codingPath) }
}
