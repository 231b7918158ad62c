import Foundation
import LiaisonSchema
import Synchronization
import XCTest

import Rules

final class ErrorTests: XCTestCase {
    func testTypeErrorsAtCompileTime() {
        let addition = compileError(#"1 + "a" + 1"#)
        XCTAssertEqual(addition?.column, 1)
        XCTAssertEqual(addition?.token, #"1 + "a""#)
        XCTAssertEqual(compileError(#"event.type == "x" and "a" + 1 > 0"#)?.column, 23)
        XCTAssertEqual(compileError("true < 3")?.column, 1)
        let timestampPlusNumber = compileError("event.type == 'x' or now() + 5 > now()")
        XCTAssertEqual(timestampPlusNumber?.column, 22)
        XCTAssertEqual(timestampPlusNumber?.message.contains("cannot add a timestamp and a decimal"), true)
        XCTAssertEqual(compileError(#""2026-03-29T07:05:00Z" < now()"#)?.message.contains("timestamp(\""), true)
        XCTAssertEqual(compileError("not 5")?.column, 5)
        XCTAssertEqual(compileError("'abc'.length")?.column, 1)
        XCTAssertEqual(compileError("[1, 2][true]")?.column, 8)
        XCTAssertEqual(compileError("lower(5)")?.column, 7)
        XCTAssertEqual(compileError("min(1, 'a')")?.column, 1)
        XCTAssertEqual(compileError("1 in 5")?.column, 6)
        XCTAssertEqual(compileError("1 in 'abc'")?.column, 1)
        XCTAssertEqual(compileError("contains('abc', 1)")?.column, 17)
        XCTAssertEqual(compileError("1 < 2 < 3")?.column, 7)
    }

    func testFunctionErrors() {
        let unknown = compileError("event.type == 'x' and dayz_since(now()) > 1")
        XCTAssertEqual(unknown?.column, 23)
        XCTAssertEqual(unknown?.token, "dayz_since")
        XCTAssertEqual(unknown?.description.hasPrefix("column 23: unknown function 'dayz_since'; the functions are now, days_since"), true)
        let arity = compileError("round(1, 2, 3)")
        XCTAssertEqual(arity?.message, "round() takes 1 or 2 arguments, not 3; write round(number) or round(number, places)")
        XCTAssertEqual(compileError("now(1)")?.message.hasPrefix("now() takes 0 arguments"), true)
        XCTAssertEqual(compileError("coalesce(1)")?.message.hasPrefix("coalesce() takes at least 2 arguments"), true)
        XCTAssertEqual(compileError("days_since('2026-01-01T00:00:00Z')")?.column, 12)
        XCTAssertEqual(compileError("timestamp('yesterday')")?.column, 11)
        XCTAssertEqual(compileError("duration('a day')")?.column, 10)
        XCTAssertEqual(compileError("local_hour(now(), 'Mars/Olympus')")?.column, 19)
    }

    func testSyntaxErrors() {
        XCTAssertEqual(compileError("user.name")?.message.hasPrefix("unknown name 'user'"), true)
        XCTAssertEqual(compileError("1 +")?.column, 4)
        XCTAssertEqual(compileError("(1 + 2")?.column, 7)
        XCTAssertEqual(compileError("1 = 1")?.message, "unexpected character '='; use '==' to compare")
        XCTAssertEqual(compileError("1 && 1")?.column, 3)
        XCTAssertEqual(compileError("'open")?.column, 1)
        XCTAssertEqual(compileError(#""\q""#)?.column, 2)
        XCTAssertEqual(compileError(#""\u{110000}""#)?.column, 2)
        XCTAssertEqual(compileError("24x")?.column, 1)
        XCTAssertEqual(compileError("1 2")?.column, 3)
        XCTAssertEqual(compileError("")?.message, "the expression is empty")
        XCTAssertEqual(compileError("event.")?.column, 7)
    }

    func testExpectedResultType() {
        XCTAssertThrowsError(try RuleExpression("1 + 2", expecting: .bool)) { error in
            XCTAssertEqual((error as? ExpressionError)?.message, "the expression gives a decimal, but a bool is needed here")
        }
        XCTAssertEqual(try RuleExpression("context.flag", expecting: .bool).resultType, .any)
        XCTAssertEqual(try RuleExpression("1h + 1h", expecting: .duration).resultType, .duration)
        XCTAssertEqual(try RuleExpression("event.data.departure - 24h").resultType, .any)
        XCTAssertEqual(try RuleExpression("now() - 24h").resultType, .timestamp)
        XCTAssertEqual(try RuleExpression("event.data.amount + 2").resultType, .decimal)
        XCTAssertEqual(try RuleExpression("event.data.amount * 2").resultType, .any)
    }

    func testRunTimeTypeMismatch() {
        let stringAmount = Fixture.scope(event: Fixture.json(#"{"data": {"amount": "12.50"}}"#))
        let error = evaluationError("event.data.amount + 1", stringAmount)
        XCTAssertEqual(error?.message, "in 'event.data.amount + 1': cannot add a string and a decimal")
        XCTAssertNotNil(evaluationError("event.data.amount > 1", stringAmount))
        XCTAssertNotNil(evaluationError("event.type and true"))
        XCTAssertNotNil(evaluationError("event.data.when - 24h"))
        XCTAssertEqual(evaluationError("days_since(event.data.when)")?.message.contains("not an RFC 3339 timestamp"), true)
        XCTAssertNotNil(evaluationError("local_hour(now(), event.type)"))
        XCTAssertNotNil(evaluationError("round(1.5, context.surplus)"))
        XCTAssertThrowsError(try RuleExpression("event.type").evaluateCondition(Fixture.scope()))
    }

    func testDivisionByZero() {
        XCTAssertEqual(evaluationError("1 / 0")?.message, "in '1 / 0': division by zero")
        XCTAssertNotNil(evaluationError("5 % (2 - 2)"))
        XCTAssertNotNil(evaluationError("1h / 0"))
        XCTAssertNotNil(evaluationError("context.surplus / context.zero", Fixture.scope(context: Fixture.json(#"{"surplus": 1, "zero": 0}"#))))
    }

    func testOverflowIsAnError() {
        XCTAssertNotNil(evaluationError("1" + String(repeating: "0", count: 100) + " * 1" + String(repeating: "0", count: 100)))
        XCTAssertNotNil(evaluationError("now() + 100000000w"))
    }

    func testLimits() {
        let deepest = String(repeating: "(", count: 64) + "1" + String(repeating: ")", count: 64)
        XCTAssertEqual(evaluate(deepest), decimal("1"))
        let tooDeep = String(repeating: "(", count: 65) + "1" + String(repeating: ")", count: 65)
        let depthError = compileError(tooDeep)
        XCTAssertEqual(depthError?.column, 65)
        XCTAssertEqual(depthError?.message.contains("nested more than 64 levels"), true)
        XCTAssertNotNil(compileError(String(repeating: "not ", count: 65) + "true"))
        XCTAssertNotNil(compileError(String(repeating: "-", count: 65) + "1"))

        let longest = "1" + String(repeating: " ", count: 3_999)
        XCTAssertEqual(evaluate(longest), decimal("1"))
        XCTAssertEqual(compileError(longest + " ")?.column, 4_001)

        XCTAssertEqual(compileError(Array(repeating: "1", count: 201).joined(separator: "+"))?.message,
                       "expression chains more than 200 operations; split it into smaller rules")

        let thousand = "[" + Array(repeating: "1", count: 1_000).joined(separator: ",") + "]"
        XCTAssertEqual(evaluate("len(\(thousand))"), decimal("1000"))
        let tooMany = "[" + Array(repeating: "1", count: 1_001).joined(separator: ",") + "]"
        XCTAssertEqual(compileError(tooMany)?.message, "list has more than 1000 elements")
    }

    /// The deepest trees the limits allow compile and evaluate on a thread with a bounded
    /// stack (2 MiB, enough for unoptimised test builds; release builds need a quarter).
    func testDeepestTreesFitASmallStack() {
        let deepest = [
            Array(repeating: "1", count: 200).joined(separator: "+"),
            Array(repeating: "context.missing > 1", count: 100).joined(separator: " or "),
            "event" + String(repeating: ".a", count: 199),
            String(repeating: "-(", count: 32) + Array(repeating: "1", count: 130).joined(separator: "*") + String(repeating: ")", count: 32),
            String(repeating: "abs(", count: 64) + "event.data.amount" + String(repeating: ")", count: 64),
            String(repeating: "not ", count: 64) + Array(repeating: "true", count: 130).joined(separator: " and "),
        ]
        let results = Mutex<[ExpressionValue?]>([])
        let done = expectation(description: "evaluated")
        let thread = Thread {
            for source in deepest {
                let value = try? RuleExpression(source).evaluate(Fixture.scope())
                results.withLock { $0.append(value) }
            }
            done.fulfill()
        }
        thread.stackSize = 2 * 1024 * 1024
        thread.start()
        wait(for: [done], timeout: 10)
        XCTAssertEqual(results.withLock { $0 }, [
            decimal("200"), .bool(false), .null, decimal("1"), decimal("1250.5"), .bool(true),
        ])
    }
}
