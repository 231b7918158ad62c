/// The static type of an expression, known when it is compiled so that a rule pack with
/// `"a" + 1` fails at load time rather than on the first matching event. `any` is a field
/// path whose JSON type is only known when an event arrives; it is checked at run time.
public enum ExpressionType: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case decimal, string, bool, null, duration, timestamp, list, any

    public var description: String { rawValue }

    /// The type with an article, for error messages.
    var withArticle: String {
        switch self {
        case .any: "a value of any type"
        case .null: "null"
        default: "a \(rawValue)"
        }
    }
}
