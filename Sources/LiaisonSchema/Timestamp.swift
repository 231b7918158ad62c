import Foundation

/// An instant exactly as upstream wrote it: RFC 3339 with its UTC offset kept, because a
/// departure at 07:05+09:00 is a local time at an airport, not just an instant. Compares by
/// instant; encodes back to the same text.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let text: String
    /// Seconds since 1970-01-01T00:00:00Z.
    public let epochSeconds: Int64
    /// Fraction of the second, truncated to nanoseconds.
    public let nanoseconds: Int32
    /// The offset from UTC the text was written in.
    public let offsetSeconds: Int32

    /// Parses RFC 3339 `date-time` (the JSON Schema format): `2026-11-02T10:15:00Z`,
    /// `2026-11-02T07:05:00.5+09:00`. Leap seconds (`:60`) are refused.
    public init?(_ text: String) {
        guard let parsed = Self.parse(Array(text.utf8)) else { return nil }
        self.text = text
        (epochSeconds, nanoseconds, offsetSeconds) = parsed
    }

    /// The instant in UTC, written with millisecond precision.
    public init(epochMilliseconds: Int64) {
        let seconds = epochMilliseconds.floorDivided(by: 1000)
        let millis = epochMilliseconds - seconds * 1000
        epochSeconds = seconds
        nanoseconds = Int32(millis * 1_000_000)
        offsetSeconds = 0
        text = Self.format(epochSeconds: seconds, milliseconds: Int(millis))
    }

    public init(_ date: Date) {
        self.init(epochMilliseconds: date.epochMilliseconds)
    }

    public var epochMilliseconds: Int64 { epochSeconds * 1000 + Int64(nanoseconds / 1_000_000) }
    public var date: Date { Date(timeIntervalSince1970: Double(epochSeconds) + Double(nanoseconds) / 1e9) }
    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let timestamp = Timestamp(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "\"\(text.prefix(64))\" is not an RFC 3339 date-time with a UTC offset, e.g. 2026-11-02T10:15:00Z")
        }
        self = timestamp
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.epochSeconds, lhs.nanoseconds) < (rhs.epochSeconds, rhs.nanoseconds)
    }

    public static func == (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    private static func parse(_ bytes: [UInt8]) -> (Int64, Int32, Int32)? {
        guard bytes.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for index in start..<(start + count) {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard let year = digits(0, 4), bytes[4] == UInt8(ascii: "-"), let month = digits(5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), bytes[10] | 0x20 == UInt8(ascii: "t"), let hour = digits(11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2), bytes[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var nanos = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
                if index - start < 9 { nanos = nanos * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(9, index - start)..<9 { nanos *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        if bytes[index] | 0x20 == UInt8(ascii: "z") {
            index += 1
        } else {
            let sign = bytes[index]
            guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), let offsetHours = digits(index + 1, 2),
                  index + 3 < bytes.count, bytes[index + 3] == UInt8(ascii: ":"), let offsetMinutes = digits(index + 4, 2),
                  offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = (offsetHours * 3600 + offsetMinutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        }
        guard index == bytes.count else { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        let local = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return (local - Int64(offset), Int32(nanos), Int32(offset))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func format(epochSeconds: Int64, milliseconds: Int) -> String {
        let days = epochSeconds.floorDivided(by: 86_400)
        let secondOfDay = Int(epochSeconds - days * 86_400)
        let (year, month, day) = CivilCalendar.date(days: days)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, at offset: Int, width: Int) {
            var rest = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        put(year, at: 0, width: 4)
        put(month, at: 5, width: 2)
        put(day, at: 8, width: 2)
        put(secondOfDay / 3600, at: 11, width: 2)
        put(secondOfDay / 60 % 60, at: 14, width: 2)
        put(secondOfDay % 60, at: 17, width: 2)
        put(milliseconds, at: 20, width: 3)
        for (offset, byte) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (23, "Z")] as [(Int, Unicode.Scalar)] {
            bytes[offset] = UInt8(ascii: byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Date {
    /// Milliseconds since the epoch, rounded down: the unit every stored time in Liaison uses.
    public var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
