import Foundation
import LiaisonSchema

/// Walks a type-checked tree against one scope. Every run-time type problem becomes an
/// `EvaluationError` naming the fragment; there are no loops, so evaluation always ends.
struct Evaluator {
    let scope: EvaluationScope

    /// Where a path currently points: still inside the JSON tree (converted only at the end,
    /// so `event.data.amount` does not convert the whole event) or at a computed value.
    private enum Location {
        case json(JSONValue)
        case value(ExpressionValue)
    }

    func evaluate(_ node: Node) throws(EvaluationError) -> ExpressionValue {
        switch node.kind {
        case let .literal(value): return value
        case let .list(elements):
            var values: [ExpressionValue] = []
            for element in elements { values.append(try evaluate(element)) }
            return .list(values)
        case .root, .member, .index:
            switch try locate(node) {
            case let .json(json): return ExpressionValue(json: json)
            case let .value(value): return value
            }
        case let .call(function, arguments): return try call(function, arguments, node)
        case let .unary(.not, operand): return .bool(!(try condition(operand, for: "not")))
        case let .unary(.negate, operand):
            switch try evaluate(operand) {
            case .null: return .null
            case let .decimal(number): return .decimal(-number)
            case let .duration(seconds): return .duration(seconds: -seconds)
            case let other: throw failure(node, "cannot negate \(other.kindName)")
            }
        case let .binary(op, left, right): return try binary(op, left, right, node)
        }
    }

    /// A condition's truth: null (a missing field) counts as false, so null-safe conditions
    /// stay false; anything but a bool or null is an error.
    func condition(_ node: Node, for op: String) throws(EvaluationError) -> Bool {
        switch try evaluate(node) {
        case let .bool(flag): return flag
        case .null: return false
        case let other: throw failure(node, "'\(op)' needs a bool, but this is \(other.kindName)")
        }
    }

    private func failure(_ node: Node, _ message: String) -> EvaluationError {
        EvaluationError(message: "in '\(node.fragment)': \(message)")
    }

    // MARK: Paths

    private func locate(_ node: Node) throws(EvaluationError) -> Location {
        switch node.kind {
        case let .root(root):
            switch root {
            case .event: return .json(scope.event)
            case .context: return .json(scope.context)
            case .params: return .json(.object(scope.params))
            }
        case let .member(base, name):
            switch try locate(base) {
            case let .json(json): return .json(json[name] ?? .null)
            case let .value(.object(object)): return .json(object[name] ?? .null)
            case .value: return .value(.null)
            }
        case let .index(base, indexNode):
            let location = try locate(base)
            let index = try evaluate(indexNode)
            switch (location, index) {
            case let (.json(.array(elements)), .decimal(number)):
                return .json(element(of: elements, at: number) ?? .null)
            case let (.value(.list(elements)), .decimal(number)):
                return .value(element(of: elements, at: number) ?? .null)
            case let (.json(.object(object)), .string(key)), let (.value(.object(object)), .string(key)):
                return .json(object[key] ?? .null)
            case (_, .decimal), (_, .string), (_, .null):
                return .value(.null)
            default:
                throw failure(node, "an index must be a number or a field name, not \(index.kindName)")
            }
        default:
            return .value(try evaluate(node))
        }
    }

    private func element<Element>(of elements: [Element], at number: Decimal) -> Element? {
        guard let index = exactInteger(number), index >= 0, index < elements.count else { return nil }
        return elements[Int(index)]
    }

    // MARK: Operators

    private func binary(_ op: BinaryOperator, _ leftNode: Node, _ rightNode: Node, _ node: Node) throws(EvaluationError) -> ExpressionValue {
        switch op {
        case .and:
            guard try condition(leftNode, for: "and") else { return .bool(false) }
            return .bool(try condition(rightNode, for: "and"))
        case .or:
            if try condition(leftNode, for: "or") { return .bool(true) }
            return .bool(try condition(rightNode, for: "or"))
        default: break
        }
        let left = try evaluate(leftNode)
        let right = try evaluate(rightNode)
        switch op {
        case .equal: return .bool(try equal(left, right, node))
        case .notEqual: return .bool(!(try equal(left, right, node)))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let order = try order(left, right, node) else { return .bool(false) }
            switch op {
            case .less: return .bool(order == .orderedAscending)
            case .lessOrEqual: return .bool(order != .orderedDescending)
            case .greater: return .bool(order == .orderedDescending)
            default: return .bool(order != .orderedAscending)
            }
        case .in: return .bool(try contains(right, left, node))
        case .notIn: return .bool(!(try contains(right, left, node)))
        default: return try arithmetic(op, left, right, node)
        }
    }

    /// Equality across kinds is false, except a string field meeting a timestamp, which is
    /// read as RFC 3339. Timestamps are equal when they are the same instant.
    func equal(_ left: ExpressionValue, _ right: ExpressionValue, _ node: Node) throws(EvaluationError) -> Bool {
        switch (left, right) {
        case let (.timestamp(lhs), .timestamp(rhs)): return !(lhs < rhs) && !(rhs < lhs)
        case (.timestamp, .string), (.string, .timestamp):
            return try order(left, right, node) == .orderedSame
        case let (.list(lhs), .list(rhs)):
            guard lhs.count == rhs.count else { return false }
            for (lhsElement, rhsElement) in zip(lhs, rhs) {
                guard try equal(lhsElement, rhsElement, node) else { return false }
            }
            return true
        default: return left == right
        }
    }

    /// The order of two values, or nil when either is null (so `<` on a missing field is false).
    func order(_ left: ExpressionValue, _ right: ExpressionValue, _ node: Node) throws(EvaluationError) -> ComparisonResult? {
        func compare<Value: Comparable>(_ lhs: Value, _ rhs: Value) -> ComparisonResult {
            lhs < rhs ? .orderedAscending : rhs < lhs ? .orderedDescending : .orderedSame
        }
        switch (left, right) {
        case (.null, _), (_, .null): return nil
        case let (.decimal(lhs), .decimal(rhs)): return compare(lhs, rhs)
        case let (.string(lhs), .string(rhs)): return compare(lhs, rhs)
        case let (.duration(lhs), .duration(rhs)): return compare(lhs, rhs)
        case let (.timestamp(lhs), .timestamp(rhs)): return compare(lhs, rhs)
        case let (.timestamp(lhs), .string(text)): return compare(lhs, try timestamp(text, node))
        case let (.string(text), .timestamp(rhs)): return compare(try timestamp(text, node), rhs)
        default: throw failure(node, "cannot compare \(left.kindName) with \(right.kindName)")
        }
    }

    func contains(_ container: ExpressionValue, _ element: ExpressionValue, _ node: Node) throws(EvaluationError) -> Bool {
        switch (container, element) {
        case (.null, _), (.string, .null): return false
        case let (.string(text), .string(part)): return part.isEmpty || text.contains(part)
        case let (.list(elements), _):
            for candidate in elements {
                if try equal(candidate, element, node) { return true }
            }
            return false
        case (.string, _): throw failure(node, "only a string can be found in a string, not \(element.kindName)")
        default: throw failure(node, "needs a list or a string to look in, not \(container.kindName)")
        }
    }

    /// Arithmetic; a null operand (a missing field) gives null, which later comparisons treat
    /// as false. A string meeting a duration or timestamp is read as an RFC 3339 timestamp.
    private func arithmetic(_ op: BinaryOperator, _ left: ExpressionValue, _ right: ExpressionValue, _ node: Node) throws(EvaluationError) -> ExpressionValue {
        switch (left, right) {
        case (.null, _), (_, .null): return .null
        case let (.string(text), .duration), let (.string(text), .timestamp):
            return try arithmetic(op, .timestamp(timestamp(text, node)), right, node)
        case let (.duration, .string(text)), let (.timestamp, .string(text)):
            return try arithmetic(op, left, .timestamp(timestamp(text, node)), node)
        default: break
        }
        switch (op, left, right) {
        case let (.plus, .decimal(lhs), .decimal(rhs)): return .decimal(try checked(lhs + rhs, node))
        case let (.minus, .decimal(lhs), .decimal(rhs)): return .decimal(try checked(lhs - rhs, node))
        case let (.times, .decimal(lhs), .decimal(rhs)): return .decimal(try checked(lhs * rhs, node))
        case let (.divide, .decimal(lhs), .decimal(rhs)): return .decimal(try checked(lhs / nonZero(rhs, node), node))
        case let (.remainder, .decimal(lhs), .decimal(rhs)):
            let quotient = try checked(lhs / nonZero(rhs, node), node)
            let truncated = quotient < 0 ? rounded(quotient, places: 0, mode: .up) : rounded(quotient, places: 0, mode: .down)
            return .decimal(try checked(lhs - truncated * rhs, node))
        case let (.plus, .string(lhs), .string(rhs)): return .string(lhs + rhs)
        case let (.plus, .timestamp(instant), .duration(seconds)), let (.plus, .duration(seconds), .timestamp(instant)):
            return .timestamp(try moved(instant, by: seconds, node))
        case let (.minus, .timestamp(instant), .duration(seconds)):
            return .timestamp(try moved(instant, by: -seconds, node))
        case let (.minus, .timestamp(lhs), .timestamp(rhs)):
            return .duration(seconds: TimestampArithmetic.seconds(lhs) - TimestampArithmetic.seconds(rhs))
        case let (.plus, .duration(lhs), .duration(rhs)): return .duration(seconds: try checked(lhs + rhs, node))
        case let (.minus, .duration(lhs), .duration(rhs)): return .duration(seconds: try checked(lhs - rhs, node))
        case let (.times, .decimal(factor), .duration(seconds)), let (.times, .duration(seconds), .decimal(factor)):
            return .duration(seconds: try checked(factor * seconds, node))
        case let (.divide, .duration(seconds), .decimal(divisor)):
            return .duration(seconds: try checked(seconds / nonZero(divisor, node), node))
        default:
            throw failure(node, "cannot \(TypeChecker.verb(op)) \(left.kindName) and \(right.kindName)")
        }
    }

    private func nonZero(_ divisor: Decimal, _ node: Node) throws(EvaluationError) -> Decimal {
        guard divisor != 0 else { throw failure(node, "division by zero") }
        return divisor
    }

    private func checked(_ result: Decimal, _ node: Node) throws(EvaluationError) -> Decimal {
        guard !result.isNaN else { throw failure(node, "the number is too large") }
        return result
    }

    private func moved(_ instant: Timestamp, by seconds: Decimal, _ node: Node) throws(EvaluationError) -> Timestamp {
        guard let result = TimestampArithmetic.adding(seconds: seconds, to: instant) else {
            throw failure(node, "the timestamp falls outside the years 0001-9999")
        }
        return result
    }

    func timestamp(_ text: String, _ node: Node) throws(EvaluationError) -> Timestamp {
        guard let timestamp = Timestamp(text) else {
            throw failure(node, "'\(text.prefix(64))' is not an RFC 3339 timestamp like 2026-03-29T07:05:00+02:00")
        }
        return timestamp
    }
}
