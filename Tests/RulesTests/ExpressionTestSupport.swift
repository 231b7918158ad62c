import Foundation
import LiaisonSchema
import XCTest

import Rules

/// Shared fixtures: a banking event, a recipient context, pack parameters and a fixed clock.
enum Fixture {
    static let now = Timestamp("2026-03-27T12:00:00Z") ?? Timestamp(epochMilliseconds: 0)

    static func json(_ text: String) -> JSONValue {
        (try? JSONParser().parse(Array(text.utf8))) ?? .null
    }

    static let event = json("""
        {"type": "banking.transaction.posted",
         "data": {"amount": 1250.50, "label": "salary", "rating": 2, "odd-key": "odd",
                  "departure": "2026-03-29T07:05:00+02:00", "when": "not a time", "tags": ["a", "b"]}}
        """)

    static let context = json("""
        {"surplus": 1500, "sentiment": -0.5, "productsHeld": ["current", "savings"],
         "recipient": {"locale": "de-DE", "name": "Ana"},
         "upcomingTrips": [{"departure": "2026-03-29T07:05:00+02:00"}]}
        """)

    static let params = JSONObject(["surplusThreshold": json("1000")])

    static func scope(event: JSONValue = event, context: JSONValue = context, now: Timestamp? = nil) -> EvaluationScope {
        EvaluationScope(event: event, context: context, params: params, now: now ?? Self.now)
    }
}

func decimal(_ text: String) -> ExpressionValue {
    .decimal(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? .nan)
}

func timestamp(_ text: String) -> ExpressionValue {
    Timestamp(text).map(ExpressionValue.timestamp) ?? .null
}

func evaluate(_ source: String, _ scope: EvaluationScope = Fixture.scope(), file: StaticString = #filePath, line: UInt = #line) -> ExpressionValue? {
    do {
        return try RuleExpression(source).evaluate(scope)
    } catch {
        XCTFail("\(source): \(error)", file: file, line: line)
        return nil
    }
}

func compileError(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> ExpressionError? {
    do {
        _ = try RuleExpression(source)
        XCTFail("\(source) compiled", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

func evaluationError(_ source: String, _ scope: EvaluationScope = Fixture.scope(), file: StaticString = #filePath, line: UInt = #line) -> EvaluationError? {
    do {
        let expression = try RuleExpression(source)
        let value = try expression.evaluate(scope)
        XCTFail("\(source) evaluated to \(value)", file: file, line: line)
        return nil
    } catch let error as EvaluationError {
        return error
    } catch {
        XCTFail("\(source) failed to compile: \(error)", file: file, line: line)
        return nil
    }
}
