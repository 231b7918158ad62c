import Foundation
import LiaisonSchema
import LiaisonStage

/// The notifier's intake: decides for each action whether it may reach the customer at all
/// (erasure, validity, consent, frequency caps, reachable channels) and when (quiet hours), and
/// queues it for delivery. Providers are never called here; the delivery engine works through
/// the queue, and the planner decides what each attempt's outcome means.
public struct NotifierStage: Stage {
    public typealias State = NotifierState
    public typealias Reading = Result<ActionV1, StageFailure>

    public let name = "notifier"
    public let policy: DeliveryPolicy
    public let outputs: NotifierOutputs
    private let clock: @Sendable () -> Date

    public init(policy: DeliveryPolicy, topics: NotifierTopics = NotifierTopics(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        outputs = NotifierOutputs(topics: topics, stageName: name)
        self.clock = clock
    }

    public func read(_ record: InputRecord) -> Reading {
        do {
            return .success(try JSONValueDecoder().decode(ActionV1.self, from: record.value))
        } catch {
            return .failure(StageFailure(code: "invalid_action", message: "the record is not a liaison.actions.v1 action: \(error)"))
        }
    }

    public func inputID(of record: InputRecord, reading: Reading) -> String {
        (try? reading.get().id) ?? record.defaultID
    }

    public func process(_ record: InputRecord, reading: Reading, inputID: String, state: NotifierState) throws(StageFailure) -> Effect<NotifierChange> {
        let action = try reading.get()
        guard record.keyString == action.customerId else {
            throw StageFailure(
                code: "key_mismatch",
                message: "the record's key '\(record.keyString ?? "")' is not the action's customer '\(action.customerId)'")
        }
        let now = clock()
        switch action.kind {
        case .forget:
            return Effect(reason: "customer erased: queued deliveries dropped", changes: [.forget(customerID: action.customerId)])
        case .missed:
            let reason = action.decision.reason ?? "the rules stage could not fire it while it was valid"
            return Effect(outputs: [
                outputs.receipt(action, .missed, reason: reason, at: now),
                outputs.alert(action, .missed, reason: reason, at: now),
            ])
        case .engage:
            return engage(action, source: record.position, state: state, now: now)
        }
    }

    private func engage(_ action: ActionV1, source position: RecordPosition, state: NotifierState, now: Date) -> Effect<NotifierChange> {
        if action.erased == true {
            return suppressed(action, "customer_erased", now: now, changes: [.forget(customerID: action.customerId)])
        }
        let deadline = policy.deadline(of: action)
        if deadline <= now {
            let reason = "expired: valid until \(Timestamp(deadline).text), received \(Timestamp(now).text)"
            return Effect(outputs: [
                outputs.receipt(action, .missed, reason: reason, at: now),
                outputs.alert(action, .undeliverableInTime, reason: reason, at: now),
            ])
        }
        if action.channelClass == .marketing && action.recipient?.marketingConsent != true {
            return suppressed(action, "no_marketing_consent", now: now)
        }
        if let cap = policy.frequencyCaps[action.channelClass] {
            let since = now.addingTimeInterval(-TimeInterval(cap.windowSeconds))
            if state.contactCount(action.customerId, channelClass: action.channelClass, since: since) >= cap.count {
                return suppressed(
                    action, "frequency_cap: \(cap.count) \(action.channelClass.rawValue) messages within \(cap.windowSeconds / 3_600) h",
                    now: now)
            }
        }
        let ladder = policy.ladder(for: action).filter { policy.address(of: $0, for: action) != nil }
        let source = DeadLetterV1.SourcePosition(topic: position.topic, partition: position.partition, offset: position.offset)
        guard !ladder.isEmpty else {
            let tried = policy.ladder(for: action).map(\.rawValue).joined(separator: ", ")
            let message = "no_reachable_channel: the customer has no address for any of [\(tried)]"
            return Effect(outputs: [
                outputs.receipt(action, .failed, reason: message, at: now),
                outputs.deadLetter(action, source: source, reason: "no_reachable_channel", message: message, at: now),
            ])
        }
        var delivery = QueuedDelivery(action: action, source: source, ladder: ladder, dueAt: now, deadline: deadline)
        var effect = Effect<NotifierChange>()
        if let quietEnd = quietHoursEnd(for: action, ladder: ladder, now: now) {
            guard quietEnd < deadline else {
                let reason = "quiet_hours: the customer's quiet hours end at \(Timestamp(quietEnd).text), "
                    + "after the message's deadline \(Timestamp(deadline).text)"
                return Effect(outputs: [
                    outputs.receipt(action, .missed, reason: reason, at: now),
                    outputs.alert(action, .undeliverableInTime, reason: reason, at: now),
                ])
            }
            delivery.dueAt = quietEnd
            delivery.deferred = true
            effect.outputs.append(outputs.receipt(action, .deferred, reason: "quiet_hours", at: now, deferredUntil: quietEnd))
        }
        effect.changes = [
            .contact(customerID: action.customerId, ContactMark(channelClass: action.channelClass, atMs: now.epochMilliseconds)),
            .enqueue(delivery),
        ]
        return effect
    }

    private func suppressed(_ action: ActionV1, _ reason: String, now: Date, changes: [NotifierChange] = []) -> Effect<NotifierChange> {
        Effect(outputs: [outputs.receipt(action, .suppressed, reason: reason, at: now)], changes: changes)
    }

    /// When quiet hours hold a non-urgent message to the customer back: the end of the
    /// customer's quiet window containing `now`, in their time zone. Agent tasks and CRM
    /// updates disturb nobody.
    private func quietHoursEnd(for action: ActionV1, ladder: [Channel], now: Date) -> Date? {
        guard action.priority != .urgent, action.channelClass == .service || action.channelClass == .marketing,
              ladder.contains(where: { !$0.isTopic }) else { return nil }
        let own = action.recipient?.quietHours.flatMap { DailyWindow(start: $0.start, end: $0.end) }
        guard let window = own ?? policy.defaultQuietHours else { return nil }
        let zone = action.recipient?.timeZone.flatMap(TimeZone.init(identifier:)) ?? policy.defaultTimeZone
        return window.end(ofWindowContaining: now, in: zone)
    }
}

extension DeliveryPolicy {
    /// Where a channel reaches the action's customer, or nil when it cannot.
    public func address(of channel: Channel, for action: ActionV1) -> String? {
        let recipient = action.recipient
        switch channel {
        case .email: return recipient?.email.flatMap { $0.isEmpty ? nil : $0 }
        case .sms: return recipient?.phone.flatMap { $0.isEmpty ? nil : $0 }
        case .push: return recipient?.pushToken.flatMap { $0.isEmpty ? nil : $0 }
        case .webhook: return webhookEndpoint
        case .agentTask, .crm, .inbox: return action.customerId
        }
    }
}
