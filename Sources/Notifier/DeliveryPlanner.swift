import Foundation
import LiaisonSchema
import LiaisonStage

/// Produces a channel's content for an action, or says why that channel cannot carry it (no
/// template variant, an SMS too long), so the planner moves on to the next channel.
public protocol MessageRendering: Sendable {
    func render(_ action: ActionV1, for channel: Channel) -> Result<RenderedMessage, ChannelRefusal>
}

/// Why a channel cannot carry an action's message, in words for the receipt.
public struct ChannelRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Decides, without doing any I/O, what each delivery attempt is and what its outcome means:
/// which channel of the ladder to try, when to retry (exponential back-off with jitter, or the
/// provider's Retry-After), when to fall back to the next channel, and when the delivery ends
/// as sent, failed or missed, with the receipt, alert and dead letter that go with it.
public struct DeliveryPlanner: Sendable {
    public let policy: DeliveryPolicy
    public let outputs: NotifierOutputs
    private let renderer: any MessageRendering

    public init(policy: DeliveryPolicy, outputs: NotifierOutputs, renderer: any MessageRendering) {
        self.policy = policy
        self.outputs = outputs
        self.renderer = renderer
    }

    public enum Step: Sendable {
        /// Call the channel's provider with this message; the delivery is as it stands after
        /// skipping the channels that could not carry it.
        case send(QueuedDelivery, OutgoingMessage)
        /// Nothing to send: the delivery ends here.
        case finish(Settlement)
    }

    /// What to attempt for a delivery that is due: the message for the first channel, from the
    /// current one on, that can carry it.
    public func nextStep(_ delivery: QueuedDelivery, now: Date) -> Step {
        var delivery = delivery
        guard now < delivery.deadline else { return .finish(outOfTime(delivery, now: now)) }
        while let channel = delivery.channel {
            switch message(for: delivery, on: channel) {
            case let .success(message):
                return .send(delivery, message)
            case let .failure(refusal):
                delivery.failures.append("\(channel.rawValue): \(refusal.reason)")
                delivery.rung += 1
                delivery.attempts = 0
            }
        }
        return .finish(failed(delivery, now: now))
    }

    /// What an attempt's outcome means. `circuitOpenUntil` is set when the provider's circuit
    /// breaker kept the message from being sent at all: the delivery then moves down the ladder
    /// at once, or waits for the breaker when no other channel is left.
    public func settle(
        _ delivery: QueuedDelivery, message: OutgoingMessage, outcome: ProviderOutcome, circuitOpenUntil: Date? = nil, now: Date
    ) -> Settlement {
        var delivery = delivery
        let channel = message.channel
        if circuitOpenUntil == nil {
            delivery.attempts += 1
            delivery.totalAttempts += 1
        }
        switch outcome {
        case let .accepted(providerMessageID):
            return Settlement(
                delivery: delivery, status: .sent, channel: channel, providerMessageID: providerMessageID,
                outputs: [outputs.receipt(
                    delivery.action, .sent, channel: channel, at: now, attempts: delivery.totalAttempts,
                    providerMessageID: providerMessageID)])
        case let .rejected(reason):
            delivery.failures.append("\(channel.rawValue): \(reason)")
            return fallBack(delivery, now: now)
        case let .retryable(reason, retryAfter):
            delivery.failures.append("\(channel.rawValue): \(reason)")
            if let circuitOpenUntil {
                if delivery.rung + 1 < delivery.ladder.count { return fallBack(delivery, now: now) }
                return retry(delivery, at: circuitOpenUntil, now: now)
            }
            guard delivery.attempts < policy.retry.maxAttemptsPerChannel else { return fallBack(delivery, now: now) }
            let backOff = policy.retry.delay(afterAttempt: delivery.attempts, key: message.idempotencyKey)
            let wait = max(backOff, retryAfter?.timeInterval ?? 0)
            return retry(delivery, at: now.addingTimeInterval(wait), now: now)
        }
    }

    /// The message for one channel, or why that channel cannot carry it.
    private func message(for delivery: QueuedDelivery, on channel: Channel) -> Result<OutgoingMessage, ChannelRefusal> {
        let action = delivery.action
        guard let address = policy.address(of: channel, for: action) else {
            return .failure(ChannelRefusal("no address for \(channel.rawValue)"))
        }
        return renderer.render(action, for: channel).map { rendered in
            var metadata = ["template": action.template, "ruleId": action.ruleId, "variant": rendered.variant]
            if let traceparent = action.traceparent { metadata["traceparent"] = traceparent }
            return OutgoingMessage(
                actionID: action.id, idempotencyKey: delivery.idempotencyKey(for: channel), channel: channel,
                customerID: action.customerId, address: address, subject: rendered.subject, text: rendered.text,
                html: rendered.html, locale: rendered.locale, metadata: metadata, payload: action.payload)
        }
    }

    private func retry(_ delivery: QueuedDelivery, at due: Date, now: Date) -> Settlement {
        guard due < delivery.deadline else {
            var next = delivery
            next.failures.append("no time left to retry before \(Timestamp(delivery.deadline).text)")
            return next.rung + 1 < next.ladder.count ? fallBack(next, now: now) : outOfTime(next, now: now)
        }
        var next = delivery
        next.dueAt = due
        return Settlement(delivery: next, status: nil, channel: delivery.channel, outputs: [])
    }

    /// The next channel of the ladder, at once; the end of the delivery when none is left.
    private func fallBack(_ delivery: QueuedDelivery, now: Date) -> Settlement {
        var next = delivery
        next.rung += 1
        next.attempts = 0
        next.dueAt = now
        guard next.rung < next.ladder.count else { return now < delivery.deadline ? failed(delivery, now: now) : outOfTime(delivery, now: now) }
        return Settlement(delivery: next, status: nil, channel: next.channel, outputs: [])
    }

    /// Every channel refused it for good: a failed receipt and a dead letter to re-drive after a fix.
    private func failed(_ delivery: QueuedDelivery, now: Date) -> Settlement {
        let reason = "delivery_failed: " + delivery.failures.joined(separator: "; ")
        return Settlement(
            delivery: delivery, status: .failed, channel: delivery.channel ?? delivery.ladder.last,
            outputs: [
                outputs.receipt(delivery.action, .failed, reason: reason, channel: delivery.channel ?? delivery.ladder.last, at: now,
                                attempts: delivery.totalAttempts),
                outputs.deadLetter(delivery.action, source: delivery.source, reason: "delivery_failed", message: reason, at: now),
            ])
    }

    /// The deadline passed before any channel took the message. A deferred message (quiet hours)
    /// is a missed engagement; one that kept failing is a failure too. Both are alerted.
    private func outOfTime(_ delivery: QueuedDelivery, now: Date) -> Settlement {
        let history = delivery.failures.isEmpty ? "" : " after: " + delivery.failures.joined(separator: "; ")
        let reason = "not delivered before \(Timestamp(delivery.deadline).text)\(history)"
        let action = delivery.action
        let channel = delivery.channel ?? delivery.ladder.last
        var records = [outputs.alert(action, .undeliverableInTime, reason: reason, at: now)]
        if delivery.deferred && delivery.totalAttempts == 0 {
            records.insert(outputs.receipt(action, .missed, reason: reason, channel: channel, at: now, attempts: 0), at: 0)
            return Settlement(delivery: delivery, status: .missed, channel: channel, outputs: records)
        }
        records.insert(outputs.receipt(action, .failed, reason: reason, channel: channel, at: now, attempts: delivery.totalAttempts), at: 0)
        records.append(outputs.deadLetter(action, source: delivery.source, reason: "delivery_deadline_passed", message: reason, at: now))
        return Settlement(delivery: delivery, status: .failed, channel: channel, outputs: records)
    }
}

/// Where a delivery stands after an attempt: still pending (due again at `delivery.dueAt`) or
/// ended with a final status, and the records that say so.
public struct Settlement: Sendable {
    public var delivery: QueuedDelivery
    /// nil while the delivery goes on.
    public var status: DeliveryStatus?
    public var channel: Channel?
    public var providerMessageID: String?
    public var outputs: [OutputRecord]

    public init(delivery: QueuedDelivery, status: DeliveryStatus?, channel: Channel?, providerMessageID: String? = nil, outputs: [OutputRecord]) {
        self.delivery = delivery
        self.status = status
        self.channel = channel
        self.providerMessageID = providerMessageID
        self.outputs = outputs
    }
}
