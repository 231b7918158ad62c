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

/// An enriched record with the rules that matched it, evaluated before de-duplication.
public struct MatchedInput: Sendable {
    public var input: EnrichedInput
    var matches: [RuleMatch]
    /// Decoded only when some matched rule sends or schedules an action.
    var recipient: RecipientV1?
}

/// A rule whose condition held for a record, with what the record alone decides about it.
struct RuleMatch: Sendable {
    let rule: Rule
    let reads: JSONObject
    var cancelKey: String?
    /// The action's payload; nil for a rule that only cancels.
    var payload: JSONObject?
    var timerKey: String?
    /// nil when the rule schedules but `schedule.at` gave null (a missing field).
    var due: Timestamp?
    var validUntil: Timestamp?
    var escalationPayload: JSONObject?

    init(rule: Rule, reads: JSONObject) {
        self.rule = rule
        self.reads = reads
    }
}
