import Foundation
import LiaisonSchema
import XCTest

import Rules

/// Compiles and evaluates random token sequences: whatever happens must be a typed error or
/// a value, never a crash.
final class RandomInputTests: XCTestCase {
    /// SplitMix64, so the sequence is the same on every run and platform.
    private struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
    }

    /// Whole operands, so that many sequences compile and reach the evaluator.
    private static let operands = [
        "1", "0", "2.5", "-1", "99999999999999999999999999999999999999", "'a'", "''", "24h", "1d12h", "true", "false", "null",
        "event.data.amount", "event.data.departure", "event.data.when", "event.data.tags", "event.data.tags[5]", "event.type",
        "context.surplus", "context.productsHeld", "context.missing", "context.recipient", "params.surplusThreshold", "now()",
        "days_since(event.data.when)", "hours_until(event.data.departure)", "len(event.data.tags)", "round(context.sentiment, 1)",
        "local_hour(event.data.departure, 'Europe/Berlin')", "coalesce(context.missing, 0)", "[1, 'a', null]",
        "timestamp('2026-03-29T07:05:00+02:00')", "duration(event.type)", "abs(context.sentiment)", "max(1, context.surplus)",
    ]
    private static let operators = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "and", "or", "in", "not in"]
    /// Stray tokens, many of them wrong where they land.
    private static let noise = [
        "(", ")", "[", "]", ",", ".", "not", "-", "1e", "floor", "ceil", "min", "lower", "upper", "contains", "\\", "'", "\"",
        "=", "&", "event", "data", "x",
    ]

    func testRandomTokenSequencesNeverCrash() {
        var generator = SeededGenerator(state: 20_260_329)
        let scope = Fixture.scope()
        var compiled = 0
        var evaluated = 0
        for _ in 0..<2_000 {
            var tokens: [String] = []
            for position in 0..<Int.random(in: 1...4, using: &generator) {
                if position > 0 { tokens.append(Self.operators.randomElement(using: &generator) ?? "+") }
                tokens.append(Self.operands.randomElement(using: &generator) ?? "1")
                if Int.random(in: 0..<5, using: &generator) == 0 {
                    let at = Int.random(in: 0...tokens.count, using: &generator)
                    tokens.insert(Self.noise.randomElement(using: &generator) ?? "(", at: at)
                }
            }
            let source = tokens.joined(separator: " ")
            let expression: RuleExpression
            do {
                expression = try RuleExpression(source)
            } catch {
                XCTAssertGreaterThan(error.column, 0, source)
                XCTAssertFalse(error.message.isEmpty, source)
                continue
            }
            compiled += 1
            do {
                _ = try expression.evaluate(scope)
                evaluated += 1
            } catch {
                XCTAssertFalse(error.message.isEmpty, source)
            }
        }
        XCTAssertGreaterThan(compiled, 500)
        XCTAssertGreaterThan(evaluated, 200)
        XCTAssertLessThan(evaluated, compiled)
    }
}
