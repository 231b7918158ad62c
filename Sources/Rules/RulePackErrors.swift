/// One problem in a rule pack file, placed so that an author (or an editor reading the
/// `file:line:column:` prefix) can go straight to it.
public struct RulePackError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name the pack was loaded under, usually its file name.
    public let origin: String
    /// 1-based line in the YAML source.
    public let line: Int
    /// 1-based column in the YAML source, counted in Unicode scalars.
    public let column: Int
    /// Where in the pack, e.g. `rules[3] (checkin-reminder).schedule.at`: keys joined by `.`,
    /// list positions 0-based in brackets, a rule's id after its position. Empty for problems
    /// with the file as a whole, such as a YAML syntax error.
    public let field: String
    /// What is wrong and what to do about it.
    public let message: String

    public init(origin: String, line: Int, column: Int, field: String, message: String) {
        self.origin = origin
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        "\(origin):\(line):\(column): " + (field.isEmpty ? "" : "\(field): ") + message
    }
}

/// Every problem found while loading a rule pack, in source order. A pack with any problem
/// is not loaded at all, so the author gets the whole list in one go.
public struct RulePackErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public let errors: [RulePackError]

    public init(_ errors: [RulePackError]) {
        self.errors = errors
    }

    /// One problem per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
