import Foundation
import LiaisonSchema

/// The ways the notifier reaches someone. The first four leave the fleet over a provider's
/// protocol; the last three are Kafka topics read by the agent desktop, the CRM and the app.
public enum Channel: String, Sendable, Hashable, Codable, CaseIterable {
    case email
    case sms
    case push
    case webhook
    case agentTask = "agent-task"
    case crm
    case inbox

    /// Whether the channel is a Kafka topic, delivered with the action's own commit.
    public var isTopic: Bool {
        switch self {
        case .agentTask, .crm, .inbox: true
        case .email, .sms, .push, .webhook: false
        }
    }
}

/// One rendered message for one channel, ready for a provider. Its idempotency key is the same
/// on every retry and after a restart, so a provider that honours it delivers it once.
public struct OutgoingMessage: Sendable, Equatable {
    /// The action this message delivers.
    public var actionID: String
    /// Action id and channel: a fallback to another channel is a different message.
    public var idempotencyKey: String
    public var channel: Channel
    public var customerID: String
    /// Where it goes: an email address, a phone number, a push token or a webhook endpoint's name.
    public var address: String
    /// Email subject or push title.
    public var subject: String?
    public var text: String
    /// Email only: the HTML alternative, already escaped by the template.
    public var html: String?
    public var locale: String
    /// Template, rule id and trace context, passed on where the protocol has room for them.
    public var metadata: [String: String]
    /// The action's values, for channels that carry structure (agent tasks, CRM updates).
    public var payload: JSONObject

    public init(
        actionID: String, idempotencyKey: String, channel: Channel, customerID: String, address: String,
        subject: String? = nil, text: String, html: String? = nil, locale: String, metadata: [String: String] = [:],
        payload: JSONObject = JSONObject()
    ) {
        self.actionID = actionID
        self.idempotencyKey = idempotencyKey
        self.channel = channel
        self.customerID = customerID
        self.address = address
        self.subject = subject
        self.text = text
        self.html = html
        self.locale = locale
        self.metadata = metadata
        self.payload = payload
    }
}

/// What a provider made of one attempt, in the terms the retry policy needs.
public enum ProviderOutcome: Sendable, Equatable {
    /// Accepted for delivery; the provider's own id when it gave one.
    case accepted(providerMessageID: String?)
    /// Not now, maybe later: a timeout, a refused connection, 429, 5xx or an SMTP 4xx reply.
    /// `retryAfter` is what the provider asked for, when it did.
    case retryable(reason: String, retryAfter: Duration?)
    /// Never with this message on this channel: a 4xx other than 408 and 429, an SMTP 5xx reply,
    /// a bad address.
    case rejected(reason: String)
}
