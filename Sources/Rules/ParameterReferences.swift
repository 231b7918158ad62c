extension RuleExpression {
    /// The pack parameters the expression names (`params.x` or `params["x"]`) with the
    /// 1-based column where each reference starts, so a pack can reject a parameter it does
    /// not define before any event arrives.
    var parameterReferences: [(name: String, column: Int)] {
        var references: [(name: String, column: Int)] = []
        Self.collectParameters(root, into: &references)
        return references
    }

    private static func collectParameters(_ node: Node, into references: inout [(name: String, column: Int)]) {
        switch node.kind {
        case .literal, .root: return
        case let .member(base, name):
            if case .root(.params) = base.kind { references.append((name, node.column)) }
            collectParameters(base, into: &references)
        case let .index(base, index):
            if case .root(.params) = base.kind, case let .literal(.string(name)) = index.kind { references.append((name, node.column)) }
            collectParameters(base, into: &references)
            collectParameters(index, into: &references)
        case let .list(elements):
            for element in elements { collectParameters(element, into: &references) }
        case let .call(_, arguments):
            for argument in arguments { collectParameters(argument, into: &references) }
        case let .unary(_, operand):
            collectParameters(operand, into: &references)
        case let .binary(_, left, right):
            collectParameters(left, into: &references)
            collectParameters(right, into: &references)
        }
    }
}
