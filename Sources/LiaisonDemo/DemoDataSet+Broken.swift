import Foundation
import LiaisonSchema

/// Records upstream gets wrong, one kind for each way ingest turns a record away, so the report
/// shows dead letters with their reasons next to the engagements.
enum BrokenKind: String, CaseIterable {
    case truncated, notANumber, htmlErrorPage, invalidUTF8, duplicateMember, tombstone
    case unknownType, unknownEngagementType
    case amountAsText, ratingOutOfRange, emailWithoutAt, depositWithoutVia, departureWithoutOffset, impossibleDate, textContentType
    case missingSubject, futureTime
    case invoiceTotalText, invoiceWithoutCustomer, changeWithoutOp
    /// Keyed by another customer than its subject: ingest keys the canonical event by the
    /// subject, so the event reaches the right customer's partition and nothing is rejected.
    case misroutedKey

    /// What ingest must make of it.
    var expected: IngestExpectation {
        switch self {
        case .truncated, .notANumber, .htmlErrorPage: .deadLetter(reason: "invalid_json")
        case .invalidUTF8: .deadLetter(reason: "invalid_utf8")
        case .duplicateMember: .deadLetter(reason: "duplicate_key")
        case .tombstone: .deadLetter(reason: "empty_record")
        case .unknownType, .unknownEngagementType: .deadLetter(reason: "unknown_type")
        case .amountAsText, .ratingOutOfRange, .emailWithoutAt, .depositWithoutVia, .departureWithoutOffset, .impossibleDate,
             .textContentType, .invoiceTotalText, .changeWithoutOp:
            .deadLetter(reason: "schema_violation")
        case .missingSubject, .invoiceWithoutCustomer: .deadLetter(reason: "missing_subject")
        case .futureTime: .deadLetter(reason: "future_timestamp")
        case .misroutedKey: .event
        }
    }
}

extension Generator {
    /// A few of each kind (one per 150 customers, at least one), about the ordinary customers,
    /// at random times in the history and the live phase; a future-dated record only in the live
    /// phase, where ingest's clock is the publication time.
    func brokenRecords(victims: [Persona], using random: inout SplitMix64) -> [UpstreamRecord] {
        var records: [UpstreamRecord] = []
        let copies = max(1, customers / 150)
        for kind in BrokenKind.allCases {
            for copy in 0..<copies {
                let victim = random.pick(victims)
                let inLive = kind == .futureTime || copy % 2 == 0
                let time = inLive
                    ? liveStart + 40 * Clock.minute + Int64(random.int(0...Int(liveEnd - liveStart - 80 * Clock.minute)))
                    : historyStart + Clock.day + Int64(random.int(0...Int(liveStart - historyStart - 2 * Clock.day)))
                let other = random.pick(victims.filter { $0.id != victim.id })
                records.append(broken(kind, copy: copy, victim: victim, other: other, time: time))
            }
        }
        return records
    }

    private func broken(_ kind: BrokenKind, copy: Int, victim: Persona, other: Persona, time: Int64) -> UpstreamRecord {
        let id = "bad-\(kind.rawValue)-\(copy + 1)"
        let subject = victim.id
        let transaction = JSONValue.object([
            ("accountId", .string("chk-\(victim.number)")), ("accountType", .string("checking")), ("amount", .money(-4_210)),
            ("currency", .string(victim.currency)), ("balanceAfter", .money(123_456)), ("description", .string("Grocery")),
        ])
        func event(
            _ type: String, _ data: JSONValue, time eventTime: Int64 = time, subject: String? = subject, contentType: String = "application/json"
        ) -> String {
            var members: [(String, JSONValue)] = [
                ("specversion", .string("1.0")), ("id", .string(id)), ("source", .string(source(type))), ("type", .string(type)),
                ("time", .string(Clock.utcText(eventTime))),
            ]
            if let subject { members.append(("subject", .string(subject))) }
            members.append(("datacontenttype", .string(contentType)))
            members.append(("data", data))
            return JSONValue.object(members).text
        }
        let banking = event("banking.transaction.posted", transaction)
        var topic = "sor.core-banking"
        var key: [UInt8]? = Array(subject.utf8)
        var customer: String? = subject
        var type: String?
        var value: [UInt8]
        switch kind {
        case .truncated:
            value = Array(banking.utf8.prefix(banking.utf8.count * 2 / 3))
        case .notANumber:
            value = Array(banking.replacingOccurrences(of: "-42.10", with: "NaN").utf8)
        case .htmlErrorPage:
            topic = "sor.engagement"
            value = Array("<html><body><h1>502 Bad Gateway</h1></body></html>".utf8)
        case .invalidUTF8:
            let parts = banking.components(separatedBy: "Grocery")
            value = Array(parts[0].utf8) + [0x43, 0x61, 0x66, 0xC3, 0x28] + Array(parts[1].utf8)
        case .duplicateMember:
            value = Array(banking.replacingOccurrences(of: #""amount":-42.10"#, with: #""amount":-42.10,"amount":-4210"#).utf8)
        case .tombstone:
            value = []
        case .unknownType:
            value = Array(event("banking.loan.approved", .object([("loanId", .string("ln-\(victim.number)")), ("amount", .money(2_500_000))])).utf8)
        case .unknownEngagementType:
            topic = "sor.engagement"
            value = Array(event("engagement.app.opened", .object([("screen", .string("home"))])).utf8)
        case .amountAsText:
            value = Array(banking.replacingOccurrences(of: "-42.10", with: #""-42.10""#).utf8)
        case .ratingOutOfRange:
            topic = "sor.engagement"
            value = Array(event("engagement.feedback.received", .object([("channel", .string("survey")), ("rating", .integer(7))])).utf8)
        case .emailWithoutAt:
            topic = "sor.customer"
            let contact = JSONValue.object([("email", .string("\(victim.handle).example.com"))])
            value = Array(event("customer.profile.updated", .object([("contact", contact)])).utf8)
        case .depositWithoutVia:
            value = Array(event("banking.check.deposited", .object([
                ("accountId", .string("chk-\(victim.number)")), ("depositId", .string("dep-\(id)")), ("amount", .money(25_000)),
                ("currency", .string(victim.currency)),
            ])).utf8)
        case .departureWithoutOffset:
            topic = "sor.booking"
            value = Array(event("travel.booking.confirmed", .object([
                ("bookingId", .string("BK-\(victim.number)-\(copy + 20)")), ("flight", .string("LH400")), ("origin", .string("BER")),
                ("destination", .string("JFK")), ("departure", .string("2026-12-03T08:15:00")),
            ])).utf8)
        case .impossibleDate:
            value = Array(banking.replacingOccurrences(of: Clock.utcText(time), with: "2026-02-30T09:00:00Z").utf8)
        case .textContentType:
            value = Array(event("banking.transaction.posted", transaction, contentType: "text/plain").utf8)
        case .missingSubject:
            customer = nil
            value = Array(event("banking.transaction.posted", transaction, subject: nil).utf8)
        case .futureTime:
            value = Array(event("banking.transaction.posted", transaction, time: time + 2 * Clock.day).utf8)
        case .invoiceTotalText, .invoiceWithoutCustomer:
            topic = "sor.erp.invoices"
            var members: [(String, JSONValue)] = [("invoice_no", .string("INV-\(victim.number)-X\(copy + 1)")), ("order_no", .string("SO-0"))]
            if kind == .invoiceTotalText {
                members.append(("customer", .object([("id", .string(subject))])))
                members.append(("total", .string("n/a")))
            } else {
                customer = nil
                members.append(("total", .money(9_900)))
            }
            members += [("currency", .string(victim.currency)), ("paid_at", .string(Clock.utcText(time)))]
            value = JSONValue.object(members).bytes
        case .changeWithoutOp:
            topic = "sor.crm.cases"
            let caseID = 190_000 + victim.index * 10 + copy
            key = JSONValue.object([("case_id", .integer(caseID))]).bytes
            value = JSONValue.object([
                ("before", .null),
                ("after", .object([("case_id", .integer(caseID)), ("customer_id", .string(subject)), ("status", .string("open"))])),
                ("source", .object([("ts_ms", .number(JSONNumber(time * 1_000))), ("table", .string("cases")), ("lsn", .number(JSONNumber(time)))])),
            ]).bytes
        case .misroutedKey:
            topic = "sor.engagement"
            key = Array(other.id.utf8)
            type = "engagement.geo.entered"
            let centre = victim.home.centre
            value = Array(event("engagement.geo.entered", .object([
                ("placeType", .string("branch")), ("placeId", .string("branch-\(victim.home.airport.code.lowercased())-1")),
                ("lat", JSONValue.coordinate(centre.lat)), ("lon", JSONValue.coordinate(centre.lon)),
            ])).utf8)
        }
        return UpstreamRecord(
            topic: topic, key: key, value: value, time: Date(epochSeconds: time), id: id, customer: customer, type: type,
            expected: kind.expected)
    }

    private func source(_ type: String) -> String {
        if type.hasPrefix("customer.") { return "customer-master" }
        if type.hasPrefix("travel.") { return "booking" }
        if type.hasPrefix("engagement.") { return "mobile-app" }
        return "core-banking"
    }
}
