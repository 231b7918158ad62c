import Foundation
import LiaisonSchema
import LiaisonStage

/// An action on its way to the customer: which channel of its ladder is being tried, how often,
/// and when the next attempt is due. It lives in the partition's file from the moment the
/// action is accepted until a final receipt is written, so a restart neither loses nor repeats it.
public struct QueuedDelivery: Sendable, Equatable {
    public var action: ActionV1
    /// Where the action was read from, for the dead letter of a delivery that fails.
    public var source: DeadLetterV1.SourcePosition
    public var ladder: [Channel]
    /// The ladder's channel being tried.
    public var rung: Int
    /// Attempts on the current rung.
    public var attempts: Int
    /// Provider calls over all rungs: the receipt's `attempts`.
    public var totalAttempts: Int
    public var dueAt: Date
    /// After this, the message is no longer worth delivering.
    public var deadline: Date
    /// Held back for quiet hours: running out of time is then a missed engagement, alerted.
    public var deferred: Bool
    /// Why earlier rungs or attempts did not deliver, newest last.
    public var failures: [String]

    public init(
        action: ActionV1, source: DeadLetterV1.SourcePosition, ladder: [Channel], rung: Int = 0, attempts: Int = 0,
        totalAttempts: Int = 0, dueAt: Date, deadline: Date, deferred: Bool = false, failures: [String] = []
    ) {
        self.action = action
        self.source = source
        self.ladder = ladder
        self.rung = rung
        self.attempts = attempts
        self.totalAttempts = totalAttempts
        self.dueAt = dueAt
        self.deadline = deadline
        self.deferred = deferred
        self.failures = failures
    }

    public var actionID: String { action.id }
    public var customerID: String { action.customerId }
    public var channel: Channel? { ladder.indices.contains(rung) ? ladder[rung] : nil }

    /// The same on every retry and after restarts; a fallback to another channel is a new message.
    public func idempotencyKey(for channel: Channel) -> String { "\(action.id)/\(channel.rawValue)" }
}

/// The notifier's view of a batch's customers: whom it reached lately, for frequency caps.
public struct NotifierState: StageState {
    public var contacts: [String: [ContactMark]]

    public init(contacts: [String: [ContactMark]] = [:]) {
        self.contacts = contacts
    }

    public mutating func apply(_ change: NotifierChange) {
        switch change {
        case .enqueue: break
        case let .contact(customer, mark): contacts[customer, default: []].append(mark)
        case let .forget(customer): contacts[customer] = nil
        }
    }

    func contactCount(_ customer: String, channelClass: ChannelClass, since: Date) -> Int {
        let sinceMs = since.epochMilliseconds
        return contacts[customer]?.count { $0.channelClass == channelClass && $0.atMs > sinceMs } ?? 0
    }
}

/// One message that counts against a customer's frequency cap.
public struct ContactMark: Sendable, Equatable {
    public var channelClass: ChannelClass
    public var atMs: Int64

    public init(channelClass: ChannelClass, atMs: Int64) {
        self.channelClass = channelClass
        self.atMs = atMs
    }
}

public enum NotifierChange: Sendable, Equatable {
    /// Queue the delivery; it is attempted when due.
    case enqueue(QueuedDelivery)
    case contact(customerID: String, ContactMark)
    /// The customer was erased: drop their queued deliveries and contact history.
    case forget(customerID: String)
}
