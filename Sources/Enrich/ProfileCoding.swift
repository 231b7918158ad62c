import Foundation
import LiaisonSchema

/// How a profile is stored: compact JSON written and read by hand. Every event reads and
/// writes its customer's profile, so the generic coders would cost more than enriching; JSON
/// keeps the stored profile readable with `sqlite3` and `json_extract`.
///
/// `{"id", "erasedAt", "latest", "name": [value, atMs], … , "accounts": {id: {…}}, "cases",
/// "trips", "research", "contactByChannel", "contactByTemplate", "sentiments": [[atMs, score]],
/// "activity": {"first", "folded": [days, spend, events], "days": [[day, debitMicros, spend, events]]}}`
extension CustomerProfile {
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.key("id")
        writer.string(customerId)
        writer.optionalInteger("erasedAt", erasedAtMs)
        writer.optionalInteger("latest", latestEventMs)
        writer.stamped("name", name) { $0.string($1) }
        writer.stamped("birthYear", birthYear) { $0.integer(Int64($1)) }
        writer.stamped("locale", locale) { $0.string($1) }
        writer.stamped("timeZone", timeZone) { $0.string($1) }
        writer.stamped("tier", tier) { $0.string($1.rawValue) }
        writer.stamped("email", email) { $0.string($1) }
        writer.stamped("phone", phone) { $0.string($1) }
        writer.stamped("pushToken", pushToken) { $0.string($1) }
        writer.stamped("device", device) { $0.string($1.rawValue) }
        writer.stamped("marketingConsent", marketingConsent) { $0.bool($1) }
        writer.stamped("serviceConsent", serviceConsent) { $0.bool($1) }
        writer.stamped("quietHours", quietHours) { writer, hours in
            writer.beginArray()
            writer.string(hours.start)
            writer.string(hours.end)
            writer.endArray()
        }
        writer.map("accounts", accounts) { writer, account in
            writer.beginObject()
            writer.key("type")
            writer.string(account.productType)
            if let balance = account.balance {
                writer.key("balance")
                writer.numberText(balance.plainText)
            }
            if let currency = account.currency {
                writer.key("currency")
                writer.string(currency)
            }
            writer.optionalInteger("balanceAt", account.balanceAtMs)
            writer.optionalInteger("openedAt", account.openedAtMs)
            writer.endObject()
        }
        writer.map("cases", cases) { writer, known in
            writer.beginObject()
            writer.optionalInteger("opened", known.openedAtMs)
            writer.optionalInteger("resolved", known.resolvedAtMs)
            if let topic = known.topic {
                writer.key("topic")
                writer.string(topic)
            }
            writer.endObject()
        }
        writer.map("trips", trips) { writer, trip in
            writer.beginObject()
            for (name, text) in [("flight", trip.flight), ("origin", trip.origin), ("destination", trip.destination), ("departure", trip.departure?.text)] {
                guard let text else { continue }
                writer.key(name)
                writer.string(text)
            }
            writer.optionalInteger("departureAt", trip.departureAtMs)
            writer.optionalInteger("cancelled", trip.cancelledAtMs)
            writer.endObject()
        }
        writer.map("research", research) { $0.integer($1) }
        writer.map("contactByChannel", lastContactByChannel) { $0.integer($1) }
        writer.map("contactByTemplate", lastContactByTemplate) { $0.integer($1) }
        if !sentiments.isEmpty {
            writer.key("sentiments")
            writer.beginArray()
            for point in sentiments {
                writer.beginArray()
                writer.integer(point.atMs)
                writer.numberText("\(point.score)")
                writer.endArray()
            }
            writer.endArray()
        }
        writer.key("activity")
        writer.beginObject()
        writer.optionalInteger("first", activity.firstDay.map(Int64.init))
        writer.key("folded")
        writer.beginArray()
        writer.integer(Int64(activity.folded.days))
        writer.numberText("\(activity.folded.spend)")
        writer.integer(Int64(activity.folded.events))
        writer.endArray()
        writer.key("days")
        writer.beginArray()
        for day in activity.days {
            writer.beginArray()
            writer.integer(Int64(day.day))
            writer.integer(day.checkingDebitMicros)
            writer.numberText("\(day.spend)")
            writer.integer(Int64(day.events))
            writer.endArray()
        }
        writer.endArray()
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    /// Reads what `jsonBytes` wrote; anything else throws a `ProfileDecodingError` naming the member.
    public init(json bytes: [UInt8]) throws {
        let document: JSONValue
        do {
            document = try JSONParser().parse(bytes)
        } catch {
            throw ProfileDecodingError(member: "", message: error.description)
        }
        let root = try StoredObject(document, .root)
        self.init(customerId: try root.string("id"))
        erasedAtMs = try root.optionalInteger("erasedAt")
        latestEventMs = try root.optionalInteger("latest")
        name = try root.stamped("name") { try $0.text() }
        birthYear = try root.stamped("birthYear") { Int(try $0.integer()) }
        locale = try root.stamped("locale") { try $0.text() }
        timeZone = try root.stamped("timeZone") { try $0.text() }
        tier = try root.stamped("tier") { try $0.closedSet(CustomerTier.self) }
        email = try root.stamped("email") { try $0.text() }
        phone = try root.stamped("phone") { try $0.text() }
        pushToken = try root.stamped("pushToken") { try $0.text() }
        device = try root.stamped("device") { try $0.closedSet(DeviceKind.self) }
        marketingConsent = try root.stamped("marketingConsent") { try $0.flag() }
        serviceConsent = try root.stamped("serviceConsent") { try $0.flag() }
        quietHours = try root.stamped("quietHours") { value in
            let pair = try value.array(count: 2)
            return try CustomerProfileUpdatedV1.QuietHours(start: pair[0].text(), end: pair[1].text())
        }
        accounts = try root.map("accounts") { value in
            let object = try StoredObject(value.json, value.member)
            return Account(
                productType: try object.string("type"), balance: try object.optionalDecimal("balance"),
                currency: try object.optionalString("currency"), balanceAtMs: try object.optionalInteger("balanceAt"),
                openedAtMs: try object.optionalInteger("openedAt"))
        }
        cases = try root.map("cases") { value in
            let object = try StoredObject(value.json, value.member)
            return Case(
                openedAtMs: try object.optionalInteger("opened"), resolvedAtMs: try object.optionalInteger("resolved"),
                topic: try object.optionalString("topic"))
        }
        trips = try root.map("trips") { value in
            let object = try StoredObject(value.json, value.member)
            var departure: Timestamp?
            if let text = try object.optionalString("departure") {
                guard let parsed = Timestamp(text) else {
                    throw ProfileDecodingError(member: StoredPath.member(value.member, "departure").description, message: "not a timestamp")
                }
                departure = parsed
            }
            return Trip(
                flight: try object.optionalString("flight"), origin: try object.optionalString("origin"),
                destination: try object.optionalString("destination"), departure: departure,
                departureAtMs: try object.optionalInteger("departureAt"), cancelledAtMs: try object.optionalInteger("cancelled"))
        }
        research = try root.map("research") { try $0.integer() }
        lastContactByChannel = try root.map("contactByChannel") { try $0.integer() }
        lastContactByTemplate = try root.map("contactByTemplate") { try $0.integer() }
        if let points = root.member("sentiments") {
            sentiments = try StoredValue(points, .member(.root, "sentiments")).elements().map { point in
                let pair = try point.array(count: 2)
                return SentimentPoint(atMs: try pair[0].integer(), score: try pair[1].double())
            }
        }
        let activityPath = StoredPath.member(.root, "activity")
        let stored = try StoredObject(try root.required("activity"), activityPath)
        let folded = try StoredValue(try stored.required("folded"), .member(activityPath, "folded")).array(count: 3)
        let days = try StoredValue(try stored.required("days"), .member(activityPath, "days")).elements().map { day in
            let fields = try day.array(count: 4)
            return DailyActivity.Day(
                day: Int(try fields[0].integer()), checkingDebitMicros: try fields[1].integer(), spend: try fields[2].double(),
                events: Int(try fields[3].integer()))
        }
        activity = DailyActivity(
            days: days,
            folded: DailyActivity.Folded(days: Int(try folded[0].integer()), spend: try folded[1].double(), events: Int(try folded[2].integer())),
            firstDay: try stored.optionalInteger("first").map(Int.init))
    }
}

/// A stored profile that does not read back: written by another version, or changed by hand.
public struct ProfileDecodingError: Error, Sendable, CustomStringConvertible {
    public var member: String
    public var message: String

    public var description: String { member.isEmpty ? message : "\(member): \(message)" }
}

/// Where a value sits in a stored profile, spelled out (`trips.b-1.departure`) only for an error.
private indirect enum StoredPath: CustomStringConvertible {
    case root
    case member(StoredPath, String)
    case index(StoredPath, Int)

    var description: String {
        switch self {
        case .root: ""
        case let .member(.root, key): key
        case let .member(parent, key): "\(parent).\(key)"
        case let .index(parent, index): "\(parent)[\(index)]"
        }
    }
}

/// One value of a stored profile, with where it sits for error messages.
private struct StoredValue {
    let json: JSONValue
    let member: StoredPath

    init(_ json: JSONValue, _ member: StoredPath) {
        self.json = json
        self.member = member
    }

    private func wrong(_ expected: String) -> ProfileDecodingError {
        ProfileDecodingError(member: member.description, message: "expected \(expected), found \(json.kindName)")
    }

    func text() throws -> String {
        guard case let .string(text) = json else { throw wrong("a string") }
        return text
    }

    func integer() throws -> Int64 {
        guard case let .number(number) = json, let value = Int64(number.text) else { throw wrong("an integer") }
        return value
    }

    func double() throws -> Double {
        guard case let .number(number) = json, let value = Double(number.text) else { throw wrong("a number") }
        return value
    }

    func flag() throws -> Bool {
        guard case let .bool(value) = json else { throw wrong("a boolean") }
        return value
    }

    func closedSet<Value: ClosedSet>(_ type: Value.Type) throws -> Value {
        guard let value = Value(rawValue: try text()) else { throw wrong("one of \(Value.allCases.map(\.rawValue))") }
        return value
    }

    func elements() throws -> [StoredValue] {
        guard case let .array(elements) = json else { throw wrong("an array") }
        return elements.enumerated().map { StoredValue($1, .index(member, $0)) }
    }

    func array(count: Int) throws -> [StoredValue] {
        let elements = try elements()
        guard elements.count == count else { throw wrong("an array of \(count)") }
        return elements
    }
}

private struct StoredObject {
    let object: JSONObject
    let path: StoredPath

    init(_ json: JSONValue, _ path: StoredPath) throws {
        guard case let .object(object) = json else {
            throw ProfileDecodingError(member: path.description, message: "expected an object, found \(json.kindName)")
        }
        self.object = object
        self.path = path
    }

    private func name(_ key: String) -> StoredPath { .member(path, key) }

    func member(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func required(_ key: String) throws -> JSONValue {
        guard let value = member(key) else { throw ProfileDecodingError(member: name(key).description, message: "is missing") }
        return value
    }

    func string(_ key: String) throws -> String {
        try StoredValue(try required(key), name(key)).text()
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = member(key) else { return nil }
        return try StoredValue(value, name(key)).text()
    }

    func optionalInteger(_ key: String) throws -> Int64? {
        guard let value = member(key) else { return nil }
        return try StoredValue(value, name(key)).integer()
    }

    func optionalDecimal(_ key: String) throws -> Decimal? {
        guard let value = member(key) else { return nil }
        guard case let .number(number) = value, let decimal = number.decimalValue else {
            throw ProfileDecodingError(member: name(key).description, message: "expected a decimal number")
        }
        return decimal
    }

    func stamped<Value>(
        _ key: String, _ read: (StoredValue) throws -> Value
    ) throws -> CustomerProfile.Stamped<Value>? {
        guard let value = member(key) else { return nil }
        let pair = try StoredValue(value, name(key)).array(count: 2)
        return CustomerProfile.Stamped(value: try read(pair[0]), atMs: try pair[1].integer())
    }

    func map<Value>(_ key: String, _ read: (StoredValue) throws -> Value) throws -> [String: Value] {
        guard let value = member(key) else { return [:] }
        guard case let .object(entries) = value else {
            throw ProfileDecodingError(member: name(key).description, message: "expected an object, found \(value.kindName)")
        }
        var result: [String: Value] = [:]
        result.reserveCapacity(entries.count)
        for entry in entries { result[entry.key] = try read(StoredValue(entry.value, .member(name(key), entry.key))) }
        return result
    }
}

extension JSONWriter {
    /// A number as Swift prints it: `Decimal` and `Double` descriptions are valid JSON numbers.
    fileprivate mutating func numberText(_ text: String) {
        raw(text.utf8)
    }

    fileprivate mutating func optionalInteger(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        integer(value)
    }

    fileprivate mutating func stamped<Value>(
        _ name: String, _ stamped: CustomerProfile.Stamped<Value>?, _ write: (inout JSONWriter, Value) -> Void
    ) {
        guard let stamped else { return }
        key(name)
        beginArray()
        write(&self, stamped.value)
        integer(stamped.atMs)
        endArray()
    }

    /// Entries sorted by key, so the same profile is always stored as the same bytes.
    fileprivate mutating func map<Value>(_ name: String, _ entries: [String: Value], _ write: (inout JSONWriter, Value) -> Void) {
        guard !entries.isEmpty else { return }
        key(name)
        beginObject()
        for (entry, value) in entries.sorted(by: { $0.key < $1.key }) {
            key(entry)
            write(&self, value)
        }
        endObject()
    }
}
