import Foundation
import LiaisonSchema
import LiaisonStage

/// Names a timer: one per customer and key, so scheduling the key again moves it and a
/// cancellation naming it removes it.
public struct TimerKey: Hashable, Sendable {
    public var customerId: String
    public var key: String

    public init(customerId: String, key: String) {
        self.customerId = customerId
        self.key = key
    }
}

/// An action waiting for its time, with everything needed to send it then: the payload is
/// computed when the timer is scheduled, from the event that scheduled it.
public struct PendingTimer: DueWork, Codable, Equatable {
    public var customerId: String
    public var key: String
    public var ruleId: String
    public var due: Timestamp
    public var validUntil: Timestamp?
    public var template: String
    public var channelClass: ChannelClass
    public var priority: ActionPriority
    public var payload: JSONObject
    /// The escalation action's payload, computed with the rest, for an `escalate` overdue policy.
    public var escalationPayload: JSONObject?
    public var recipient: RecipientV1?
    public var traceparent: String?
    /// The decision that scheduled it: the inputs and the values its rule read.
    public var scheduledBy: DecisionRecordV1

    public init(
        customerId: String, key: String, ruleId: String, due: Timestamp, validUntil: Timestamp?, template: String,
        channelClass: ChannelClass, priority: ActionPriority, payload: JSONObject, escalationPayload: JSONObject?,
        recipient: RecipientV1?, traceparent: String?, scheduledBy: DecisionRecordV1
    ) {
        self.customerId = customerId
        self.key = key
        self.ruleId = ruleId
        self.due = due
        self.validUntil = validUntil
        self.template = template
        self.channelClass = channelClass
        self.priority = priority
        self.payload = payload
        self.escalationPayload = escalationPayload
        self.recipient = recipient
        self.traceparent = traceparent
        self.scheduledBy = scheduledBy
    }

    public var timerKey: TimerKey { TimerKey(customerId: customerId, key: key) }
    public var dueAt: Date { due.date }
}

/// An action that went out, remembered for cooldowns and frequency caps.
public struct Firing: Sendable, Equatable {
    public var customerId: String
    public var ruleId: String
    public var channelClass: ChannelClass
    public var atMs: Int64

    public init(customerId: String, ruleId: String, channelClass: ChannelClass, atMs: Int64) {
        self.customerId = customerId
        self.ruleId = ruleId
        self.channelClass = channelClass
        self.atMs = atMs
    }
}

/// A decision kept in the partition's store (scheduled, cancelled, suppressed, missed), so
/// "why didn't this customer hear from us" has an answer without the action topic.
public struct KeptDecision: Sendable, Equatable {
    public var customerId: String
    public var atMs: Int64
    public var decision: DecisionRecordV1

    public init(customerId: String, atMs: Int64, decision: DecisionRecordV1) {
        self.customerId = customerId
        self.atMs = atMs
        self.decision = decision
    }
}

/// What the rules stage knows about the customers of one batch: their pending timers and
/// their recent firings (within the longest cooldown or cap window of the pack).
public struct RulesState: StageState {
    public var timers: [TimerKey: PendingTimer]
    public var firings: [String: [Firing]]

    public init(timers: [TimerKey: PendingTimer] = [:], firings: [String: [Firing]] = [:]) {
        self.timers = timers
        self.firings = firings
    }

    public mutating func apply(_ change: RulesChange) {
        switch change {
        case let .schedule(timer): timers[timer.timerKey] = timer
        case let .remove(key): timers[key] = nil
        case let .fired(firing): firings[firing.customerId, default: []].append(firing)
        case .keep: break
        case let .erase(customerId):
            timers = timers.filter { $0.key.customerId != customerId }
            firings[customerId] = nil
        }
    }
}

public enum RulesChange: Sendable, Equatable {
    /// Adds the timer, or moves the one with its key.
    case schedule(PendingTimer)
    /// Removes a timer: fired, missed, skipped or cancelled.
    case remove(TimerKey)
    case fired(Firing)
    case keep(KeptDecision)
    /// Forgets everything about the customer: timers, firings and decisions.
    case erase(customerId: String)
}
