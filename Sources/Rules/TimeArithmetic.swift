import Foundation
import LiaisonSchema

/// Reads and writes durations: the compact rule syntax (`24h`, `1d12h`, `1.5h`, `2w`) and
/// ISO 8601 (`PT24H`, `P1DT12H`), so a duration written to a payload reads back.
enum DurationText {
    static let unitSeconds: [Character: Decimal] = ["w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1]

    /// Parses `24h`, `1d12h`, `90s`: one or more number-unit pairs, units w d h m s.
    static func parseCompact(_ text: String) -> Decimal? {
        var total = Decimal(0)
        var number = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber || character == "." {
                number.append(character)
            } else if let seconds = unitSeconds[character], let amount = decimal(number) {
                total += amount * seconds
                number = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        return number.isEmpty && sawUnit ? total : nil
    }

    /// Parses ISO 8601 durations with days, hours, minutes and seconds, optionally negative.
    static func parseISO8601(_ text: String) -> Decimal? {
        var rest = Substring(text)
        let negative = rest.hasPrefix("-")
        if negative { rest = rest.dropFirst() }
        guard rest.hasPrefix("P") else { return nil }
        rest = rest.dropFirst()
        var total = Decimal(0)
        var inTime = false
        var number = ""
        var sawUnit = false
        for character in rest {
            switch character {
            case "T" where !inTime && number.isEmpty:
                inTime = true
            case "0"..."9", ".":
                number.append(character)
            case "D" where !inTime, "H" where inTime, "M" where inTime, "S" where inTime:
                guard let amount = decimal(number), let seconds = unitSeconds[Character(character.lowercased())] else { return nil }
                total += amount * seconds
                number = ""
                sawUnit = true
            default:
                return nil
            }
        }
        guard number.isEmpty, sawUnit else { return nil }
        return negative ? -total : total
    }

    /// Writes seconds as ISO 8601 in hours, minutes and seconds: `PT24H`, `PT1H30M`, `-PT0.5S`.
    static func iso8601(seconds: Decimal) -> String {
        if seconds == 0 { return "PT0S" }
        let magnitude = abs(seconds)
        let hours = rounded(magnitude / 3600, places: 0, mode: .down)
        let minutes = rounded((magnitude - hours * 3600) / 60, places: 0, mode: .down)
        let rest = magnitude - hours * 3600 - minutes * 60
        var text = seconds < 0 ? "-PT" : "PT"
        if hours > 0 { text += "\(hours)H" }
        if minutes > 0 { text += "\(minutes)M" }
        if rest > 0 { text += "\(rest)S" }
        return text
    }

    private static func decimal(_ text: String) -> Decimal? {
        guard !text.isEmpty, text.first != ".", text.last != ".", text.filter({ $0 == "." }).count <= 1 else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }
}

/// Rounds with Foundation's decimal rounding: `.plain` is half away from zero, `.down` is
/// toward negative infinity, `.up` toward positive infinity.
func rounded(_ value: Decimal, places: Int, mode: NSDecimalNumber.RoundingMode) -> Decimal {
    var input = value
    var output = Decimal()
    NSDecimalRound(&output, &input, places, mode)
    return output
}

/// The integer a decimal holds exactly, if it is a whole number of reasonable size.
func exactInteger(_ value: Decimal) -> Int64? {
    guard !value.isNaN, abs(value) < Decimal(string: "1e18", locale: Locale(identifier: "en_US_POSIX")) ?? 0,
          rounded(value, places: 0, mode: .down) == value
    else { return nil }
    return Int64(value.description)
}

/// Timestamp arithmetic on exact instants that writes results in the original UTC offset,
/// so `departure - 24h` for a departure at 07:05+02:00 reads as a time at the same airport.
enum TimestampArithmetic {
    private static let nanosPerSecond = Decimal(1_000_000_000)

    /// The instant as exact seconds since 1970. The fraction is scaled by its exponent, not
    /// divided: `Decimal` division is slow, and this runs for every timestamp a rule compares.
    static func seconds(_ timestamp: Timestamp) -> Decimal {
        let whole = Decimal(timestamp.epochSeconds)
        guard timestamp.nanoseconds != 0 else { return whole }
        return whole + Decimal(sign: .plus, exponent: -9, significand: Decimal(Int(timestamp.nanoseconds)))
    }

    /// `timestamp` moved by `seconds`, written in the timestamp's own offset; nil when the
    /// result falls outside the years 0001–9999 that RFC 3339 can write.
    static func adding(seconds: Decimal, to timestamp: Timestamp) -> Timestamp? {
        let total = rounded(Self.seconds(timestamp) + seconds, places: 9, mode: .plain)
        let wholeSeconds = rounded(total, places: 0, mode: .down)
        guard !total.isNaN, abs(wholeSeconds) < 300_000_000_000, let epochSeconds = Int64(wholeSeconds.description),
              let nanos = Int64(((total - wholeSeconds) * nanosPerSecond).description)
        else { return nil }
        let local = epochSeconds + Int64(timestamp.offsetSeconds)
        let days = local.floorDivided(by: 86_400)
        let secondOfDay = local - days * 86_400
        let date = CivilCalendar.date(days: days)
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        guard (1...9999).contains(year) else { return nil }
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if nanos != 0 {
            var fraction = pad(nanos, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        text += offsetText(Int64(timestamp.offsetSeconds))
        return Timestamp(text)
    }

    private static func offsetText(_ offset: Int64) -> String {
        if offset == 0 { return "Z" }
        let magnitude = abs(offset)
        return (offset < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
