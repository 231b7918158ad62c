import Foundation
import LiaisonSchema

/// Works out each node's static type once, at compile time, and rejects expressions that
/// could never evaluate, e.g. `"a" + 1`, `true < 3` or `now() + 5`.
struct TypeChecker {
    private static let concreteTypes: [ExpressionType] = [.decimal, .string, .bool, .duration, .timestamp, .list]
    private static let orderedTypes: Set<ExpressionType> = [.decimal, .string, .duration, .timestamp]

    func type(of node: Node) throws(ExpressionError) -> ExpressionType {
        switch node.kind {
        case let .literal(value): return Self.type(of: value)
        case let .list(elements):
            for element in elements { _ = try type(of: element) }
            return .list
        case .root: return .any
        case let .member(base, name):
            let baseType = try type(of: base)
            guard baseType == .any else {
                throw error(at: node, "'\(base.fragment)' is \(baseType.withArticle) and has no field '\(name)'")
            }
            return .any
        case let .index(base, index):
            let baseType = try type(of: base)
            guard baseType == .any || baseType == .list else {
                throw error(at: node, "'\(base.fragment)' is \(baseType.withArticle) and cannot be indexed")
            }
            let indexType = try type(of: index)
            guard [.decimal, .string, .any].contains(indexType) else {
                throw error(at: index, "an index must be a number or a field name in quotes, not \(indexType.withArticle)")
            }
            return .any
        case let .call(function, arguments): return try callType(function, arguments, node)
        case let .unary(op, operand): return try unaryType(op, operand, node)
        case let .binary(op, left, right): return try binaryType(op, left, right, node)
        }
    }

    static func type(of value: ExpressionValue) -> ExpressionType {
        switch value {
        case .null: .null
        case .bool: .bool
        case .decimal: .decimal
        case .string: .string
        case .duration: .duration
        case .timestamp: .timestamp
        case .list: .list
        case .object: .any
        }
    }

    private func error(at node: Node, _ message: String) -> ExpressionError {
        ExpressionError(column: node.column, token: node.fragment, message: message)
    }

    private func requireCondition(_ node: Node, for op: String) throws(ExpressionError) {
        let operandType = try type(of: node)
        guard [.bool, .any, .null].contains(operandType) else {
            throw error(at: node, "'\(op)' needs a condition, but '\(node.fragment)' is \(operandType.withArticle)")
        }
    }

    private func unaryType(_ op: UnaryOperator, _ operand: Node, _ node: Node) throws(ExpressionError) -> ExpressionType {
        switch op {
        case .not:
            try requireCondition(operand, for: "not")
            return .bool
        case .negate:
            let operandType = try type(of: operand)
            guard [.decimal, .duration, .any].contains(operandType) else {
                throw error(at: node, "cannot negate \(operandType.withArticle); '-' works on numbers and durations")
            }
            return operandType
        }
    }

    private func binaryType(_ op: BinaryOperator, _ left: Node, _ right: Node, _ node: Node) throws(ExpressionError) -> ExpressionType {
        switch op {
        case .and, .or:
            try requireCondition(left, for: op.rawValue)
            try requireCondition(right, for: op.rawValue)
            return .bool
        case .equal, .notEqual:
            let (leftType, rightType) = (try type(of: left), try type(of: right))
            guard leftType == rightType || [leftType, rightType].contains(.any) || [leftType, rightType].contains(.null) else {
                throw mismatch(node, "compare", leftType, rightType, hint: leftType == .timestamp || rightType == .timestamp)
            }
            return .bool
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let (leftType, rightType) = (try type(of: left), try type(of: right))
            for (side, sideType) in [(left, leftType), (right, rightType)]
            where !(Self.orderedTypes.contains(sideType) || sideType == .any || sideType == .null) {
                throw error(at: side, "'\(op.rawValue)' orders numbers, strings, durations and timestamps, not \(sideType.withArticle)")
            }
            guard leftType == rightType || [leftType, rightType].contains(.any) || [leftType, rightType].contains(.null) else {
                throw mismatch(node, "compare", leftType, rightType, hint: leftType == .timestamp || rightType == .timestamp)
            }
            return .bool
        case .in, .notIn:
            let (leftType, rightType) = (try type(of: left), try type(of: right))
            guard [.list, .string, .any, .null].contains(rightType) else {
                throw error(at: right, "'\(op.rawValue)' needs a list or a string on its right, not \(rightType.withArticle)")
            }
            if rightType == .string, ![.string, .any, .null].contains(leftType) {
                throw error(at: left, "only a string can be found in a string, not \(leftType.withArticle)")
            }
            return .bool
        case .plus, .minus, .times, .divide, .remainder:
            let (leftType, rightType) = (try type(of: left), try type(of: right))
            let candidates = (leftType == .any ? Self.concreteTypes : [leftType]).flatMap { leftCandidate in
                (rightType == .any ? Self.concreteTypes : [rightType]).compactMap { Self.arithmeticType(op, leftCandidate, $0) }
            }
            guard let first = candidates.first else {
                throw mismatch(node, Self.verb(op), leftType, rightType, hint: false)
            }
            return candidates.allSatisfy { $0 == first } ? first : .any
        }
    }

    private func mismatch(_ node: Node, _ verb: String, _ left: ExpressionType, _ right: ExpressionType, hint: Bool) -> ExpressionError {
        let advice = hint && (left == .string || right == .string) ? "; write timestamp(\"...\") for a timestamp literal" : ""
        return error(at: node, "cannot \(verb) \(left.withArticle) and \(right.withArticle) in '\(node.fragment)'\(advice)")
    }

    static func verb(_ op: BinaryOperator) -> String {
        switch op {
        case .plus: "add"
        case .minus: "subtract"
        case .times: "multiply"
        case .divide: "divide"
        case .remainder: "take the remainder of"
        default: "compare"
        }
    }

    /// The result type of arithmetic on two concrete types, or nil when it is not defined.
    static func arithmeticType(_ op: BinaryOperator, _ left: ExpressionType, _ right: ExpressionType) -> ExpressionType? {
        switch (op, left, right) {
        case (.plus, .decimal, .decimal), (.minus, .decimal, .decimal), (.times, .decimal, .decimal),
             (.divide, .decimal, .decimal), (.remainder, .decimal, .decimal):
            .decimal
        case (.plus, .string, .string): .string
        case (.plus, .timestamp, .duration), (.plus, .duration, .timestamp), (.minus, .timestamp, .duration): .timestamp
        case (.minus, .timestamp, .timestamp), (.plus, .duration, .duration), (.minus, .duration, .duration),
             (.times, .decimal, .duration), (.times, .duration, .decimal), (.divide, .duration, .decimal):
            .duration
        default: nil
        }
    }

    private func callType(_ function: Function, _ arguments: [Node], _ node: Node) throws(ExpressionError) -> ExpressionType {
        let arity = function.arity
        guard arguments.count >= arity.minimum, arguments.count <= arity.maximum ?? Int.max else {
            throw error(at: node, "\(function.rawValue)() takes \(Self.count(arity.minimum, arity.maximum)), not \(arguments.count); write \(arity.usage)")
        }
        var types: [ExpressionType] = []
        for (position, argument) in arguments.enumerated() {
            let argumentType = try type(of: argument)
            let accepted = function.acceptedTypes(at: position)
            guard accepted.contains(argumentType) || argumentType == .any || argumentType == .null else {
                let names = accepted.map(\.rawValue).sorted().joined(separator: " or ")
                throw error(at: argument, "\(function.rawValue)() needs \(names) here, but '\(argument.fragment)' is \(argumentType.withArticle); write \(arity.usage)")
            }
            try checkLiteral(function, position: position, argument)
            types.append(argumentType)
        }
        if function == .contains, types[0] == .string, ![.string, .any, .null].contains(types[1]) {
            throw error(at: arguments[1], "only a string can be found in a string, not \(types[1].withArticle)")
        }
        let known = types.filter { $0 != .any && $0 != .null }
        switch function {
        case .now, .timestamp: return .timestamp
        case .daysSince, .hoursUntil, .round, .floor, .ceil, .len, .localHour: return .decimal
        case .lower, .upper: return .string
        case .contains: return .bool
        case .find: return .any
        case .duration: return .duration
        case .abs: return types[0] == .null ? .null : types[0]
        case .min, .max, .coalesce:
            guard let first = known.first else { return types.allSatisfy { $0 == .null } ? .null : .any }
            guard known.allSatisfy({ $0 == first }) else {
                if function == .coalesce, !types.contains(.any) { return .any }
                throw error(at: node, "\(function.rawValue)() needs values of one type, not \(known.map(\.withArticle).joined(separator: " and "))")
            }
            return types.contains(.any) && function == .coalesce ? .any : first
        }
    }

    /// Literal arguments are checked now so that a typo fails at load time.
    private func checkLiteral(_ function: Function, position: Int, _ argument: Node) throws(ExpressionError) {
        guard case let .literal(.string(text)) = argument.kind else { return }
        switch (function, position) {
        case (.timestamp, 0) where Timestamp(text) == nil:
            throw error(at: argument, "'\(text)' is not an RFC 3339 timestamp like 2026-03-29T07:05:00+02:00")
        case (.duration, 0) where DurationText.parseCompact(text) == nil && DurationText.parseISO8601(text) == nil:
            throw error(at: argument, "'\(text)' is not a duration like 24h, 1d12h or PT24H")
        case (.localHour, 1) where TimeZone(identifier: text) == nil:
            throw error(at: argument, "'\(text)' is not an IANA time zone like Europe/Berlin")
        default:
            return
        }
    }

    private static func count(_ minimum: Int, _ maximum: Int?) -> String {
        let noun = { (count: Int) in count == 1 ? "1 argument" : "\(count) arguments" }
        guard let maximum else { return "at least \(noun(minimum))" }
        return minimum == maximum ? noun(minimum) : "\(minimum) or \(noun(maximum))"
    }
}
