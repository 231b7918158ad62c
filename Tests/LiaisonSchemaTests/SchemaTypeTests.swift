import Foundation
import LiaisonSchema
import XCTest

final class SchemaTypeTests: XCTestCase {
    func testTimestampsKeepTheirOffsetAndCompareByInstant() throws {
        let tokyo = try XCTUnwrap(Timestamp("2026-11-28T07:05:00+09:00"))
        let utc = try XCTUnwrap(Timestamp("2026-11-27T22:05:00Z"))
        XCTAssertEqual(tokyo.text, "2026-11-28T07:05:00+09:00")
        XCTAssertEqual(tokyo.offsetSeconds, 9 * 3600)
        XCTAssertEqual(tokyo.epochSeconds, utc.epochSeconds)
        XCTAssertFalse(tokyo < utc || utc < tokyo)
        XCTAssertNotEqual(tokyo, utc)
        XCTAssertEqual(Timestamp("2026-11-02T10:15:00.123456789-03:30")?.nanoseconds, 123_456_789)
        XCTAssertEqual(Timestamp("1970-01-01T00:00:00Z")?.epochSeconds, 0)
        XCTAssertEqual(Timestamp("2024-02-29T00:00:00Z")?.epochSeconds, 1_709_164_800)
        XCTAssertEqual(Timestamp(epochMilliseconds: 1_709_164_800_123).text, "2024-02-29T00:00:00.123Z")
        XCTAssertEqual(Timestamp(epochMilliseconds: -1).text, "1969-12-31T23:59:59.999Z")
        for bad in ["2026-02-29T00:00:00Z", "2026-11-02T24:00:00Z", "2026-12-31T23:59:60Z", "2026-11-02T10:15:00", "2026-11-02T10:15:00+0100",
                    "0000-01-01T00:00:00Z", "2026-11-02T10:15:00Z ", "2026-11-02T10:15:00.Z", "2026-11-02T10:15:00+24:00", "２０２６-11-02T10:15:00Z"] {
            XCTAssertNil(Timestamp(bad), bad)
        }
    }

    func testMoneyIsDecimalAndIntegersAreIntegers() throws {
        let decoder = JSONValueDecoder()
        XCTAssertEqual(try decoder.decode(Decimal.self, from: JSONParser().parse(Array("0.1".utf8))), Decimal(string: "0.1"))
        XCTAssertEqual(try decoder.decode(Decimal.self, from: JSONParser().parse(Array("-120.500000".utf8))), Decimal(string: "-120.5"))
        XCTAssertThrowsError(try decoder.decode(Decimal.self, from: JSONParser().parse(Array("0.0000001".utf8))))
        XCTAssertThrowsError(try decoder.decode(Decimal.self, from: JSONParser().parse(Array("1e-400".utf8))))
        XCTAssertEqual(try decoder.decode(Int.self, from: JSONParser().parse(Array("-7".utf8))), -7)
        XCTAssertThrowsError(try decoder.decode(Int.self, from: JSONParser().parse(Array("7.0".utf8))))
        XCTAssertThrowsError(try decoder.decode(Int8.self, from: JSONParser().parse(Array("300".utf8))))
        let encoded = try JSONValueEncoder().encodeBytes(["amount": Decimal(string: "0.1")!])
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"{"amount":0.1}"#)
    }

    func testUnknownFieldsSurviveADecodeEncodeRoundTrip() throws {
        let json = #"""
            {"specversion":"1.0","id":"prof-1","source":"crm","type":"customer.profile.updated","time":"2026-10-01T12:00:00+02:00",
             "subject":"cust-1","region":"emea","data":{"name":"Ada","tier":"gold","nickname":"A",
             "contact":{"email":"ada@example.com","device":"phone","fax":"+441234"},"consent":{"marketing":true,"channel":"email"}}}
            """#
        let event = try EventV1(bytes: Array(json.utf8))
        XCTAssertEqual(event.extensions["region"], .string("emea"))
        guard case let .customerProfileUpdated(profile) = event.data else { return XCTFail("wrong payload") }
        XCTAssertEqual(profile.extra["nickname"], .string("A"))
        XCTAssertEqual(profile.contact?.extra["fax"], .string("+441234"))
        XCTAssertEqual(profile.consent?.extra["channel"], .string("email"))

        let again = try EventV1(bytes: try event.bytes())
        XCTAssertEqual(again, event)
        let reencoded = try JSONParser().parse(try event.bytes())
        XCTAssertEqual(reencoded["data"]?["contact"]?["fax"], .string("+441234"))
        XCTAssertEqual(reencoded["time"], .string("2026-10-01T12:00:00+02:00"))

        let viaFoundation = try JSONDecoder().decode(EventV1.self, from: JSONEncoder().encode(event))
        XCTAssertEqual(viaFoundation.subject, "cust-1")
    }

    func testEnrichedActionAndReceiptRoundTrip() throws {
        let event = try EventV1(bytes: Array(#"{"specversion":"1.0","id":"w","source":"web","type":"engagement.web.researched","time":"2026-11-05T09:00:00Z","subject":"c","data":{"topic":"cd"}}"#.utf8))
        var context = CustomerContextV1(customerId: "c")
        context.surplus = Decimal(string: "12000.55")
        context.upcomingTrips = [TripV1(bookingId: "P", departure: Timestamp("2026-11-28T07:05:00+09:00")!)]
        context.extra["experimental"] = .bool(true)
        let enriched = EnrichedEventV1(event: event, context: context)
        let bytes = try JSONValueEncoder().encodeBytes(enriched)
        XCTAssertEqual(try JSONValueDecoder().decode(EnrichedEventV1.self, from: bytes), enriched)

        let decision = DecisionRecordV1(
            ruleId: "cd-offer", packVersion: "1", inputIds: ["web|w"], inputPositions: [.init(topic: "liaison.enriched.v1", partition: 0, offset: 4)],
            reads: JSONObject(["context.surplus": .number(JSONNumber(12000))]), outcome: .fired)
        let action = ActionV1(
            id: "cd-offer:web|w", kind: .engage, customerId: "c", ruleId: "cd-offer", template: "cd-offer", channelClass: .marketing,
            priority: .normal, createdAt: event.time, payload: JSONObject(["amount": .number(JSONNumber(12000))]), decision: decision)
        XCTAssertEqual(try JSONValueDecoder().decode(ActionV1.self, from: JSONValueEncoder().encodeBytes(action)), action)
        var full = action
        full.validUntil = Timestamp("2026-11-06T09:00:00+01:00")
        full.recipient = RecipientV1()
        full.recipient?.email = "c@example.com"
        full.recipient?.extra["nickname"] = .string("C")
        full.erased = false
        full.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        full.decision.reason = "first \"offer\""
        full.decision.extra["experiment"] = .string("b")
        full.extra["channelHint"] = .string("push")
        for written in [action, full] {
            let bytes = written.jsonBytes()
            XCTAssertEqual(try JSONValueDecoder().decode(ActionV1.self, from: bytes), written)
            XCTAssertEqual(try JSONParser().parse(bytes), try JSONParser().parse(JSONValueEncoder().encodeBytes(written)))
        }
        let receipt = DeliveryReceiptV1(id: "r", actionId: action.id, customerId: "c", status: .sent, at: event.time, attempts: 1)
        XCTAssertEqual(try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: JSONValueEncoder().encodeBytes(receipt)), receipt)
        XCTAssertThrowsError(try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: Array(#"{"id":"r","status":"lost"}"#.utf8)))
    }
}

final class DecimalPlacesTests: XCTestCase {
    func testPlacesAreCountedFromTheValueNotTheSpelling() throws {
        let decoder = JSONValueDecoder()
        func decimal(_ text: String) throws -> Decimal { try decoder.decode(Decimal.self, from: JSONParser().parse(Array(text.utf8))) }
        XCTAssertEqual(try decimal("10e-7"), Decimal(string: "0.000001"))
        XCTAssertEqual(try decimal("150e-2"), Decimal(string: "1.5"))
        XCTAssertEqual(try decimal("0e-7"), 0)
        XCTAssertEqual(try decimal("0.0e-7"), 0)
        XCTAssertEqual(try decimal("0e99999999999999999999"), 0)
        XCTAssertEqual(try decimal("1.5000000000"), Decimal(string: "1.5"))
        XCTAssertThrowsError(try decimal("1e-7"))
        XCTAssertThrowsError(try decimal("1.0000001"))
        XCTAssertThrowsError(try decimal("1e-99999999999999999999"))
        XCTAssertThrowsError(try decimal("1e99999999999999999999"))
    }
}

final class DecimalFastPathTests: XCTestCase {
    /// The fast path for short literals must give exactly what Foundation's parser gives.
    func testShortLiteralsDecodeAsFoundationParsesThem() throws {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let integer = generator.next() % 1_000_000_000_000
            let places = Int(generator.next() % 7)
            var text = String(integer)
            if places > 0 {
                text = String(repeating: "0", count: max(0, places + 1 - text.count)) + text
                text.insert(".", at: text.index(text.endIndex, offsetBy: -places))
            }
            if generator.next() % 2 == 0 { text = "-" + text }
            let decoded = try JSONValueDecoder().decode(Decimal.self, from: JSONParser().parse(Array(text.utf8)))
            XCTAssertEqual(decoded, Decimal(string: text, locale: nil), text)
            XCTAssertEqual("\(decoded)", "\(Decimal(string: text, locale: nil)!)", text)
        }
    }
}
