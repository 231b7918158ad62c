import Foundation

extension Decimal {
    /// The value as a plain JSON number (`-1234.5`, `0.000001`, `1000`): the same text as
    /// `description`, which costs microseconds per call on Linux, enough to dominate writing
    /// an enriched event's money. Values whose significand needs more than 64 bits fall back to it.
    public var plainText: String {
        guard !isNaN else { return description }
        guard !isZero else { return "0" }
        let magnitude = significand
        guard magnitude <= Self.largestFastSignificand else { return description }
        let digits = String(NSDecimalNumber(decimal: magnitude).uint64Value)
        let sign = self.sign == .minus ? "-" : ""
        let exponent = self.exponent
        if exponent >= 0 { return sign + digits + String(repeating: "0", count: exponent) }
        let places = -exponent
        if digits.count > places {
            let point = digits.index(digits.endIndex, offsetBy: -places)
            return sign + digits[..<point] + "." + digits[point...]
        }
        return sign + "0." + String(repeating: "0", count: places - digits.count) + digits
    }

    private static let largestFastSignificand = Decimal(UInt64.max)
}

extension JSONNumber {
    /// The literal's exact value, read without Foundation's general parser when it is a plain
    /// literal of at most 18 digits; nil when a decimal cannot hold it.
    public var decimalValue: Decimal? {
        if let (decimal, _, _) = smallDecimal(text) { return decimal }
        guard let decimal = Decimal(string: text, locale: nil), !decimal.isNaN else { return nil }
        return decimal
    }
}
