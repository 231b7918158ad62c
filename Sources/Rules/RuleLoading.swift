import LiaisonSchema
import Yams

extension PackReader {
    static let ruleKeys = ["id", "description", "on", "when", "action", "schedule", "cancel", "expiry", "cooldown", "cap"]
    static let actionKeys = ["template", "channel-class", "priority", "payload"]
    static let scheduleKeys = ["key", "at", "valid-until", "late-after", "overdue", "escalation"]

    /// The field path of a rule: its position, and its id when it has one to show.
    static func rulePath(_ node: YAMLNode, index: Int) -> String {
        if case let .scalar(id)? = value(of: "id", in: node), scalarKind(id) != .null {
            return "rules[\(index)] (\(id.string.prefix(100)))"
        }
        return "rules[\(index)]"
    }

    mutating func rule(_ node: YAMLNode, field: String) -> Rule? {
        let required = [
            ("id", "give the rule a unique id, e.g. id: checkin-reminder"),
            ("on", "list the event types the rule reacts to, e.g. on: [banking.transaction.posted]"),
        ]
        let start = errors.count
        guard let map = map(node, field: field, keys: Self.ruleKeys, required: required) else { return nil }
        let id = map["id"].flatMap { name($0, field: map.path("id"), of: "rule id") }
        let description = map["description"].flatMap { text($0, field: map.path("description")) }
        let eventTypes = map["on"].flatMap { self.eventTypes($0, field: map.path("on")) }
        let condition = map["when"].flatMap { expression($0, field: map.path("when"), expecting: .bool) }
        let action = map["action"].flatMap { self.action($0, field: map.path("action")) }
        let schedule = map["schedule"].flatMap { self.schedule($0, field: map.path("schedule")) }
        let cancelKey = map["cancel"].flatMap { expression($0, field: map.path("cancel"), expecting: .string) }
        let expiry = map["expiry"].flatMap { duration($0, field: map.path("expiry")) }
        let cooldown = map["cooldown"].flatMap { duration($0, field: map.path("cooldown")) }
        let cap = map["cap"].flatMap { self.cap($0, field: map.path("cap")) }
        checkCombination(map)
        guard errors.count == start, let id, let eventTypes else { return nil }
        return Rule(
            id: id, description: description, eventTypes: eventTypes, condition: condition, action: action, schedule: schedule,
            cancelKey: cancelKey, expirySeconds: expiry, cooldownSeconds: cooldown, cap: cap)
    }

    /// Keys that only make sense together: a rule must do something, and timing and limits
    /// need an action to apply to.
    private mutating func checkCombination(_ map: FieldMap) {
        let hasAction = map["action"] != nil
        if !hasAction, map["cancel"] == nil {
            report(
                "a rule needs an action, a cancel or both; add action: with what to send, or cancel: with the timer key to remove",
                field: map.field, at: map.mark)
        }
        let needsAction = [
            ("schedule", "a schedule times the rule's action"), ("expiry", "expiry limits how late the rule's action may go out"),
            ("cooldown", "a cooldown spaces out the rule's actions"), ("cap", "a cap limits the rule's actions"),
        ]
        for (key, purpose) in needsAction where !hasAction {
            guard let keyNode = map.keyNode(key) else { continue }
            report("\(purpose), but the rule has no action; add action: or remove \(key)", field: map.path(key), at: keyNode)
        }
        if hasAction, map["schedule"] != nil, let expiry = map.keyNode("expiry") {
            report(
                "expiry is for immediate actions; a scheduled action lapses at schedule.valid-until, so remove expiry or set valid-until",
                field: map.path("expiry"), at: expiry)
        }
    }

    /// `on`: one event type or a list of them, each a record type Liaison knows.
    private mutating func eventTypes(_ node: YAMLNode, field: String) -> Set<String>? {
        let items: [(node: YAMLNode, field: String)]
        if case let .sequence(sequence) = node {
            items = sequence.enumerated().map { ($0.element, "\(field)[\($0.offset)]") }
        } else {
            items = [(node, field)]
        }
        guard !items.isEmpty else {
            report("the list of event types is empty; name at least one, e.g. [banking.transaction.posted]", field: field, at: node)
            return nil
        }
        var types = Set<String>()
        var complete = true
        for item in items {
            guard let type = text(item.node, field: item.field, expecting: "an event type") else {
                complete = false
                continue
            }
            guard EventType(rawValue: type) != nil else {
                let known = EventType.allCases.map(\.rawValue)
                let suggestion = Self.closest(to: type, among: known).map { "did you mean '\($0)'? " } ?? ""
                report(
                    "unknown event type '\(type.prefix(80))'; \(suggestion)the event types are \(known.joined(separator: ", "))",
                    field: item.field, at: item.node)
                complete = false
                continue
            }
            types.insert(type)
        }
        return complete ? types : nil
    }

    mutating func action(_ node: YAMLNode, field: String) -> ActionSpec? {
        let required = [
            ("template", "name the template that renders the message, e.g. template: offer.cd-30-day"),
            ("channel-class", "say what kind of message it is: channel-class: service, marketing, agent-task or crm-update"),
        ]
        let start = errors.count
        guard let map = map(node, field: field, keys: Self.actionKeys, required: required) else { return nil }
        let template = map["template"].flatMap { name($0, field: map.path("template"), of: "template name") }
        let channelClass: ChannelClass? = map["channel-class"].flatMap { choice($0, field: map.path("channel-class"), of: "a channel class") }
        let priority: ActionPriority? = map["priority"].flatMap { choice($0, field: map.path("priority"), of: "a priority") }
        let payload = map["payload"].flatMap { self.payload($0, field: map.path("payload")) }
        guard errors.count == start, let template, let channelClass else { return nil }
        return ActionSpec(template: template, channelClass: channelClass, priority: priority ?? .normal, payload: payload ?? [])
    }

    /// `payload`: values for the template by name, each an expression, in the order written.
    private mutating func payload(_ node: YAMLNode, field: String) -> [PayloadField]? {
        guard let entries = entries(node, field: field, expecting: "a map of payload field names to expressions") else { return nil }
        var fields: [PayloadField] = []
        var complete = true
        for entry in entries {
            let path = FieldMap.path(field, entry.name)
            guard Self.isPayloadName(entry.name) else {
                report(
                    "'\(entry.name.prefix(80))' is not a valid payload field name; use letters, digits and '_', starting with a letter, e.g. termDays",
                    field: path, at: entry.key)
                complete = false
                continue
            }
            guard let expression = expression(entry.value, field: path) else {
                complete = false
                continue
            }
            fields.append(PayloadField(name: entry.name, expression: expression))
        }
        return complete ? fields : nil
    }

    private mutating func schedule(_ node: YAMLNode, field: String) -> ScheduleSpec? {
        let required = [
            ("key", "name the timer so it can be moved or cancelled, e.g. key: '\"checkin:\" + event.data.bookingId'"),
            ("at", "say when the action is due, e.g. at: timestamp(event.data.departure) - 24h"),
        ]
        let start = errors.count
        guard let map = map(node, field: field, keys: Self.scheduleKeys, required: required) else { return nil }
        let key = map["key"].flatMap { expression($0, field: map.path("key"), expecting: .string) }
        let at = map["at"].flatMap { expression($0, field: map.path("at"), expecting: .timestamp) }
        let validUntil = map["valid-until"].flatMap { expression($0, field: map.path("valid-until"), expecting: .timestamp) }
        let lateAfter = map["late-after"].flatMap { duration($0, field: map.path("late-after")) }
        let overdueNode = map["overdue"]
        let overdue: OverduePolicy? = overdueNode.flatMap { choice($0, field: map.path("overdue"), of: "an overdue policy") }
        let escalation = map["escalation"].flatMap { action($0, field: map.path("escalation")) }
        if overdue == .escalate, map["escalation"] == nil, let overdueNode {
            report(
                "overdue: escalate needs an escalation action; add escalation: {template: ..., channel-class: agent-task}",
                field: map.path("escalation"), at: overdueNode)
        }
        if let escalationKey = map.keyNode("escalation"), overdue != .escalate, overdueNode == nil || overdue != nil {
            report(
                "escalation is only used with overdue: escalate; set overdue: escalate or remove escalation",
                field: map.path("escalation"), at: escalationKey)
        }
        guard errors.count == start, let key, let at else { return nil }
        var schedule = ScheduleSpec(key: key, at: at, validUntil: validUntil, escalation: escalation)
        if let lateAfter { schedule.lateAfterSeconds = lateAfter }
        if let overdue { schedule.overdue = overdue }
        return schedule
    }

    private static func isPayloadName(_ name: String) -> Bool {
        guard (1...100).contains(name.unicodeScalars.count), let first = name.unicodeScalars.first,
              ("a"..."z").contains(first) || ("A"..."Z").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
