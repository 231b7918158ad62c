import Foundation
import LiaisonSchema
import LiaisonStage

/// The rules stage's logic: evaluates the pack's rules against each enriched event and asks for
/// engagements now (actions) or later (timers), and fires the timers that come due. Every rule
/// that matched leaves a decision record: on its action, or in the store when it was held back.
public struct RulesStage: TimedStage {
    public let name = "rules"
    public let pack: RulePack
    public let outputTopic: String
    /// The wall clock, for expiry; injected so tests run in simulated time.
    private let clock: @Sendable () -> Date
    private let rulesByType: [String: [CompiledRule]]
    private let rulesById: [String: Rule]

    public init(pack: RulePack, outputTopic: String = ActionV1.topic, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pack = pack
        self.outputTopic = outputTopic
        self.clock = clock
        let compiled = pack.rules.map(CompiledRule.init)
        var byType: [String: [CompiledRule]] = [:]
        for rule in compiled {
            for type in rule.rule.eventTypes { byType[type, default: []].append(rule) }
        }
        rulesByType = byType
        rulesById = Dictionary(pack.rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads the record and evaluates everything its rules decide from the record alone
    /// (conditions, the values they read, payloads, timer keys and times), on any core before
    /// de-duplication; `process` then only weighs the customer's state.
    public func read(_ record: InputRecord) -> Result<MatchedInput, StageFailure> {
        Result { () throws(StageFailure) in
            let input = try EnrichedInput(record)
            guard !input.erased, let rules = rulesByType[input.eventType] else {
                return MatchedInput(input: input, matches: [], recipient: nil)
            }
            let scope = EvaluationScope(event: input.event, context: input.context, params: pack.params, now: input.time)
            var matches: [RuleMatch] = []
            for rule in rules {
                if let match = try match(rule, scope) { matches.append(match) }
            }
            let recipient = matches.contains { $0.payload != nil } ? try input.recipient() : nil
            return MatchedInput(input: input, matches: matches, recipient: recipient)
        }
    }

    public func process(
        _ record: InputRecord, reading: Result<MatchedInput, StageFailure>, inputID: String, state: RulesState
    ) throws(StageFailure) -> Effect<RulesChange> {
        let matched = try reading.get()
        let input = matched.input
        if input.erased { return erase(input, inputID: inputID, position: record.position, state: state) }
        guard let rules = rulesByType[input.eventType] else {
            return Effect(verdict: .ignored, reason: "no rule listens to \(input.eventType)")
        }
        var evaluation = Evaluation(input: matched, inputID: inputID, position: record.position, state: state)
        for match in matched.matches { apply(match, &evaluation) }
        guard !evaluation.notes.isEmpty else {
            return Effect(verdict: .ignored, reason: "no rule matched: \(rules.map(\.rule.id).joined(separator: ", "))")
        }
        let verdict: Verdict = evaluation.changes.isEmpty && evaluation.outputs.isEmpty ? .ignored : .accepted
        return Effect(
            verdict: verdict, reason: evaluation.notes.joined(separator: "; "), outputs: evaluation.outputs,
            changes: evaluation.changes)
    }

    /// An erased customer gets nothing more: their timers, firings and decisions go, and the
    /// erasure request itself becomes a `forget` action, so the notifier drops what it still holds.
    private func erase(_ input: EnrichedInput, inputID: String, position: RecordPosition, state: RulesState) -> Effect<RulesChange> {
        let pending = state.timers.keys.filter { $0.customerId == input.customerId }.count
        var outputs: [OutputRecord] = []
        if input.eventType == EventType.customerErasureRequested.rawValue {
            let decision = DecisionRecordV1(
                ruleId: "erasure", packVersion: pack.version, inputIds: [inputID],
                inputPositions: [.init(topic: position.topic, partition: position.partition, offset: position.offset)],
                reads: JSONObject(), outcome: .cancelled, reason: "the customer asked to be forgotten")
            outputs.append(output(ActionV1(
                id: "erasure@\(inputID)", kind: .forget, customerId: input.customerId, ruleId: "erasure", template: "none",
                channelClass: .service, priority: .normal, createdAt: input.time, payload: JSONObject(), decision: decision)))
        }
        return Effect(
            verdict: .accepted, reason: "customer erased: \(pending) pending timers removed", outputs: outputs,
            changes: [.erase(customerId: input.customerId)])
    }

    /// Evaluates one rule against the record: nil when its condition does not hold.
    private func match(_ compiled: CompiledRule, _ scope: EvaluationScope) throws(StageFailure) -> RuleMatch? {
        let rule = compiled.rule
        if let condition = rule.condition {
            let matched: Bool
            do {
                matched = try condition.evaluateCondition(scope)
            } catch {
                throw failure(rule, "when", error)
            }
            guard matched else { return nil }
        }
        var match = RuleMatch(rule: rule, reads: compiled.reads(in: scope))
        if let cancelKey = rule.cancelKey { match.cancelKey = try text(cancelKey, scope, rule, "cancel") }
        guard let action = rule.action else { return match }
        match.payload = try payload(action, scope, rule, "action.payload")
        if let schedule = rule.schedule {
            match.timerKey = try text(schedule.key, scope, rule, "schedule.key")
            match.due = try timestamp(schedule.at, scope, rule, "schedule.at")
            match.validUntil = try schedule.validUntil.flatMap { expression throws(StageFailure) in
                try timestamp(expression, scope, rule, "schedule.valid-until")
            }
            match.escalationPayload = try schedule.escalation.map { escalation throws(StageFailure) in
                try payload(escalation, scope, rule, "schedule.escalation.payload")
            }
        }
        return match
    }

    /// What evaluating one record's rules has produced so far; later rules see earlier ones'
    /// timers and firings, so two rules of one event respect one cap.
    private struct Evaluation {
        let input: MatchedInput
        let inputID: String
        let position: RecordPosition
        let state: RulesState
        var outputs: [OutputRecord] = []
        var changes: [RulesChange] = []
        var notes: [String] = []
        var timers: [TimerKey: PendingTimer?] = [:]
        var firings: [Firing] = []

        var customerId: String { input.input.customerId }

        func timer(_ key: TimerKey) -> PendingTimer? {
            if let local = timers[key] { return local }
            return state.timers[key]
        }

        var customerFirings: [Firing] { (state.firings[customerId] ?? []) + firings }
    }

    private func apply(_ match: RuleMatch, _ evaluation: inout Evaluation) {
        let rule = match.rule
        let input = evaluation.input.input
        var decision = DecisionRecordV1(
            ruleId: rule.id, packVersion: pack.version,
            inputIds: input.eventId == evaluation.inputID ? [input.eventId] : [evaluation.inputID, input.eventId],
            inputPositions: [.init(topic: evaluation.position.topic, partition: evaluation.position.partition, offset: evaluation.position.offset)],
            reads: match.reads, outcome: .fired)
        if let cancelKey = match.cancelKey {
            let key = TimerKey(customerId: input.customerId, key: cancelKey)
            decision.outcome = .cancelled
            if let pending = evaluation.timer(key) {
                decision.reason = "timer \(key.key) due at \(pending.due) cancelled by \(input.eventType) \(input.eventId)"
                evaluation.timers[key] = .some(nil)
                evaluation.changes.append(.remove(key))
            } else {
                decision.reason = "no pending timer \(key.key) to cancel"
            }
            keep(decision, &evaluation)
        }
        guard let action = rule.action, let payload = match.payload else { return }
        decision.outcome = .fired
        decision.reason = nil
        if rule.schedule != nil {
            scheduleTimer(match, action, payload, decision, &evaluation)
        } else {
            sendNow(rule, action, payload, decision, &evaluation)
        }
    }

    private func sendNow(
        _ rule: Rule, _ spec: ActionSpec, _ payload: JSONObject, _ matched: DecisionRecordV1, _ evaluation: inout Evaluation
    ) {
        let input = evaluation.input.input
        var decision = matched
        let validUntil = rule.expirySeconds.map { Timestamp(epochMilliseconds: input.time.epochMilliseconds + $0 * 1000) }
        let now = clock()
        if let validUntil, validUntil.date < now {
            decision.outcome = .suppressed
            decision.reason = "expired: the event of \(input.time) was worth acting on until \(validUntil), and it is \(Timestamp(now)) now"
            return keep(decision, &evaluation)
        }
        let atMs = input.time.epochMilliseconds
        if let reason = suppressionReason(
            rule: rule, channelClass: spec.channelClass, pack: pack, firings: evaluation.customerFirings, nowMs: atMs)
        {
            decision.outcome = .suppressed
            decision.reason = reason
            return keep(decision, &evaluation)
        }
        var action = ActionV1(
            id: "\(rule.id)@\(evaluation.inputID)", kind: .engage, customerId: input.customerId, ruleId: rule.id,
            template: spec.template, channelClass: spec.channelClass, priority: spec.priority, createdAt: input.time,
            payload: payload, decision: decision)
        action.validUntil = validUntil
        action.recipient = evaluation.input.recipient
        action.traceparent = input.traceparent
        let firing = Firing(customerId: input.customerId, ruleId: rule.id, channelClass: spec.channelClass, atMs: atMs)
        evaluation.firings.append(firing)
        evaluation.changes.append(.fired(firing))
        evaluation.outputs.append(output(action))
        evaluation.notes.append("\(rule.id): fired")
    }

    private func scheduleTimer(
        _ match: RuleMatch, _ spec: ActionSpec, _ payload: JSONObject, _ matched: DecisionRecordV1, _ evaluation: inout Evaluation
    ) {
        let input = evaluation.input.input
        var decision = matched
        guard let timerKey = match.timerKey, let due = match.due else {
            decision.outcome = .suppressed
            decision.reason = "schedule.at gave null (a field it reads is missing), so there is nothing to schedule"
            return keep(decision, &evaluation)
        }
        let key = TimerKey(customerId: input.customerId, key: timerKey)
        decision.outcome = .scheduled
        let previous = evaluation.timer(key)
        decision.reason = switch previous {
        case nil: "timer \(key.key) due at \(due)"
        case let previous? where previous.due.epochMilliseconds == due.epochMilliseconds: "timer \(key.key) due at \(due), as already scheduled"
        case let previous?: "timer \(key.key) moved from \(previous.due) to \(due)"
        }
        let timer = PendingTimer(
            customerId: input.customerId, key: key.key, ruleId: match.rule.id, due: due, validUntil: match.validUntil,
            template: spec.template, channelClass: spec.channelClass, priority: spec.priority, payload: payload,
            escalationPayload: match.escalationPayload, recipient: evaluation.input.recipient, traceparent: input.traceparent,
            scheduledBy: decision)
        evaluation.timers[key] = .some(timer)
        evaluation.changes.append(.schedule(timer))
        keep(decision, &evaluation)
    }

    private func keep(_ decision: DecisionRecordV1, _ evaluation: inout Evaluation) {
        evaluation.changes.append(.keep(KeptDecision(
            customerId: evaluation.customerId, atMs: evaluation.input.input.time.epochMilliseconds, decision: decision)))
        let reason = decision.reason.map { " (\($0))" } ?? ""
        evaluation.notes.append("\(decision.ruleId): \(decision.outcome.rawValue)\(reason)")
    }

    // MARK: Timers

    public func fire(_ due: [PendingTimer], state: RulesState, now: Date) -> FiredEffect<RulesChange> {
        var effect = FiredEffect<RulesChange>()
        var firings = state.firings
        let nowMs = now.epochMilliseconds
        for timer in due {
            effect.changes.append(.remove(timer.timerKey))
            var decision = timer.scheduledBy
            let baseID = "\(timer.ruleId)@\(timer.customerId)/\(timer.key)@\(timer.due.text)"
            let late = "\(durationText(max(0, nowMs - timer.due.epochMilliseconds) / 1000)) after its due time \(timer.due)"
            guard let rule = rulesById[timer.ruleId], let schedule = rule.schedule else {
                decision.outcome = .suppressed
                decision.reason = "rule \(timer.ruleId) is not a timed rule of pack \(pack.name) \(pack.version) any more"
                effect.changes.append(keep(decision, timer, nowMs))
                continue
            }
            decision.packVersion = pack.version
            if let validUntil = timer.validUntil, nowMs > validUntil.epochMilliseconds {
                decision.outcome = .missed
                decision.reason = "reached \(late), but it was valid only until \(validUntil)"
                effect.outputs.append(output(timedAction(timer, id: baseID, kind: .missed, decision: decision, now: now)))
                effect.changes.append(keep(decision, timer, nowMs))
                continue
            }
            var template = timer.template
            var channelClass = timer.channelClass
            var priority = timer.priority
            var payload = timer.payload
            var id = baseID
            decision.outcome = .fired
            decision.reason = nil
            if nowMs - timer.due.epochMilliseconds > schedule.lateAfterSeconds * 1000 {
                switch schedule.overdue {
                case .fireLate:
                    decision.reason = "fired late, \(late) (overdue policy fire-late)"
                case .skip:
                    decision.outcome = .suppressed
                    decision.reason = "skipped: reached \(late) (overdue policy skip)"
                    effect.changes.append(keep(decision, timer, nowMs))
                    continue
                case .escalate:
                    guard let escalation = schedule.escalation else { break }
                    decision.reason = "escalated: reached \(late) (overdue policy escalate)"
                    template = escalation.template
                    channelClass = escalation.channelClass
                    priority = escalation.priority
                    payload = timer.escalationPayload ?? timer.payload
                    id = "\(baseID)#escalated"
                }
            }
            if let reason = suppressionReason(
                rule: rule, channelClass: channelClass, pack: pack, firings: firings[timer.customerId] ?? [], nowMs: nowMs)
            {
                decision.outcome = .suppressed
                decision.reason = reason
                effect.changes.append(keep(decision, timer, nowMs))
                continue
            }
            var action = timedAction(timer, id: id, kind: .engage, decision: decision, now: now)
            action.template = template
            action.channelClass = channelClass
            action.priority = priority
            action.payload = payload
            let firing = Firing(customerId: timer.customerId, ruleId: rule.id, channelClass: channelClass, atMs: nowMs)
            firings[timer.customerId, default: []].append(firing)
            effect.changes.append(.fired(firing))
            effect.outputs.append(output(action))
        }
        return effect
    }

    private func timedAction(_ timer: PendingTimer, id: String, kind: ActionKind, decision: DecisionRecordV1, now: Date) -> ActionV1 {
        var action = ActionV1(
            id: id, kind: kind, customerId: timer.customerId, ruleId: timer.ruleId, template: timer.template,
            channelClass: timer.channelClass, priority: timer.priority, createdAt: Timestamp(now), payload: timer.payload,
            decision: decision)
        action.validUntil = timer.validUntil
        action.recipient = timer.recipient
        action.traceparent = timer.traceparent
        return action
    }

    private func keep(_ decision: DecisionRecordV1, _ timer: PendingTimer, _ nowMs: Int64) -> RulesChange {
        .keep(KeptDecision(customerId: timer.customerId, atMs: nowMs, decision: decision))
    }

    // MARK: Values

    private func output(_ action: ActionV1) -> OutputRecord {
        OutputRecord(id: action.id, topic: outputTopic, key: Array(action.customerId.utf8), value: action.jsonBytes())
    }

    private func payload(_ spec: ActionSpec, _ scope: EvaluationScope, _ rule: Rule, _ field: String) throws(StageFailure) -> JSONObject {
        var payload = JSONObject()
        for entry in spec.payload {
            do {
                payload[entry.name] = try entry.expression.evaluate(scope).json
            } catch {
                throw failure(rule, "\(field).\(entry.name)", error)
            }
        }
        return payload
    }

    private func text(_ expression: RuleExpression, _ scope: EvaluationScope, _ rule: Rule, _ field: String) throws(StageFailure) -> String {
        let value: ExpressionValue
        do {
            value = try expression.evaluate(scope)
        } catch {
            throw failure(rule, field, error)
        }
        guard case let .string(text) = value, !text.isEmpty else {
            throw failure(rule, field, EvaluationError(message: "gave \(value.json), but a timer key must be a non-empty string"))
        }
        return text
    }

    /// A timestamp, or nil when the expression gave null (a missing field).
    private func timestamp(_ expression: RuleExpression, _ scope: EvaluationScope, _ rule: Rule, _ field: String) throws(StageFailure) -> Timestamp? {
        let value: ExpressionValue
        do {
            value = try expression.evaluate(scope)
        } catch {
            throw failure(rule, field, error)
        }
        switch value {
        case .null: return nil
        case let .timestamp(timestamp): return timestamp
        case let .string(text):
            if let timestamp = Timestamp(text) { return timestamp }
        default: break
        }
        throw failure(rule, field, EvaluationError(message: "gave \(value.json), but a timestamp is needed"))
    }

    private func failure(_ rule: Rule, _ field: String, _ error: EvaluationError) -> StageFailure {
        StageFailure(
            code: "rule_evaluation_failed",
            message: "rule \(rule.id) (pack \(pack.name) \(pack.version)), \(field): \(error.message)")
    }
}
