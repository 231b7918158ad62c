import Notifier
import Synchronization

/// The circuits of every provider, shared by the tasks that deliver concurrently: each
/// provider's `CircuitBreaker` behind one lock, held only for the few comparisons a permit or
/// an outcome takes, never across a call.
public final class CircuitBreakers: Sendable {
    private let settings: CircuitBreakerSettings
    private let breakers = Mutex<[String: CircuitBreaker]>([:])

    public init(settings: CircuitBreakerSettings = CircuitBreakerSettings()) {
        self.settings = settings
    }

    /// Leave to call `provider` now, or `nil` while its circuit is open.
    public func permit(for provider: String, now: ContinuousClock.Instant = .now) -> CircuitBreaker.Permit? {
        breakers.withLock { breakers in
            breakers[provider, default: CircuitBreaker(settings: settings)].permit(now: now)
        }
    }

    /// Records the outcome of a call made under `permit`.
    public func record(
        _ outcome: ProviderOutcome, for provider: String, permit: CircuitBreaker.Permit, now: ContinuousClock.Instant = .now
    ) {
        breakers.withLock { breakers in
            breakers[provider, default: CircuitBreaker(settings: settings)].record(outcome, permit: permit, now: now)
        }
    }

    /// The provider's circuit as it stands, for metrics and readiness.
    public func state(of provider: String) -> CircuitBreaker.State {
        breakers.withLock { $0[provider]?.state ?? .closed(consecutiveFailures: 0) }
    }
}
