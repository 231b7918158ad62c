import AsyncHTTPClient
import Foundation
import LiaisonKafka
import LiaisonRuntime
import Logging
import Notifier
import NotifierChannels

/// Builds the notifier's delivery engine from its configuration: one channel per configured
/// provider (sharing one HTTP client), a circuit breaker per provider, the planner with the
/// template catalog, and a producer for receipts, alerts and the Kafka channels.
public enum NotifierAssembly {
    public static func engine(
        configuration: NotifierConfiguration, catalog: TemplateCatalog, settings: RuntimeSettings, logger: Logger,
        httpClient: HTTPClient? = nil, recorded: (@Sendable ([Settlement], Date) -> Void)? = nil
    ) throws -> DeliveryEngine {
        // A client made here is the engine's own, shut down when it stops; a given one stays the caller's.
        let client = httpClient ?? Self.httpClient(maxInFlight: configuration.maxInFlight)
        let owned = httpClient == nil ? client : nil
        var channels: [Channel: any DeliveryChannel] = [:]
        if let email = configuration.email { channels[.email] = try SMTPChannel(settings: email) }
        if let sms = configuration.sms { channels[.sms] = try HTTPProviderChannel(settings: sms, client: client, clock: settings.clock) }
        if let push = configuration.push { channels[.push] = try HTTPProviderChannel(settings: push, client: client, clock: settings.clock) }
        if !configuration.webhooks.isEmpty {
            channels[.webhook] = WebhookRouter(endpoints: try Dictionary(uniqueKeysWithValues: configuration.webhooks.map { settings in
                (settings.name, try WebhookChannel(settings: settings, client: client))
            }))
        }
        let outputs = NotifierOutputs(topics: configuration.topics)
        let planner = DeliveryPlanner(
            policy: configuration.policy, outputs: outputs,
            renderer: TemplateRenderer(catalog: catalog, maxSMSSegments: configuration.policy.maxSMSSegments))
        return DeliveryEngine(
            planner: planner, channels: channels, breakers: CircuitBreakers(settings: configuration.breaker),
            producer: try KafkaProducer(properties: settings.producerProperties), maxInFlight: configuration.maxInFlight,
            logger: logger, clock: settings.clock, recorded: recorded,
            stopped: { if let owned { try? await owned.shutdown() } })
    }

    /// An HTTP client whose connection pool lets `maxInFlight` requests to one provider run at
    /// once; the default pool allows eight, which would queue the rest behind them.
    public static func httpClient(maxInFlight: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxInFlight)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}

/// The webhook channel for several endpoints: a message's address names its endpoint.
struct WebhookRouter: DeliveryChannel {
    let endpoints: [String: WebhookChannel]

    func deliver(_ message: OutgoingMessage) async -> ProviderOutcome {
        guard let endpoint = endpoints[message.address] else {
            return .rejected(reason: "no webhook endpoint is named '\(message.address)'; configured: \(endpoints.keys.sorted().joined(separator: ", "))")
        }
        return await endpoint.deliver(message)
    }
}
