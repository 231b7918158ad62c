import LiaisonSchema

/// A rule with what evaluating it repeatedly needs prepared once: the paths its decision
/// record reports, each compiled to read its value.
struct CompiledRule: Sendable {
    let rule: Rule
    let readers: [(path: String, expression: RuleExpression)]

    init(_ rule: Rule) {
        self.rule = rule
        let expressions = [rule.condition, rule.cancelKey, rule.schedule?.key, rule.schedule?.at, rule.schedule?.validUntil]
        let paths = Set(expressions.compactMap { $0?.paths }.joined())
        readers = paths.sorted().compactMap { path in (try? RuleExpression(path)).map { (path, $0) } }
    }

    /// The values the rule's expressions read, by path, for the decision record.
    func reads(in scope: EvaluationScope) -> JSONObject {
        var reads = JSONObject()
        for reader in readers { reads[reader.path] = (try? reader.expression.evaluate(scope))?.json ?? .null }
        return reads
    }
}
