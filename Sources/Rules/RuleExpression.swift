import LiaisonSchema

/// A compiled rule expression: parsed and type-checked once when a rule pack loads, then
/// evaluated per event without re-parsing. Immutable, so one instance serves all tasks.
///
/// Missing data is null, never an error, so conditions over absent fields stay false:
/// `<`, `<=`, `>`, `>=` with a null operand are false; arithmetic and functions (except
/// `coalesce`) given null give null; `and`, `or`, `not` treat null as false; `x in null` is
/// false. A string field meeting a timestamp (compared, or ± a duration, or passed to a
/// function wanting one) is read as RFC 3339.
public struct RuleExpression: Sendable {
    public let source: String
    public let resultType: ExpressionType
    /// Paths the expression reads, sorted, e.g. `["context.surplus", "event.type"]`, for
    /// decision records.
    public let paths: [String]
    let root: Node

    /// Compiles `source`. With `expecting`, the result type must be that type or `any`
    /// (checked at run time); conditions pass `.bool`.
    public init(_ source: String, expecting: ExpressionType? = nil) throws(ExpressionError) {
        var parser = try Parser(source: source)
        let root = try parser.parse()
        let resultType = try TypeChecker().type(of: root)
        if let expecting, resultType != expecting, resultType != .any {
            throw ExpressionError(
                column: root.column, token: root.fragment,
                message: "the expression gives \(resultType.withArticle), but \(expecting.withArticle) is needed here")
        }
        self.source = source
        self.resultType = resultType
        self.root = root
        var paths = Set<String>()
        Self.collectPaths(root, into: &paths)
        self.paths = paths.sorted()
    }

    /// Evaluates against one event's scope.
    public func evaluate(_ scope: EvaluationScope) throws(EvaluationError) -> ExpressionValue {
        try Evaluator(scope: scope).evaluate(root)
    }

    /// Evaluates as a condition: null (e.g. a missing field) is false; anything other than a
    /// bool or null is an `EvaluationError`.
    public func evaluateCondition(_ scope: EvaluationScope) throws(EvaluationError) -> Bool {
        try Evaluator(scope: scope).condition(root, for: "condition")
    }

    private static func collectPaths(_ node: Node, into paths: inout Set<String>) {
        if let path = pathText(node) {
            paths.insert(path)
            return
        }
        switch node.kind {
        case .literal, .root: return
        case let .list(elements):
            for element in elements { collectPaths(element, into: &paths) }
        case let .member(base, _):
            collectPaths(base, into: &paths)
        case let .index(base, index):
            collectPaths(base, into: &paths)
            collectPaths(index, into: &paths)
        case let .call(_, arguments):
            for argument in arguments { collectPaths(argument, into: &paths) }
        case let .unary(_, operand):
            collectPaths(operand, into: &paths)
        case let .binary(_, left, right):
            collectPaths(left, into: &paths)
            collectPaths(right, into: &paths)
        }
    }

    /// The canonical text of a path with only literal indexes, e.g. `context.trips[0].departure`.
    private static func pathText(_ node: Node) -> String? {
        switch node.kind {
        case let .root(root): return root.rawValue
        case let .member(base, name): return pathText(base).map { "\($0).\(name)" }
        case let .index(base, index):
            guard let basePath = pathText(base) else { return nil }
            switch index.kind {
            case let .literal(.decimal(number)): return "\(basePath)[\(number)]"
            case let .literal(.string(key)): return "\(basePath)[\"\(key)\"]"
            default: return nil
            }
        default: return nil
        }
    }
}

/// What an expression can read: the event, the recipient's context, the rule pack's named
/// parameters, and the clock, injected so evaluation is repeatable and testable.
public struct EvaluationScope: Sendable {
    public var event: JSONValue
    public var context: JSONValue
    public var params: JSONObject
    public var now: Timestamp

    public init(event: JSONValue, context: JSONValue, params: JSONObject = JSONObject(), now: Timestamp) {
        self.event = event
        self.context = context
        self.params = params
        self.now = now
    }
}
