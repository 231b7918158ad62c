import Foundation
import LiaisonSchema

extension Evaluator {
    /// Calls a built-in function. A null argument (a missing field) gives null, except in
    /// `coalesce`, whose purpose is to replace nulls. `min`/`max` return an argument as given;
    /// `find` returns the first object in the list whose field equals the value (as `==` does).
    func call(_ function: Function, _ argumentNodes: [Node], _ node: Node) throws(EvaluationError) -> ExpressionValue {
        var arguments: [ExpressionValue] = []
        for argument in argumentNodes { arguments.append(try evaluate(argument)) }
        if function != .coalesce, arguments.contains(.null) { return .null }
        func failure(_ message: String) -> EvaluationError {
            EvaluationError(message: "in '\(node.fragment)': \(message)")
        }
        func mismatch(_ position: Int, _ expected: String) -> EvaluationError {
            failure("\(function.rawValue)() needs \(expected), but '\(argumentNodes[position].fragment)' is \(arguments[position].kindName)")
        }
        func decimal(_ position: Int) throws(EvaluationError) -> Decimal {
            guard case let .decimal(number) = arguments[position] else { throw mismatch(position, "a decimal") }
            return number
        }
        func string(_ position: Int) throws(EvaluationError) -> String {
            guard case let .string(text) = arguments[position] else { throw mismatch(position, "a string") }
            return text
        }
        func instant(_ position: Int) throws(EvaluationError) -> Timestamp {
            switch arguments[position] {
            case let .timestamp(timestamp): return timestamp
            case let .string(text): return try timestamp(text, node)
            default: throw mismatch(position, "a timestamp")
            }
        }
        var now: Decimal { TimestampArithmetic.seconds(scope.now) }
        switch function {
        case .now:
            return .timestamp(scope.now)
        case .daysSince:
            let elapsed = now - TimestampArithmetic.seconds(try instant(0))
            return .decimal(rounded(elapsed / 86_400, places: 0, mode: .down))
        case .hoursUntil:
            return .decimal((TimestampArithmetic.seconds(try instant(0)) - now) / 3_600)
        case .round:
            let places = arguments.count > 1 ? try decimal(1) : 0
            guard let wholePlaces = exactInteger(places), (0...20).contains(wholePlaces) else {
                throw failure("round() takes a whole number of places from 0 to 20, not \(places)")
            }
            return .decimal(rounded(try decimal(0), places: Int(wholePlaces), mode: .plain))
        case .floor:
            return .decimal(rounded(try decimal(0), places: 0, mode: .down))
        case .ceil:
            return .decimal(rounded(try decimal(0), places: 0, mode: .up))
        case .abs:
            switch arguments[0] {
            case let .decimal(number): return .decimal(Swift.abs(number))
            case let .duration(seconds): return .duration(seconds: Swift.abs(seconds))
            default: throw mismatch(0, "a decimal or a duration")
            }
        case .min, .max:
            let firstIsLarger = try order(arguments[0], arguments[1], node) == .orderedDescending
            return (function == .min) == firstIsLarger ? arguments[1] : arguments[0]
        case .contains:
            return .bool(try contains(arguments[0], arguments[1], node))
        case .find:
            guard case let .list(elements) = arguments[0] else { throw mismatch(0, "a list") }
            let field = try string(1)
            for case let .object(object) in elements {
                if try equal(object[field].map(ExpressionValue.init(json:)) ?? .null, arguments[2], node) { return .object(object) }
            }
            return .null
        case .len:
            switch arguments[0] {
            case let .string(text): return .decimal(Decimal(text.count))
            case let .list(elements): return .decimal(Decimal(elements.count))
            default: throw mismatch(0, "a list or a string")
            }
        case .lower:
            return .string(try string(0).lowercased())
        case .upper:
            return .string(try string(0).uppercased())
        case .timestamp:
            return .timestamp(try instant(0))
        case .localHour:
            let zoneName = try string(1)
            guard let zone = TimeZone(identifier: zoneName) else {
                throw failure("'\(zoneName)' is not an IANA time zone like Europe/Berlin")
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            return .decimal(Decimal(calendar.component(.hour, from: try instant(0).date)))
        case .duration:
            switch arguments[0] {
            case .duration: return arguments[0]
            case let .string(text):
                guard let seconds = DurationText.parseCompact(text) ?? DurationText.parseISO8601(text) else {
                    throw failure("'\(text.prefix(64))' is not a duration like 24h, 1d12h or PT24H")
                }
                return .duration(seconds: seconds)
            default: throw mismatch(0, "a string")
            }
        case .coalesce:
            return arguments.first { $0 != .null } ?? .null
        }
    }
}
