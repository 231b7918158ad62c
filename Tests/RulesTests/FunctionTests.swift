import Foundation
import LiaisonSchema
import XCTest

import Rules

final class FunctionTests: XCTestCase {
    func testClockFunctions() {
        XCTAssertEqual(evaluate("now()"), timestamp("2026-03-27T12:00:00Z"))
        XCTAssertEqual(evaluate(#"days_since(timestamp("2026-03-20T13:00:00Z"))"#), decimal("6"))
        XCTAssertEqual(evaluate(#"days_since(timestamp("2026-03-20T12:00:00Z"))"#), decimal("7"))
        XCTAssertEqual(evaluate(#"days_since(timestamp("2026-03-28T12:00:00Z"))"#), decimal("-1"))
        let later = Fixture.scope(now: Timestamp("2026-04-26T12:00:00Z"))
        let since = Fixture.scope(context: Fixture.json(#"{"since": "2026-03-17T11:00:00+01:00"}"#))
        XCTAssertEqual(evaluate("days_since(context.since)", since), decimal("10"))
        XCTAssertEqual(evaluate("days_since(now())", later), decimal("0"))
        XCTAssertEqual(evaluate("round(hours_until(event.data.departure), 2)"), decimal("41.08"))
        XCTAssertEqual(evaluate(#"hours_until(timestamp("2026-03-27T10:30:00Z"))"#), decimal("-1.5"))
    }

    func testNumberFunctions() {
        XCTAssertEqual(evaluate("round(2.5)"), decimal("3"))
        XCTAssertEqual(evaluate("round(-2.5)"), decimal("-3"))
        XCTAssertEqual(evaluate("round(1.005, 2)"), decimal("1.01"))
        XCTAssertEqual(evaluate("round(event.data.amount / 3, 2)"), decimal("416.83"))
        XCTAssertEqual(evaluate("floor(-1.2)"), decimal("-2"))
        XCTAssertEqual(evaluate("floor(1.9)"), decimal("1"))
        XCTAssertEqual(evaluate("ceil(-1.7)"), decimal("-1"))
        XCTAssertEqual(evaluate("ceil(1.2)"), decimal("2"))
        XCTAssertEqual(evaluate("abs(-3.5)"), decimal("3.5"))
        XCTAssertEqual(evaluate("abs(-2h)"), .duration(seconds: 7_200))
        XCTAssertEqual(evaluate("min(3, 2)"), decimal("2"))
        XCTAssertEqual(evaluate("max(3, 2)"), decimal("3"))
        XCTAssertEqual(evaluate("max(1h, 90m)"), .duration(seconds: 5_400))
        XCTAssertEqual(evaluate("min(context.surplus, params.surplusThreshold)"), decimal("1000"))
    }

    func testStringAndListFunctions() {
        XCTAssertEqual(evaluate(#"contains(context.productsHeld, "savings")"#), .bool(true))
        XCTAssertEqual(evaluate(#"contains("salary", "lar")"#), .bool(true))
        XCTAssertEqual(evaluate(#"contains([1, 2], 3)"#), .bool(false))
        XCTAssertEqual(evaluate("len(context.productsHeld)"), decimal("2"))
        XCTAssertEqual(evaluate(#"len("héllo")"#), decimal("5"))
        XCTAssertEqual(evaluate("len(context.missing)"), .null)
        XCTAssertEqual(evaluate(#"lower("ÄbC")"#), .string("äbc"))
        XCTAssertEqual(evaluate("upper(context.recipient.locale)"), .string("DE-DE"))
        XCTAssertEqual(evaluate(#"coalesce(context.nickname, context.recipient.name, "there")"#), .string("Ana"))
        XCTAssertEqual(evaluate("coalesce(context.missing, null)"), .null)
        XCTAssertEqual(evaluate(#""Hello " + coalesce(context.nickname, "there")"#), .string("Hello there"))
    }

    func testFind() {
        let travel = Fixture.scope(
            event: Fixture.json(#"{"type": "travel.flight.rescheduled", "data": {"bookingId": "bk-2", "departure": "2026-04-02T09:00:00+09:00"}}"#),
            context: Fixture.json("""
                {"upcomingTrips": [{"bookingId": "bk-1", "flight": "LH 400", "departure": "2026-03-29T07:05:00+02:00"},
                                   {"bookingId": "bk-2", "flight": "NH 210", "departure": "2026-04-02T09:00:00+09:00"}],
                 "recentResearch": [{"topic": "cd", "at": "2026-03-26T08:00:00Z"},
                                    {"topic": "mortgage", "at": "2026-03-01T08:00:00Z"},
                                    {"topic": "mortgage", "at": "2026-03-25T08:00:00Z"}],
                 "mixed": [1, "bk-2", null, {"bookingId": 2}, {"bookingId": "2"}]}
                """))
        XCTAssertEqual(evaluate(#"find(context.upcomingTrips, "bookingId", event.data.bookingId).flight"#, travel), .string("NH 210"))
        XCTAssertEqual(evaluate(#"find(context.recentResearch, "topic", "mortgage").at"#, travel), .string("2026-03-01T08:00:00Z"))
        XCTAssertEqual(evaluate(#"days_since(find(context.recentResearch, "topic", "mortgage").at) <= 30"#, travel), .bool(true))
        XCTAssertEqual(evaluate(#"find(context.upcomingTrips, "flight", "LH 400")["bookingId"]"#, travel), .string("bk-1"))
        XCTAssertEqual(
            evaluate(#"find(context.upcomingTrips, "departure", timestamp("2026-03-29T05:05:00Z")).bookingId"#, travel), .string("bk-1"))
        XCTAssertEqual(evaluate(#"find(context.mixed, "bookingId", "2")"#, travel), .object(JSONObject(["bookingId": .string("2")])))
        XCTAssertEqual(evaluate(#"find(context.upcomingTrips, "bookingId", "bk-9")"#, travel), .null)
        XCTAssertEqual(evaluate(#"find(context.upcomingTrips, "bookingId", "bk-9").flight"#, travel), .null)
        XCTAssertEqual(evaluate(#"find(context.missing, "bookingId", "bk-1").flight"#, travel), .null)
        XCTAssertEqual(evaluate(#"find(context.upcomingTrips, "bookingId", context.missing)"#, travel), .null)
        XCTAssertEqual(
            evaluate(#"coalesce(find(context.recentResearch, "topic", "travel-insurance").at, "never")"#, travel), .string("never"))
        XCTAssertEqual(evaluationError(#"find(event.data.bookingId, "bookingId", "bk-2")"#, travel)?.message.contains("find() needs a list"), true)
        XCTAssertEqual(compileError(#"find("bk-2", "bookingId", "bk-2")"#)?.column, 6)
        XCTAssertEqual(compileError(#"find(context.upcomingTrips, 5, "bk-2")"#)?.column, 29)
        XCTAssertEqual(compileError(#"find(context.upcomingTrips, "bookingId")"#)?.message.hasSuffix(#"write find(list, "field", value)"#), true)
    }

    func testParsingFunctions() {
        XCTAssertEqual(evaluate(#"timestamp("2026-03-29T07:05:00+02:00")"#), timestamp("2026-03-29T07:05:00+02:00"))
        XCTAssertEqual(evaluate("timestamp(event.data.departure)"), timestamp("2026-03-29T07:05:00+02:00"))
        XCTAssertEqual(evaluate(#"duration("24h")"#), .duration(seconds: 86_400))
        XCTAssertEqual(evaluate(#"duration("1d12h")"#), .duration(seconds: 129_600))
        XCTAssertEqual(evaluate(#"local_hour(timestamp("2026-07-01T23:30:00Z"), "Asia/Tokyo")"#), decimal("8"))
    }
}
