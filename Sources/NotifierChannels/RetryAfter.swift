import Foundation

/// Reads a `Retry-After` field (RFC 9110, section 10.2.3): the provider's own word on when to
/// try again, which the retry policy prefers to its back-off.
public enum RetryAfter {
    /// The longest wait taken from a provider. A larger value is clamped to it, not ignored:
    /// the provider does want a long pause, but a message hours late is rarely worth sending,
    /// and the retry policy's own deadline decides that, not a header.
    public static let maximum: Duration = .seconds(3_600)

    /// The wait `value` asks for, as seen at `now`: delta-seconds (`120`) or an HTTP-date in any
    /// of the three forms RFC 9110 requires recipients to accept (`Sun, 06 Nov 1994 08:49:37 GMT`,
    /// the obsolete RFC 850 and asctime forms). `nil` when the value is not one of those, or is
    /// a date already past: such a value gives no advice, and the policy's back-off applies.
    public static func parse(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard let first = text.utf8.first else { return nil }
        if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) {
            return parseDeltaSeconds(text)
        }
        guard let date = HTTPDate.parse(text, now: now) else { return nil }
        let seconds = date.timeIntervalSince(now)
        guard seconds > 0 else { return nil }
        return min(.seconds(seconds.rounded(.up)), maximum)
    }

    private static func parseDeltaSeconds(_ text: String) -> Duration? {
        let limit = maximum.components.seconds
        var seconds: Int64 = 0
        for byte in text.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            if seconds <= limit { seconds = seconds * 10 + Int64(byte - UInt8(ascii: "0")) }
        }
        return .seconds(min(seconds, limit))
    }
}

/// The HTTP-date forms of RFC 9110, section 5.6.7, read by hand: they are fixed-width, and a
/// `DateFormatter` would bring locale and time-zone state into a pure function.
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let shortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// The instant of an IMF-fixdate, rfc850-date or asctime-date; `nil` for anything else,
    /// including impossible dates such as 31 Feb. `now` places an rfc850-date's two-digit year.
    static func parse(_ text: String, now: Date) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if parts.count == 6, parts[0].hasSuffix(","), shortDays.contains(String(parts[0].dropLast())), parts[5] == "GMT",
            parts[1].count == 2, parts[3].count == 4
        {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            return instant(year: number(parts[3]), month: month(parts[2]), day: number(parts[1]), time: parts[4])
        }
        if parts.count == 4, parts[0].hasSuffix(","), longDays.contains(String(parts[0].dropLast())), parts[3] == "GMT" {
            // rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard date.count == 3, date[0].count == 2, date[2].count == 2, let shortYear = number(date[2]) else { return nil }
            return instant(year: fullYear(twoDigits: shortYear, now: now), month: month(date[1]), day: number(date[0]), time: parts[2])
        }
        if parts.count == 5, shortDays.contains(parts[0]), parts[2].count <= 2, parts[4].count == 4 {
            // asctime-date: Sun Nov  6 08:49:37 1994
            return instant(year: number(parts[4]), month: month(parts[1]), day: number(parts[2]), time: parts[3])
        }
        return nil
    }

    /// RFC 9110: a two-digit year that would be more than 50 years in the future is the most
    /// recent past year with those digits.
    private static func fullYear(twoDigits: Int, now: Date) -> Int {
        let thisYear = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(secondsFromGMT: 0)!, from: now).year ?? 2000
        var year = thisYear - thisYear % 100 + twoDigits
        if year > thisYear + 50 { year -= 100 }
        return year
    }

    private static func number(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int(text)
    }

    private static func month(_ name: String) -> Int? {
        months.firstIndex(of: name).map { $0 + 1 }
    }

    private static func instant(year: Int?, month: Int?, day: Int?, time: String) -> Date? {
        let clock = time.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let year, let month, let day, clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = number(clock[0]), let minute = number(clock[1]), let second = number(clock[2]),
            hour < 24, minute < 60, second < 60, day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date, counting in 400-year eras
    /// of 146,097 days that start on 1 March, so leap days fall at the end of a year.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
