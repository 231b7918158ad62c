import Foundation

/// A record type that keeps the fields it does not know. Upstream systems add fields before
/// Liaison learns them; decoding with `JSONValueDecoder` collects them in `extra` and encoding
/// with `JSONValueEncoder` writes them back, so nothing is lost on the way through a stage.
public protocol OpenFields: Codable {
    associatedtype CodingKeys: CodingKey & CaseIterable
    var extra: JSONObject { get set }
}

extension OpenFields {
    /// The members of `object` this type has no field for, by name. `JSONValueDecoder` knows
    /// them without asking (the members the type did not read) for objects of up to 64 members.
    static func unknownMembers(of object: JSONObject) -> JSONObject {
        guard object.members.contains(where: { !isKnown($0.key) }) else { return JSONObject() }
        return JSONObject(object.members.filter { !isKnown($0.key) })
    }

    private static func isKnown(_ name: String) -> Bool {
        guard let key = CodingKeys(stringValue: name) else { return false }
        return sameName(key.stringValue, name)
    }
}

/// The rules a field's value must follow beyond its JSON type. The JSON Schemas in `schemas/`
/// state the same rules (see `common.v1.schema.json`); a fixture test keeps the two in step.
public struct FieldCheck: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func nested(_ field: String) -> FieldCheck { FieldCheck(path: path.isEmpty ? field : "\(path).\(field)") }

    func fail(_ field: String, _ message: String) -> SchemaViolation {
        SchemaViolation(path: nested(field).path, message: message)
    }

    public func text(_ value: String?, _ field: String, maxLength: Int = 200, format: TextFormat? = nil) throws(SchemaViolation) {
        guard let value else { return }
        guard !value.isEmpty else { throw fail(field, "must not be empty") }
        if value.utf8.count > maxLength {
            let length = value.unicodeScalars.count
            guard length <= maxLength else { throw fail(field, "must be at most \(maxLength) characters long, is \(length)") }
        }
        if let format, !format.matches(value) { throw fail(field, "must be \(format.expectation), found \"\(value.prefix(40))\"") }
    }

    public func integer(_ value: Int?, _ field: String, _ range: ClosedRange<Int>) throws(SchemaViolation) {
        guard let value else { return }
        guard range.contains(value) else { throw fail(field, "must be between \(range.lowerBound) and \(range.upperBound), is \(value)") }
    }

    public func number(_ value: Double?, _ field: String, _ range: ClosedRange<Double>) throws(SchemaViolation) {
        guard let value else { return }
        guard range.contains(value) else { throw fail(field, "must be between \(range.lowerBound) and \(range.upperBound), is \(value)") }
    }
}

/// Money in Liaison is a `Decimal`, never binary floating point: at most 6 decimal places and
/// 10^15 in magnitude, which `JSONValueDecoder` enforces for every `Decimal` it decodes.
public enum Money {
    public static let limit = Decimal(string: "1000000000000000")!
}

/// String shapes the schemas name in `$defs`.
public enum TextFormat: Sendable {
    case currency
    case localTime
    case locale
    case timeZone
    case email
    case phone

    var expectation: String {
        switch self {
        case .currency: "an ISO 4217 code of three capital letters, e.g. USD"
        case .localTime: "a local time HH:MM, e.g. 22:00"
        case .locale: "a BCP 47 language tag, e.g. en-US"
        case .timeZone: "an IANA time zone name, e.g. Europe/Berlin"
        case .email: "an email address"
        case .phone: "an E.164 phone number, e.g. +14155550100"
        }
    }

    func matches(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
        func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) }
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
        switch self {
        case .currency:
            return bytes.count == 3 && bytes.allSatisfy(isUpper)
        case .localTime:
            guard bytes.count == 5, bytes.enumerated().allSatisfy({ $0.offset == 2 ? $0.element == UInt8(ascii: ":") : isDigit($0.element) })
            else { return false }
            let hour = Int(bytes[0] - 48) * 10 + Int(bytes[1] - 48)
            return hour < 24 && bytes[3] < UInt8(ascii: "6")
        case .locale:
            let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Array($0.utf8) }
            guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy(isLetter) else { return false }
            return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy(isAlphanumeric) }
        case .timeZone:
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
            guard let area = parts.first, !area.isEmpty, area.allSatisfy({ isLetter($0) || $0 == UInt8(ascii: "_") }) else { return false }
            return parts.dropFirst().allSatisfy { part in
                !part.isEmpty && part.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }
            }
        case .email:
            let forbidden: Set<UInt8> = [UInt8(ascii: " "), 0x09, 0x0A, 0x0D]
            let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !bytes.contains(where: forbidden.contains) else { return false }
            let domain = parts[1]
            return domain.indices.contains { domain[$0] == UInt8(ascii: ".") && $0 > domain.startIndex && $0 < domain.endIndex - 1 }
        case .phone:
            guard bytes.count >= 8, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0") else { return false }
            return bytes.dropFirst().allSatisfy(isDigit)
        }
    }
}
