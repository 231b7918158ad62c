import Notifier

/// A provider reached over its own protocol. Implementations never throw: every failure is an
/// outcome the retry policy can weigh.
public protocol DeliveryChannel: Sendable {
    func deliver(_ message: OutgoingMessage) async -> ProviderOutcome
}
