import Foundation
import LiaisonSchema

/// Calendar arithmetic on whole seconds since the epoch, on `CivilCalendar`, so timestamps are
/// written the same way everywhere, with no formatter whose output depends on the machine's locale.
enum Clock {
    static let minute: Int64 = 60
    static let hour: Int64 = 3_600
    static let day: Int64 = 86_400

    static func epochSeconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0) -> Int64 {
        CivilCalendar.days(year: year, month: month, day: day) * Self.day + Int64(hour) * Self.hour + Int64(minute) * Self.minute
    }

    /// `2026-11-16T06:00:00Z`.
    static func utcText(_ seconds: Int64) -> String {
        wallText(seconds) + "Z"
    }

    /// The local wall time at `offset` seconds east of UTC, with that offset: `2026-11-17T08:30:00+09:00`.
    static func offsetText(_ seconds: Int64, offset: Int) -> String {
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset) / 60
        return wallText(seconds + Int64(offset)) + sign + two(magnitude / 60) + ":" + two(magnitude % 60)
    }

    /// `HH:MM` of a minute of the day, for stories and quiet hours.
    static func clockText(minuteOfDay: Int) -> String {
        two(minuteOfDay / 60) + ":" + two(minuteOfDay % 60)
    }

    private static func wallText(_ seconds: Int64) -> String {
        let days = seconds.floorDivided(by: day)
        let rest = Int(seconds - days * day)
        let date = CivilCalendar.date(days: days)
        return four(date.year) + "-" + two(date.month) + "-" + two(date.day) + "T" + two(rest / 3_600) + ":" + two(rest / 60 % 60) + ":"
            + two(rest % 60)
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    private static func four(_ value: Int) -> String { String(repeating: "0", count: max(0, 4 - String(value).count)) + String(value) }
}

extension Date {
    init(epochSeconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(epochSeconds))
    }

    var epochSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}

/// The IANA zones the demo's customers and airports live in, looked up once. Foundation's zone
/// data is what the notifier reads quiet hours with, so local times computed here are the ones it
/// will see; the standard offsets are only a fallback for a machine without zone data.
enum Zones {
    private static let standardOffsets: [String: Int] = [
        "America/New_York": -5 * 3_600, "America/Los_Angeles": -8 * 3_600, "Europe/London": 0, "Europe/Berlin": 3_600,
        "Asia/Shanghai": 8 * 3_600, "Asia/Tokyo": 9 * 3_600, "Australia/Sydney": 10 * 3_600, "Europe/Paris": 3_600,
        "Asia/Singapore": 8 * 3_600,
    ]

    private static let zones: [String: TimeZone] = Dictionary(uniqueKeysWithValues: standardOffsets.map { identifier, offset in
        (identifier, TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: offset)!)
    })

    /// Seconds east of UTC in the zone at the instant.
    static func offset(_ identifier: String, at seconds: Int64) -> Int {
        zones[identifier]!.secondsFromGMT(for: Date(epochSeconds: seconds))
    }

    /// The instant at which the zone's wall clock shows `minuteOfDay` on the local day `localDay`
    /// (days since the epoch, counted in local dates).
    static func instant(localDay: Int64, minuteOfDay: Int, in identifier: String) -> Int64 {
        let wall = localDay * Clock.day + Int64(minuteOfDay) * Clock.minute
        let guess = wall - Int64(offset(identifier, at: wall))
        return wall - Int64(offset(identifier, at: guess))
    }

    /// The local date of an instant, as days since the epoch.
    static func localDay(_ seconds: Int64, in identifier: String) -> Int64 {
        (seconds + Int64(offset(identifier, at: seconds))).floorDivided(by: Clock.day)
    }

    /// The local minute of the day of an instant.
    static func localMinute(_ seconds: Int64, in identifier: String) -> Int {
        let local = seconds + Int64(offset(identifier, at: seconds))
        return Int((local - local.floorDivided(by: Clock.day) * Clock.day) / Clock.minute)
    }
}

/// The demo writes its records with the schema module's `JSONValue` and `JSONWriter`, members
/// in the order given, so the bytes are the same on every run; these spell its values shortly.
extension JSONValue {
    /// Cents, written with exactly two decimals (`18250.00`).
    static func money(_ cents: Int64) -> JSONValue { .number(JSONNumber(units: cents, scale: 2)) }

    static func integer(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }

    /// A coordinate with four decimals (about 10 m), written without exponent.
    static func coordinate(_ degrees: Double) -> JSONValue {
        .number(JSONNumber(units: Int64((degrees * 10_000).rounded()), scale: 4))
    }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }

    var bytes: [UInt8] { JSONWriter.encode(self) }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
