import LiaisonSchema

/// A loaded, fully checked rule pack: every expression compiled and type-checked, every
/// parameter it names defined. The stage only ever sees a pack that loaded whole.
public struct RulePack: Sendable {
    public var name: String
    /// Stamped on every decision, so a decision can be traced to the exact pack that made it.
    public var version: String
    /// Named thresholds the rules read as `params.name`, so operators tune numbers without
    /// touching conditions.
    public var params: JSONObject
    /// Per customer × channel class: at most this many actions of the class in the window.
    public var channelCaps: [ChannelClass: FrequencyCap]
    public var rules: [Rule]

    public init(name: String, version: String, params: JSONObject, channelCaps: [ChannelClass: FrequencyCap], rules: [Rule]) {
        self.name = name
        self.version = version
        self.params = params
        self.channelCaps = channelCaps
        self.rules = rules
    }
}

/// One rule: which events it listens to, when it applies and what it does then.
public struct Rule: Sendable {
    public var id: String
    public var description: String?
    /// The event types (`travel.booking.confirmed`, …) the rule is evaluated for.
    public var eventTypes: Set<String>
    /// A bool expression; a rule without one applies to every event of its types.
    public var condition: RuleExpression?
    /// What the rule asks for; nil for a rule that only cancels timers.
    public var action: ActionSpec?
    /// Present when the action is due later rather than now.
    public var schedule: ScheduleSpec?
    /// A string expression naming the timer key this rule removes (a cancellation).
    public var cancelKey: RuleExpression?
    /// How long an immediate action stays worth delivering, from the event's time; an event
    /// already older than this when processed is suppressed as expired.
    public var expirySeconds: Int64?
    /// Per customer × rule: no second action within this many seconds of the last.
    public var cooldownSeconds: Int64?
    /// Per customer × rule: at most this many actions in the window.
    public var cap: FrequencyCap?

    public init(
        id: String, description: String? = nil, eventTypes: Set<String>, condition: RuleExpression? = nil,
        action: ActionSpec? = nil, schedule: ScheduleSpec? = nil, cancelKey: RuleExpression? = nil,
        expirySeconds: Int64? = nil, cooldownSeconds: Int64? = nil, cap: FrequencyCap? = nil
    ) {
        self.id = id
        self.description = description
        self.eventTypes = eventTypes
        self.condition = condition
        self.action = action
        self.schedule = schedule
        self.cancelKey = cancelKey
        self.expirySeconds = expirySeconds
        self.cooldownSeconds = cooldownSeconds
        self.cap = cap
    }
}

/// The engagement a rule asks for; the notifier picks the channel within the class.
public struct ActionSpec: Sendable {
    public var template: String
    public var channelClass: ChannelClass
    public var priority: ActionPriority
    /// Values the template renders, in the order the pack lists them.
    public var payload: [PayloadField]

    public init(template: String, channelClass: ChannelClass, priority: ActionPriority, payload: [PayloadField] = []) {
        self.template = template
        self.channelClass = channelClass
        self.priority = priority
        self.payload = payload
    }
}

public struct PayloadField: Sendable {
    public var name: String
    public var expression: RuleExpression

    public init(name: String, expression: RuleExpression) {
        self.name = name
        self.expression = expression
    }
}

/// A timed action: "at departure − 24 h, valid until departure − 1 h".
public struct ScheduleSpec: Sendable {
    /// A string expression; scheduling a key again moves the timer, and a cancel rule naming
    /// it removes the timer.
    public var key: RuleExpression
    /// A timestamp expression: when the action is due.
    public var at: RuleExpression
    /// A timestamp expression: after this the action is pointless and becomes `missed`.
    public var validUntil: RuleExpression?
    /// How late a timer may fire and still count as on time.
    public var lateAfterSeconds: Int64
    public var overdue: OverduePolicy
    /// What to do instead when the policy is `escalate`.
    public var escalation: ActionSpec?

    public init(
        key: RuleExpression, at: RuleExpression, validUntil: RuleExpression? = nil, lateAfterSeconds: Int64 = 300,
        overdue: OverduePolicy = .fireLate, escalation: ActionSpec? = nil
    ) {
        self.key = key
        self.at = at
        self.validUntil = validUntil
        self.lateAfterSeconds = lateAfterSeconds
        self.overdue = overdue
        self.escalation = escalation
    }
}

/// What a timer found overdue (later than `lateAfterSeconds`, still valid) does.
public enum OverduePolicy: String, Sendable, CaseIterable {
    /// Fires the action anyway.
    case fireLate = "fire-late"
    /// Records a suppressed decision and sends nothing.
    case skip
    /// Sends the rule's escalation action instead (e.g. an agent task).
    case escalate
}

public struct FrequencyCap: Sendable, Equatable {
    public var count: Int
    public var perSeconds: Int64

    public init(count: Int, perSeconds: Int64) {
        self.count = count
        self.perSeconds = perSeconds
    }
}
