import AsyncHTTPClient
import Foundation
import NIOCore
import Notifier

/// SMS and push through a provider's JSON API, shaped by `HTTPProviderSettings`. One channel
/// per provider; all of them share the daemon's `HTTPClient` and its connection pools.
public struct HTTPProviderChannel: DeliveryChannel {
    public let settings: HTTPProviderSettings
    private let shape: RequestShape
    private let exchange: HTTPExchange

    /// Checks `settings` (throwing what to fix) and keeps `client`, which its owner shuts
    /// down. `clock` is the wall clock an HTTP-date `Retry-After` is measured from.
    public init(
        settings: HTTPProviderSettings, client: HTTPClient, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(ChannelSettingsError) {
        self.settings = settings
        shape = try RequestShape(settings: settings)
        exchange = HTTPExchange(client: client, provider: settings.name, timeout: settings.timeout, clock: clock)
    }

    public func deliver(_ message: OutgoingMessage) async -> ProviderOutcome {
        var request = HTTPClientRequest(url: shape.url)
        switch shape.method {
        case .post: request.method = .POST
        case .put: request.method = .PUT
        case .patch: request.method = .PATCH
        }
        for header in shape.headers {
            request.headers.add(name: header.name, value: header.value)
        }
        if let idempotencyHeader = shape.idempotencyHeader {
            request.headers.add(name: idempotencyHeader, value: message.idempotencyKey)
        }
        request.body = .bytes(ByteBuffer(bytes: shape.bodyBytes(for: message)))
        return await exchange.outcome(of: request, messageID: shape.messageID(in:))
    }
}
