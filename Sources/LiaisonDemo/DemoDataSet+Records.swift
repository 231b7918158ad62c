import Foundation
import LiaisonSchema

/// The accounts a customer's postings go to.
enum Account: String {
    case checking, savings, cd
}

/// Something a customer does or has happen to them, before it is written as an upstream record.
/// Planning first and writing afterwards lets the generator add and remove plans freely and then
/// compute what depends on order: running balances, and salaries that cover what was spent.
enum Activity {
    /// The whole profile, as the customer master sends it when the customer is created.
    case profile
    /// A later profile update carrying only the changed fields.
    case profileChange(JSONValue)
    case erasure
    case posting(Account, cents: Int64, text: String)
    /// A payroll credit; its amount is settled once all of the month's debits are known.
    case salary
    case deposit(via: String, cents: Int64)
    case productOpened(type: String, account: String, termDays: Int?)
    case booking(id: String, flight: String, from: Airport, to: Airport, departure: Int64)
    case reschedule(id: String, from: Airport, departure: Int64)
    case cancellation(id: String)
    /// A CRM case row inserted (Debezium `c`).
    case caseOpened(id: Int, topic: String, severity: String)
    /// The row's status changed (Debezium `u`); only `resolved` becomes an event.
    case caseStatus(id: Int, status: String)
    case invoice(number: String, order: String, cents: Int64)
    case feedback(channel: String, text: String?, rating: Int?, language: String?)
    case research(String)
    case geo(type: String, place: String, lat: Double, lon: Double)
}

/// An activity at an instant. `order` keeps plans at the same second in the order they were made.
struct Plan {
    var time: Int64
    var activity: Activity
    var order = 0
}

/// Writes one customer's plans as upstream records, in time order, keeping the running balance
/// of each account so every `balanceAfter` is what the bank would report.
struct RecordWriter {
    let persona: Persona
    let pushToken: String?
    private var balances: [Account: Int64] = [:]
    private var sequence = 0
    private var cases: [Int: (topic: String, severity: String, status: String, opened: Int64)] = [:]
    private(set) var records: [UpstreamRecord] = []

    /// `openingChecking` and `openingSavings` are the balances before the first plan, in cents.
    init(persona: Persona, pushToken: String?, openingChecking: Int64, openingSavings: Int64) {
        self.persona = persona
        self.pushToken = pushToken
        balances = [.checking: openingChecking, .savings: openingSavings, .cd: 0]
    }

    /// The sorted plans as records; salaries must already be settled into postings.
    mutating func write(_ plans: [Plan]) {
        for plan in plans { write(plan) }
    }

    private mutating func nextID(_ prefix: String) -> String {
        sequence += 1
        let digits = String(sequence)
        return "\(prefix)-\(persona.number)-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    private mutating func write(_ plan: Plan) {
        let time = plan.time
        switch plan.activity {
        case .profile:
            event("sor.customer", "customer-master", "prof", "customer.profile.updated", time, persona.profileData(pushToken: pushToken))
        case let .profileChange(data):
            event("sor.customer", "customer-master", "prof", "customer.profile.updated", time, data)
        case .erasure:
            event("sor.customer", "privacy-portal", "erase", "customer.erasure.requested", time, nil)
        case let .posting(account, cents, text):
            balances[account, default: 0] += cents
            let accountId = "\(account == .checking ? "chk" : account == .savings ? "sav" : "cd")-\(persona.number)"
            event("sor.core-banking", "core-banking", "txn", "banking.transaction.posted", time, .object([
                ("accountId", .string(accountId)), ("accountType", .string(account.rawValue)), ("amount", .money(cents)),
                ("currency", .string(persona.currency)), ("balanceAfter", .money(balances[account]!)), ("description", .string(text)),
            ]))
        case .salary:
            preconditionFailure("salaries are settled into postings before writing")
        case let .deposit(via, cents):
            let id = nextID("dep")
            event("sor.core-banking", "core-banking", "dep", "banking.check.deposited", time, .object([
                ("accountId", .string("chk-\(persona.number)")), ("depositId", .string(id)), ("amount", .money(cents)),
                ("currency", .string(persona.currency)), ("via", .string(via)),
            ]), id: id)
        case let .productOpened(type, account, termDays):
            var data: [(String, JSONValue)] = [("accountId", .string(account)), ("productType", .string(type))]
            if let termDays { data.append(("termDays", .integer(termDays))) }
            event("sor.core-banking", "core-banking", "prod", "banking.product.opened", time, .object(data))
        case let .booking(id, flight, from, to, departure):
            event("sor.booking", "booking", "bkg", "travel.booking.confirmed", time, .object([
                ("bookingId", .string(id)), ("flight", .string(flight)), ("origin", .string(from.code)),
                ("destination", .string(to.code)), ("departure", .string(Self.departureText(departure, at: from))),
            ]))
        case let .reschedule(id, from, departure):
            event("sor.booking", "booking", "bkg", "travel.flight.rescheduled", time, .object([
                ("bookingId", .string(id)), ("departure", .string(Self.departureText(departure, at: from))),
            ]))
        case let .cancellation(id):
            event("sor.booking", "booking", "bkg", "travel.booking.cancelled", time, .object([("bookingId", .string(id))]))
        case let .caseOpened(id, topic, severity):
            cases[id] = (topic, severity, "open", time)
            caseChange(id, op: "c", before: nil, time: time)
        case let .caseStatus(id, status):
            let before = cases[id]!
            cases[id]!.status = status
            caseChange(id, op: "u", before: before, time: time)
        case let .invoice(number, order, cents):
            invoice(number: number, order: order, cents: cents, time: time)
        case let .feedback(channel, text, rating, language):
            var data: [(String, JSONValue)] = [("channel", .string(channel))]
            if let text { data.append(("text", .string(text))) }
            if let rating { data.append(("rating", .integer(rating))) }
            if let language { data.append(("language", .string(language))) }
            event("sor.engagement", "feedback-hub", "fb", "engagement.feedback.received", time, .object(data))
        case let .research(topic):
            event("sor.engagement", "web-analytics", "web", "engagement.web.researched", time, .object([("topic", .string(topic))]))
        case let .geo(type, place, lat, lon):
            event("sor.engagement", "mobile-app", "geo", "engagement.geo.entered", time, .object([
                ("placeType", .string(type)), ("placeId", .string(place)), ("lat", JSONValue.coordinate(lat)), ("lon", JSONValue.coordinate(lon)),
            ]))
        }
    }

    /// A structured-mode CloudEvent keyed by the customer, `time` its own publication time.
    private mutating func event(
        _ topic: String, _ source: String, _ prefix: String, _ type: String, _ time: Int64, _ data: JSONValue?, id: String? = nil
    ) {
        let id = id ?? nextID(prefix)
        let value = Self.cloudEvent(id: id, source: source, type: type, time: time, subject: persona.id, data: data)
        records.append(UpstreamRecord(
            topic: topic, key: Array(persona.id.utf8), value: value.bytes, time: Date(epochSeconds: time), id: id, customer: persona.id,
            type: type, expected: .event))
    }

    static func cloudEvent(id: String, source: String, type: String, time: Int64, subject: String, data: JSONValue?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("specversion", .string("1.0")), ("id", .string(id)), ("source", .string(source)), ("type", .string(type)),
            ("time", .string(Clock.utcText(time))), ("subject", .string(subject)), ("datacontenttype", .string("application/json")),
        ]
        if let data { members.append(("data", data)) }
        return .object(members)
    }

    /// Departure in the airport's own offset, as airlines publish it (daylight saving included).
    static func departureText(_ departure: Int64, at airport: Airport) -> String {
        Clock.offsetText(departure, offset: Zones.offset(airport.zone, at: departure))
    }

    /// A Debezium change event on the CRM's `cases` table (JSONValue converter without schemas), keyed
    /// by the row's primary key as the connector keys it. The log sequence number is taken from
    /// the commit time, so it grows as a real one does.
    private mutating func caseChange(_ id: Int, op: String, before: (topic: String, severity: String, status: String, opened: Int64)?, time: Int64) {
        let row = cases[id]!
        func rowJSON(_ row: (topic: String, severity: String, status: String, opened: Int64)) -> JSONValue {
            .object([
                ("case_id", .integer(id)), ("customer_id", .string(persona.id)), ("topic", .string(row.topic)),
                ("severity", .string(row.severity)), ("status", .string(row.status)), ("opened_at", .string(Clock.utcText(row.opened))),
            ])
        }
        let lsn = time * 1_000 + Int64(id % 1_000)
        let change = JSONValue.object([
            ("before", before.map(rowJSON) ?? .null), ("after", rowJSON(row)),
            ("source", .object([
                ("version", .string("2.7.3.Final")), ("connector", .string("postgresql")), ("name", .string("crm")),
                ("ts_ms", .number(JSONNumber(time * 1_000))), ("db", .string("crm")), ("schema", .string("public")),
                ("table", .string("cases")), ("lsn", .number(JSONNumber(lsn))),
            ])),
            ("op", .string(op)), ("ts_ms", .number(JSONNumber(time * 1_000 + 180))),
        ])
        let type: String? = op == "c" ? "crm.case.opened" : row.status == "resolved" ? "crm.case.resolved" : nil
        records.append(UpstreamRecord(
            topic: "sor.crm.cases", key: JSONValue.object([("case_id", .integer(id))]).bytes, value: change.bytes, time: Date(epochSeconds: time),
            id: "case-\(id)-\(op)-\(lsn)", customer: persona.id, type: type, expected: type == nil ? .ignored : .event))
    }

    /// A paid invoice as the ERP publishes it: plain JSONValue, which the `erp-invoices` mapping reads.
    private mutating func invoice(number: String, order: String, cents: Int64, time: Int64) {
        let value = JSONValue.object([
            ("invoice_no", .string(number)), ("order_no", .string(order)),
            ("customer", .object([("id", .string(persona.id)), ("name", .string(persona.name))])), ("total", .money(cents)),
            ("currency", .string(persona.currency)), ("paid_at", .string(Clock.utcText(time))), ("payment_method", .string("card")),
        ])
        records.append(UpstreamRecord(
            topic: "sor.erp.invoices", key: Array(persona.id.utf8), value: value.bytes, time: Date(epochSeconds: time),
            id: "invoice-\(number)", customer: persona.id, type: "finance.invoice.paid", expected: .event))
    }
}
