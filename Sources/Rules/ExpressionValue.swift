import Foundation
import LiaisonSchema

/// A value an expression computes. Numbers are `Decimal` so money and thresholds compare
/// exactly as written; durations are exact seconds so `24h` never drifts.
public enum ExpressionValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case decimal(Decimal)
    case string(String)
    case duration(seconds: Decimal)
    case timestamp(Timestamp)
    case list([ExpressionValue])
    /// A JSON object read from a field path; expressions can only read its members.
    case object(JSONObject)

    /// The value as JSON for action payloads. Durations become ISO 8601 strings in hours,
    /// minutes and seconds (`"PT24H"`, `"PT1H30M"`, `"-PT0.5S"`), never days, because a day is
    /// not always 24 hours; timestamps become their RFC 3339 text with the offset kept.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case let .bool(flag): .bool(flag)
        case let .decimal(number): Self.jsonNumber(number)
        case let .string(text): .string(text)
        case let .duration(seconds): .string(DurationText.iso8601(seconds: seconds))
        case let .timestamp(timestamp): .string(timestamp.text)
        case let .list(elements): .array(elements.map(\.json))
        case let .object(object): .object(object)
        }
    }

    /// Converts a JSON value read from a path. Numbers keep their exact value; one too large
    /// for `Decimal` stays its literal text, a string, so using it as a number is an error.
    init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag)
        case let .number(number):
            if let decimal = number.decimalValue { self = .decimal(decimal) } else { self = .string(number.text) }
        case let .string(text): self = .string(text)
        case let .array(elements): self = .list(elements.map(ExpressionValue.init(json:)))
        case let .object(object): self = .object(object)
        }
    }

    /// What a rule author would call this kind of value in an error message.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a bool"
        case .decimal: "a decimal"
        case .string: "a string"
        case .duration: "a duration"
        case .timestamp: "a timestamp"
        case .list: "a list"
        case .object: "an object"
        }
    }

    private static func jsonNumber(_ number: Decimal) -> JSONValue {
        let text = number.plainText
        if let parsed = try? JSONParser().parse(Array(text.utf8)), case .number = parsed { return parsed }
        return .string(text)
    }
}
