import Foundation
import LiaisonSchema
import Mustache

extension TemplateCatalog {
    /// The values an action's templates see: its payload, plus `customerId` and `recipient`
    /// (an object with the customer's `name`) unless the payload already has members so named.
    /// One place builds them, so every template can count on the same names.
    public static func values(for action: ActionV1) -> JSONObject {
        var values = action.payload
        if !values.contains("customerId") { values["customerId"] = .string(action.customerId) }
        if !values.contains("recipient") {
            var recipient = JSONObject()
            if let name = action.recipient?.name { recipient["name"] = .string(name) }
            values["recipient"] = .object(recipient)
        }
        return values
    }
}

/// How numbers and times read in one locale, worked out once per rendering.
struct LocaleFormatting {
    let locale: Locale
    let decimalSeparator: String
    let groupingSeparator: String

    init(localeTag: String) {
        locale = Locale(identifier: localeTag.replacingOccurrences(of: "_", with: "-"))
        decimalSeparator = Self.plain(locale.decimalSeparator ?? ".")
        groupingSeparator = Self.plain(locale.groupingSeparator ?? ",")
    }

    /// Some locales group digits with a typographic apostrophe (de-CH) or a narrow no-break
    /// space (fr), and ICU puts the latter before "AM"; GSM-7 has neither, and one such
    /// character would turn a whole SMS into UCS-2 and halve its length. The ASCII forms read
    /// the same.
    static func plain(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{2019}": result.append("'")
            case "\u{00A0}", "\u{202F}", "\u{2009}": result.append(" ")
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `1234567.5` as `1,234,567.5` (en), `1.234.567,5` (de) or `1'234'567.5` (de-CH).
    func localized(plainDecimal text: String) -> String {
        let negative = text.hasPrefix("-")
        let unsigned = negative ? text.dropFirst() : Substring(text)
        let parts = unsigned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = parts[0]
        var grouped = ""
        for (index, digit) in integer.enumerated() {
            if index > 0, (integer.count - index) % 3 == 0 { grouped += groupingSeparator }
            grouped.append(digit)
        }
        let fraction = parts.count > 1 ? decimalSeparator + parts[1] : ""
        return (negative ? "-" : "") + grouped + fraction
    }

    func formatted(_ timestamp: Timestamp, skeleton: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.timeZone = TimeZone(secondsFromGMT: Int(timestamp.offsetSeconds))
        formatter.dateFormat = DateFormatter.dateFormat(fromTemplate: skeleton, options: 0, locale: locale)
        return Self.plain(formatter.string(from: timestamp.date))
    }
}

/// Turns JSON values into what swift-mustache renders, so payloads render as their JSON
/// reads: numbers as written (never through `Double`, never with an exponent), `null` and
/// empty strings as false in sections.
enum TemplateValueConversion {
    static func context(_ values: JSONObject, formatting: LocaleFormatting) -> [String: Any] {
        var context: [String: Any] = [:]
        for member in values { context[member.key] = convert(member.value, formatting: formatting) }
        return context
    }

    static func convert(_ value: JSONValue, formatting: LocaleFormatting) -> Any {
        switch value {
        case .null: TemplateNull()
        case let .bool(flag): flag
        case let .number(number): TemplateNumber(number: number, formatting: formatting)
        case let .string(text): TemplateText(text: text, formatting: formatting)
        case let .array(elements): elements.map { convert($0, formatting: formatting) }
        case let .object(object): context(object, formatting: formatting)
        }
    }
}

/// The leaf values are their own `MustacheParent`s with no children, so a name looked up
/// inside a section over a value climbs to the enclosing objects instead of matching one of
/// these types' stored properties by reflection.
struct TemplateNull: MustacheCustomRenderable, MustacheParent {
    var renderText: String { "" }
    var isNull: Bool { true }
    func child(named: String) -> Any? { nil }
}

/// A JSON number. Renders as plain decimal text; the transforms format it for the locale:
/// `grouped` (digit groups, decimals as given), `money` (two decimals, digit groups),
/// `rounded` (at most two decimals) and `percent` (a fraction as a whole percentage).
struct TemplateNumber: MustacheCustomRenderable, MustacheParent, MustacheTransformable {
    let number: JSONNumber
    let formatting: LocaleFormatting

    var renderText: String { PlainDecimal.text(ofLiteral: number.text) }
    var isNull: Bool { false }
    func child(named: String) -> Any? { nil }

    func transform(_ name: String) -> Any? {
        switch name {
        case "grouped":
            return formatting.localized(plainDecimal: renderText)
        case "money":
            guard let value = number.decimalValue else { return renderText }
            return formatting.localized(plainDecimal: PlainDecimal.text(of: value, places: 2, padded: true))
        case "rounded":
            guard let value = number.decimalValue else { return renderText }
            return formatting.localized(plainDecimal: PlainDecimal.text(of: value, places: 2, padded: false))
        case "percent":
            guard let value = number.decimalValue else { return nil }
            return formatting.localized(plainDecimal: PlainDecimal.text(of: value * 100, places: 0, padded: false))
        default:
            return nil
        }
    }
}

/// A JSON string. Timestamps (RFC 3339) can be shown in their own UTC offset, the local time
/// where they happen: `date` (day and abbreviated month), `dateWithYear` and `time` (hours and
/// minutes, in the locale's clock). swift-mustache's string transforms (`uppercased`, …) still apply.
struct TemplateText: MustacheCustomRenderable, MustacheParent, MustacheTransformable {
    let text: String
    let formatting: LocaleFormatting

    var renderText: String { text }
    var isNull: Bool { text.isEmpty }
    func child(named: String) -> Any? { nil }

    func transform(_ name: String) -> Any? {
        switch name {
        case "date":
            return Timestamp(text).map { formatting.formatted($0, skeleton: "MMMd") }
        case "dateWithYear":
            return Timestamp(text).map { formatting.formatted($0, skeleton: "yMMMd") }
        case "time":
            return Timestamp(text).map { formatting.formatted($0, skeleton: "jjmm") }
        default:
            return text.transform(name)
        }
    }
}

/// Decimal text without exponents, computed on the digits so no value is rounded on the way.
enum PlainDecimal {
    /// `1.5e3` as `1500`, `25E-3` as `0.025`; a literal without an exponent is returned as is.
    static func text(ofLiteral literal: String) -> String {
        guard let exponentIndex = literal.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return literal }
        guard let exponent = Int(literal[literal.index(after: exponentIndex)...].replacingOccurrences(of: "+", with: "")) else {
            return literal
        }
        var mantissa = literal[..<exponentIndex]
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa = mantissa.dropFirst() }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let digits = String(parts[0]) + fraction
        let point = parts[0].count + exponent
        var integerPart: String
        var fractionPart: String
        if point <= 0 {
            integerPart = "0"
            fractionPart = String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            integerPart = digits + String(repeating: "0", count: point - digits.count)
            fractionPart = ""
        } else {
            integerPart = String(digits.prefix(point))
            fractionPart = String(digits.dropFirst(point))
        }
        integerPart = String(integerPart.drop { $0 == "0" })
        if integerPart.isEmpty { integerPart = "0" }
        if fractionPart.allSatisfy({ $0 == "0" }) { fractionPart = "" }
        let sign = negative && !(integerPart == "0" && fractionPart.isEmpty) ? "-" : ""
        return sign + integerPart + (fractionPart.isEmpty ? "" : "." + fractionPart)
    }

    /// The value rounded half away from zero to `places` decimals; `padded` keeps trailing zeros.
    static func text(of value: Decimal, places: Int, padded: Bool) -> String {
        var source = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &source, places, .plain)
        var text = rounded.plainText
        guard padded, places > 0 else { return text }
        let decimals = text.firstIndex(of: ".").map { text.distance(from: text.index(after: $0), to: text.endIndex) } ?? -1
        if decimals < 0 { text += "." }
        return text + String(repeating: "0", count: places - max(decimals, 0))
    }
}
