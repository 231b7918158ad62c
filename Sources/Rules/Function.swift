/// The fixed set of functions an expression may call; anything else is a compile error.
enum Function: String, Sendable, CaseIterable {
    case now
    case daysSince = "days_since"
    case hoursUntil = "hours_until"
    case round, floor, ceil, abs, min, max, contains, find, len, lower, upper, coalesce, timestamp
    case localHour = "local_hour"
    case duration

    /// How many arguments the function takes, and how to write a call for error messages.
    var arity: (minimum: Int, maximum: Int?, usage: String) {
        switch self {
        case .now: (0, 0, "now()")
        case .daysSince: (1, 1, "days_since(timestamp)")
        case .hoursUntil: (1, 1, "hours_until(timestamp)")
        case .round: (1, 2, "round(number) or round(number, places)")
        case .floor: (1, 1, "floor(number)")
        case .ceil: (1, 1, "ceil(number)")
        case .abs: (1, 1, "abs(number_or_duration)")
        case .min: (2, 2, "min(a, b)")
        case .max: (2, 2, "max(a, b)")
        case .contains: (2, 2, "contains(list_or_string, value)")
        case .find: (3, 3, "find(list, \"field\", value)")
        case .len: (1, 1, "len(list_or_string)")
        case .lower: (1, 1, "lower(string)")
        case .upper: (1, 1, "upper(string)")
        case .coalesce: (2, nil, "coalesce(a, b, ...)")
        case .timestamp: (1, 1, "timestamp(rfc3339_string)")
        case .localHour: (2, 2, "local_hour(timestamp, \"Area/City\")")
        case .duration: (1, 1, "duration(\"24h\")")
        }
    }

    /// The static types the argument at `position` may have; `any` and `null` always pass.
    func acceptedTypes(at position: Int) -> Set<ExpressionType> {
        let ordered: Set<ExpressionType> = [.decimal, .string, .duration, .timestamp]
        switch (self, position) {
        case (.daysSince, _), (.hoursUntil, _), (.localHour, 0): return [.timestamp]
        case (.round, _), (.floor, _), (.ceil, _): return [.decimal]
        case (.abs, _): return [.decimal, .duration]
        case (.min, _), (.max, _): return ordered
        case (.contains, 0), (.len, _): return [.list, .string]
        case (.find, 0): return [.list]
        case (.find, 1): return [.string]
        case (.lower, _), (.upper, _), (.localHour, _): return [.string]
        case (.timestamp, _): return [.string, .timestamp]
        case (.duration, _): return [.string, .duration]
        default: return Set(ExpressionType.allCases)
        }
    }
}
