import Foundation
import LiaisonSchema
import XCTest

import Rules

final class LanguageTests: XCTestCase {
    func testLiteralsAndEscapes() {
        XCTAssertEqual(evaluate("1.5"), decimal("1.5"))
        XCTAssertEqual(evaluate("1000"), decimal("1000"))
        XCTAssertEqual(evaluate("true"), .bool(true))
        XCTAssertEqual(evaluate("false"), .bool(false))
        XCTAssertEqual(evaluate("null"), .null)
        XCTAssertEqual(evaluate(#""say \"hi\"\\n""#), .string("say \"hi\"\\n"))
        XCTAssertEqual(evaluate(#"'it\'s'"#), .string("it's"))
        XCTAssertEqual(evaluate(#""a\nb""#), .string("a\nb"))
        XCTAssertEqual(evaluate(#""\u{1F600}\u00e9""#), .string("😀é"))
        XCTAssertEqual(evaluate("24h"), .duration(seconds: 86_400))
        XCTAssertEqual(evaluate("30d"), .duration(seconds: 2_592_000))
        XCTAssertEqual(evaluate("15m"), .duration(seconds: 900))
        XCTAssertEqual(evaluate("90s"), .duration(seconds: 90))
        XCTAssertEqual(evaluate("2w"), .duration(seconds: 1_209_600))
        XCTAssertEqual(evaluate("1d12h"), .duration(seconds: 129_600))
        XCTAssertEqual(evaluate(#"["a", 'b', 1]"#), .list([.string("a"), .string("b"), decimal("1")]))
        XCTAssertEqual(evaluate("[]"), .list([]))
    }

    func testPrecedence() {
        XCTAssertEqual(evaluate("1 + 2 * 3 == 7"), .bool(true))
        XCTAssertEqual(evaluate("(1 + 2) * 3"), decimal("9"))
        XCTAssertEqual(evaluate("10 - 4 - 3"), decimal("3"))
        XCTAssertEqual(evaluate("-2 * 3"), decimal("-6"))
        XCTAssertEqual(evaluate("7 % 4 + 1"), decimal("4"))
        XCTAssertEqual(evaluate("-7 % 4"), decimal("-3"))
        XCTAssertEqual(evaluate("not false and false"), .bool(false))
        XCTAssertEqual(evaluate("not (false and false)"), .bool(true))
        XCTAssertEqual(evaluate("true or false and false"), .bool(true))
        XCTAssertEqual(evaluate("1 < 2 and 3 > 2"), .bool(true))
        XCTAssertEqual(evaluate("not 1 in [1, 2]"), .bool(false))
    }

    func testDecimalsAreExact() {
        XCTAssertEqual(evaluate("0.1 + 0.2 == 0.3"), .bool(true))
        XCTAssertEqual(evaluate("0.1 + 0.2"), decimal("0.3"))
        XCTAssertEqual(evaluate("event.data.amount * 3"), decimal("3751.5"))
        XCTAssertEqual(evaluate("1 / 4"), decimal("0.25"))
    }

    func testComparisons() {
        XCTAssertEqual(evaluate("2 <= 2"), .bool(true))
        XCTAssertEqual(evaluate("2 >= 3"), .bool(false))
        XCTAssertEqual(evaluate("'abc' < 'abd'"), .bool(true))
        XCTAssertEqual(evaluate("1 != 2"), .bool(true))
        XCTAssertEqual(evaluate("24h == 1d"), .bool(true))
        XCTAssertEqual(evaluate("90m > 1h"), .bool(true))
        XCTAssertEqual(evaluate("[1, 'a'] == [1, 'a']"), .bool(true))
        XCTAssertEqual(evaluate("null == null"), .bool(true))
        XCTAssertEqual(evaluate("1 == null"), .bool(false))
    }

    func testNullSafePaths() {
        XCTAssertEqual(evaluate("event.type"), .string("banking.transaction.posted"))
        XCTAssertEqual(evaluate("event.data.amount"), decimal("1250.50"))
        XCTAssertEqual(evaluate("context.recipient.locale"), .string("de-DE"))
        XCTAssertEqual(evaluate("context.upcomingTrips[0].departure"), .string("2026-03-29T07:05:00+02:00"))
        XCTAssertEqual(evaluate(#"event.data["odd-key"]"#), .string("odd"))
        XCTAssertEqual(evaluate("event.data.tags[1]"), .string("b"))
        XCTAssertEqual(evaluate("event.data.tags[1 + 1]"), .null)
        XCTAssertEqual(evaluate("event.data.tags[-1]"), .null)
        XCTAssertEqual(evaluate("context.missing"), .null)
        XCTAssertEqual(evaluate("context.missing.deeper[3].more"), .null)
        XCTAssertEqual(evaluate("event.type.length"), .null)
        XCTAssertEqual(evaluate("params.surplusThreshold"), decimal("1000"))
        XCTAssertEqual(evaluate("context.recipient"), .object(JSONObject(["locale": .string("de-DE"), "name": .string("Ana")])))
        XCTAssertEqual(evaluate("['x', 'y'][1]"), .string("y"))
        let noSurplus = Fixture.scope(context: Fixture.json(#"{"sentiment": 0}"#))
        XCTAssertEqual(evaluate("context.surplus > 100", noSurplus), .bool(false))
        XCTAssertEqual(evaluate("context.surplus < 100", noSurplus), .bool(false))
        XCTAssertEqual(evaluate("context.surplus == null", noSurplus), .bool(true))
        XCTAssertEqual(evaluate("context.surplus + 1", noSurplus), .null)
        XCTAssertEqual(evaluate("context.surplus + 1 > 0", noSurplus), .bool(false))
        XCTAssertEqual(try RuleExpression("context.surplus > 100").evaluateCondition(noSurplus), false)
        XCTAssertEqual(try RuleExpression("context.vip").evaluateCondition(noSurplus), false)
    }

    func testMembership() {
        XCTAssertEqual(evaluate(#""savings" in context.productsHeld"#), .bool(true))
        XCTAssertEqual(evaluate(#""cd" in context.productsHeld"#), .bool(false))
        XCTAssertEqual(evaluate(#""cd" not in context.productsHeld"#), .bool(true))
        XCTAssertEqual(evaluate("2 in [1, 2, 3]"), .bool(true))
        XCTAssertEqual(evaluate(#""sal" in event.data.label"#), .bool(true))
        XCTAssertEqual(evaluate(#""xyz" in "abc""#), .bool(false))
        XCTAssertEqual(evaluate(#""a" in context.missing"#), .bool(false))
        XCTAssertEqual(evaluate(#""a" not in context.missing"#), .bool(true))
    }

    func testDurationAndTimestampArithmetic() {
        XCTAssertEqual(evaluate("24h + 30m"), .duration(seconds: 88_200))
        XCTAssertEqual(evaluate("1d - 1h"), .duration(seconds: 82_800))
        XCTAssertEqual(evaluate("3 * 15m"), .duration(seconds: 2_700))
        XCTAssertEqual(evaluate("1h * 1.5"), .duration(seconds: 5_400))
        XCTAssertEqual(evaluate("1h / 4"), .duration(seconds: 900))
        XCTAssertEqual(evaluate("-2h"), .duration(seconds: -7_200))
        XCTAssertEqual(evaluate(#"timestamp("2026-03-01T10:00:00Z") + 90m"#), timestamp("2026-03-01T11:30:00Z"))
        XCTAssertEqual(evaluate(#"30s + timestamp("2026-03-01T10:00:00Z")"#), timestamp("2026-03-01T10:00:30Z"))
        XCTAssertEqual(evaluate(#"timestamp("2026-03-02T10:00:00Z") - timestamp("2026-03-01T09:00:00Z")"#), .duration(seconds: 90_000))
        XCTAssertEqual(evaluate(#"timestamp("2024-02-28T23:00:00.25-05:00") + 1d"#), timestamp("2024-02-29T23:00:00.25-05:00"))
        XCTAssertEqual(evaluate(#"timestamp("2999-12-31T23:59:59.5+05:30") + 0.5s"#), timestamp("3000-01-01T00:00:00+05:30"))
        XCTAssertEqual(evaluate(#"timestamp("1970-01-01T00:00:00Z") - 1.25s"#), timestamp("1969-12-31T23:59:58.75Z"))

        // Departure on the Europe/Berlin DST change day; 24 hours earlier is the same instant
        // written in the departure's own offset.
        let dayBefore = evaluate("event.data.departure - 24h")
        XCTAssertEqual(dayBefore, timestamp("2026-03-28T07:05:00+02:00"))
        if case let .timestamp(instant)? = dayBefore {
            XCTAssertEqual(instant.text, "2026-03-28T07:05:00+02:00")
            XCTAssertEqual(instant.epochSeconds, Timestamp("2026-03-28T05:05:00Z")?.epochSeconds)
        }
        XCTAssertEqual(evaluate(#"event.data.departure - 24h == timestamp("2026-03-28T05:05:00Z")"#), .bool(true))
        XCTAssertEqual(evaluate(#"local_hour(event.data.departure, "Europe/Berlin")"#), decimal("7"))
        XCTAssertEqual(evaluate(#"local_hour(event.data.departure - 24h, "Europe/Berlin")"#), decimal("6"))
        XCTAssertEqual(evaluate(#"local_hour(timestamp("2026-03-29T00:30:00Z"), "Europe/Berlin")"#), decimal("1"))
        XCTAssertEqual(evaluate(#"local_hour(timestamp("2026-03-29T01:30:00Z"), "Europe/Berlin")"#), decimal("3"))
        XCTAssertEqual(evaluate(#"local_hour(timestamp("2026-10-25T00:30:00Z"), "Europe/Berlin")"#), decimal("2"))
        XCTAssertEqual(evaluate(#"local_hour(timestamp("2026-10-25T01:30:00Z"), "Europe/Berlin")"#), decimal("2"))

        XCTAssertEqual(evaluate("event.data.departure > now()"), .bool(true))
        XCTAssertEqual(evaluate(#"event.data.departure == timestamp("2026-03-29T05:05:00Z")"#), .bool(true))
        XCTAssertEqual(evaluate("event.data.departure - now() < 2d"), .bool(true))
    }

    func testJSONConversion() {
        XCTAssertEqual(ExpressionValue.duration(seconds: 86_400).json, .string("PT24H"))
        XCTAssertEqual(ExpressionValue.duration(seconds: 5_400).json, .string("PT1H30M"))
        XCTAssertEqual(ExpressionValue.duration(seconds: -0.5).json, .string("-PT0.5S"))
        XCTAssertEqual(ExpressionValue.duration(seconds: 0).json, .string("PT0S"))
        XCTAssertEqual(decimal("1250.5").json, Fixture.json("1250.5"))
        XCTAssertEqual(timestamp("2026-03-29T07:05:00+02:00").json, .string("2026-03-29T07:05:00+02:00"))
        XCTAssertEqual(ExpressionValue.list([.bool(true), .null, .string("x")]).json, .array([.bool(true), .null, .string("x")]))
        XCTAssertEqual(evaluate(#"duration("PT1H30M") == 90m"#), .bool(true))
    }

    func testPathsAreReported() throws {
        let expression = try RuleExpression(
            #"event.type == "x" and context.surplus >= params.surplusThreshold and context.upcomingTrips[0].departure > now() and event.data[context.key] == 1"#)
        XCTAssertEqual(
            expression.paths,
            ["context.key", "context.surplus", "context.upcomingTrips[0].departure", "event.data", "event.type", "params.surplusThreshold"])
    }

    func testScenarioConditions() throws {
        let offer = try RuleExpression(
            #"event.type == "banking.transaction.posted" and context.surplus >= params.surplusThreshold and not ("cd" in context.productsHeld)"#,
            expecting: .bool)
        XCTAssertEqual(offer.resultType, .bool)
        XCTAssertTrue(try offer.evaluateCondition(Fixture.scope()))
        let holdsCD = Fixture.scope(context: Fixture.json(#"{"surplus": 5000, "productsHeld": ["cd"]}"#))
        XCTAssertFalse(try offer.evaluateCondition(holdsCD))
        let lowSurplus = Fixture.scope(context: Fixture.json(#"{"surplus": 999.99, "productsHeld": []}"#))
        XCTAssertFalse(try offer.evaluateCondition(lowSurplus))

        let unhappy = try RuleExpression("event.data.rating <= 2 or context.sentiment < -0.3", expecting: .bool)
        XCTAssertTrue(try unhappy.evaluateCondition(Fixture.scope()))
        let happy = Fixture.scope(event: Fixture.json(#"{"data": {"rating": 5}}"#), context: Fixture.json(#"{"sentiment": 0.8}"#))
        XCTAssertFalse(try unhappy.evaluateCondition(happy))
        let unrated = Fixture.scope(event: Fixture.json(#"{"data": {}}"#), context: Fixture.json(#"{"sentiment": -0.31}"#))
        XCTAssertTrue(try unhappy.evaluateCondition(unrated))

        let reminder = try RuleExpression(
            #"hours_until(context.upcomingTrips[0].departure) <= 48 and local_hour(now(), context.recipient.zone) >= 8"#, expecting: .bool)
        let zoned = Fixture.scope(context: Fixture.json(
            #"{"recipient": {"zone": "Europe/Berlin"}, "upcomingTrips": [{"departure": "2026-03-29T07:05:00+02:00"}]}"#))
        XCTAssertTrue(try reminder.evaluateCondition(zoned))
    }
}
