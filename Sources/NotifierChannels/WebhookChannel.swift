import AsyncHTTPClient
import Foundation
import LiaisonSchema
import NIOCore
import Notifier

/// One customer-facing webhook endpoint.
public struct WebhookSettings: Sendable, Equatable {
    /// The endpoint's name, which messages for it carry as their address.
    public var name: String
    /// Where events are posted, `http` or `https`.
    public var url: String
    /// The signing secret in Standard Webhooks' text form, `whsec_` and base64, as the
    /// endpoint's owner was given it.
    public var secret: String
    /// The `type` of every event sent.
    public var eventType: String
    /// How long one attempt may take, answer body included.
    public var timeout: Duration

    public init(name: String, url: String, secret: String, eventType: String = "liaison.delivery", timeout: Duration = .seconds(10)) {
        self.name = name
        self.url = url
        self.secret = secret
        self.eventType = eventType
        self.timeout = timeout
    }

    /// Checks the settings as a configuration loader should at start-up.
    public func validate() throws(ChannelSettingsError) {
        _ = try checkedSignature()
    }

    func checkedSignature() throws(ChannelSettingsError) -> WebhookSignature {
        let channel = name.isEmpty ? "webhook" : name
        guard !name.isEmpty else {
            throw ChannelSettingsError(channel: channel, setting: "name", message: "give the endpoint a name")
        }
        _ = try RequestShape.checkedURL(url, channel: channel, setting: "url")
        guard let signature = WebhookSignature(secret: secret) else {
            throw ChannelSettingsError(
                channel: channel, setting: "secret",
                message: "not a Standard Webhooks secret; it is \(WebhookSignature.secretPrefix) followed by the key in base64")
        }
        guard !eventType.isEmpty else {
            throw ChannelSettingsError(channel: channel, setting: "eventType", message: "must not be empty")
        }
        guard timeout > .zero else {
            throw ChannelSettingsError(channel: channel, setting: "timeout", message: "must be longer than zero")
        }
        return signature
    }
}

/// Delivers to a customer's own system as a signed Standard Webhooks event, so the receiver can
/// check it came from us, unaltered and recently, and drop a repeat by its `webhook-id` (the
/// message's idempotency key, the same on every attempt).
///
/// The body is `{"type", "timestamp", "data": {actionId, customerId, subject, text, locale,
/// metadata}}`, the envelope the specification suggests.
public struct WebhookChannel: DeliveryChannel {
    public let settings: WebhookSettings
    private let signature: WebhookSignature
    private let exchange: HTTPExchange
    private let clock: @Sendable () -> Date

    /// Checks `settings` (throwing what to fix) and keeps `client`, which its owner shuts
    /// down. `clock` stamps `webhook-timestamp` and measures HTTP-date `Retry-After` values.
    public init(
        settings: WebhookSettings, client: HTTPClient, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(ChannelSettingsError) {
        self.settings = settings
        signature = try settings.checkedSignature()
        exchange = HTTPExchange(client: client, provider: settings.name, timeout: settings.timeout, clock: clock)
        self.clock = clock
    }

    public func deliver(_ message: OutgoingMessage) async -> ProviderOutcome {
        let seconds = Int64(clock().timeIntervalSince1970.rounded(.down))
        let body = eventBody(message, seconds: seconds)
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "webhook-id", value: message.idempotencyKey)
        request.headers.add(name: "webhook-timestamp", value: String(seconds))
        request.headers.add(name: "webhook-signature", value: signature.signature(id: message.idempotencyKey, timestamp: seconds, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        return await exchange.outcome(of: request) { _ in nil }
    }

    private func eventBody(_ message: OutgoingMessage, seconds: Int64) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("type")
        writer.string(settings.eventType)
        writer.key("timestamp")
        writer.string(Timestamp(epochMilliseconds: seconds * 1_000).text)
        writer.key("data")
        writer.beginObject()
        writer.key("actionId")
        writer.string(message.actionID)
        writer.key("customerId")
        writer.string(message.customerID)
        if let subject = message.subject {
            writer.key("subject")
            writer.string(subject)
        }
        writer.key("text")
        writer.string(message.text)
        writer.key("locale")
        writer.string(message.locale)
        writer.key("metadata")
        writer.beginObject()
        for (key, value) in message.metadata.sorted(by: { $0.key < $1.key }) {
            writer.key(key)
            writer.string(value)
        }
        writer.endObject()
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}
