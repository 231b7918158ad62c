/// A compile-time problem in an expression, reported when a rule pack is loaded so the
/// author can fix it: the 1-based column, the token found there, and what to do.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based column in the expression source, counted in Unicode scalars.
    public let column: Int
    /// The source text at the column (empty at the end of the expression).
    public let token: String
    public let message: String

    public init(column: Int, token: String, message: String) {
        self.column = column
        self.token = token
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}

/// A run-time problem evaluating an expression against one event, such as a field holding
/// a string where a number is needed or a division by zero. Never a crash: the caller
/// decides whether the rule is skipped and records the message.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
