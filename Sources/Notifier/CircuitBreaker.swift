/// How readily a provider's circuit opens and how long it stays open.
public struct CircuitBreakerSettings: Sendable, Equatable {
    /// Retryable outcomes in a row that open the circuit. Consecutive failures rather than a
    /// ratio over a window: a provider that is down fails every call, and a count needs no
    /// window to tune and no history to keep.
    public var failureThreshold: Int
    /// How long an open circuit refuses calls before it lets one trial through.
    public var coolDown: Duration
    /// The cool-down doubles with every failed trial, up to this; equal to `coolDown` to keep
    /// it fixed.
    public var maximumCoolDown: Duration
    /// A trial that has not reported within this long is presumed lost (its task cancelled),
    /// and the next caller becomes the trial, so a lost trial cannot hold the circuit half-open.
    public var trialTimeout: Duration

    public init(
        failureThreshold: Int = 5, coolDown: Duration = .seconds(30), maximumCoolDown: Duration = .seconds(300),
        trialTimeout: Duration = .seconds(60)
    ) {
        self.failureThreshold = max(1, failureThreshold)
        self.coolDown = max(.zero, coolDown)
        self.maximumCoolDown = max(self.coolDown, maximumCoolDown)
        self.trialTimeout = max(.zero, trialTimeout)
    }
}

/// One provider's circuit: when the provider keeps failing, stop sending to it for a while so
/// messages wait in the retry schedule instead of spending their attempts on a provider that is
/// down, then probe it with a single call before sending everything again.
///
/// Only `.retryable` outcomes count as failures: a `.rejected` message (a bad address) proves
/// the provider is up and answering, so it counts as a success.
///
/// A pure value with time passed in, so the state machine is tested without clocks. Time is
/// monotonic (`ContinuousClock`): a wall-clock step must not hold a circuit open for an hour.
/// Callers that share one breaker between tasks guard it with a lock.
public struct CircuitBreaker: Sendable, Equatable {
    public typealias Instant = ContinuousClock.Instant

    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        /// Refusing calls until the instant given.
        case open(until: Instant)
        /// One trial call is out, granted at the instant given; everyone else waits for its outcome.
        case halfOpen(trialGrantedAt: Instant)
    }

    /// Leave to make one call. Outcomes are recorded with the permit they were made under, so
    /// a slow call granted before the circuit opened cannot close it, nor re-open it.
    public struct Permit: Sendable, Equatable {
        /// Which state the permit was granted in; it changes with every transition.
        fileprivate let generation: UInt64
        /// Whether this call is the half-open trial whose outcome decides the circuit.
        public let isTrial: Bool
    }

    public let settings: CircuitBreakerSettings
    public private(set) var state: State = .closed(consecutiveFailures: 0)
    /// Trials failed in a row, for the growing cool-down.
    private var failedTrials = 0
    private var generation: UInt64 = 0

    public init(settings: CircuitBreakerSettings = CircuitBreakerSettings()) {
        self.settings = settings
    }

    /// Asks to call the provider now; `nil` means the circuit is open (or its trial is out):
    /// leave the message for later without calling.
    public mutating func permit(now: Instant) -> Permit? {
        switch state {
        case .closed:
            return Permit(generation: generation, isTrial: false)
        case let .open(until):
            guard now >= until else { return nil }
            return grantTrial(now: now)
        case let .halfOpen(trialGrantedAt):
            guard now >= trialGrantedAt + settings.trialTimeout else { return nil }
            return grantTrial(now: now)
        }
    }

    /// Records what a permitted call came to. `retryAfter` on a failure that opens the circuit
    /// keeps it open at least that long (within `maximumCoolDown`): the provider said when.
    public mutating func record(_ outcome: ProviderOutcome, permit: Permit, now: Instant) {
        guard permit.generation == generation else { return }
        let failed: Bool
        let retryAfter: Duration?
        switch outcome {
        case let .retryable(_, after):
            failed = true
            retryAfter = after
        case .accepted, .rejected:
            failed = false
            retryAfter = nil
        }
        switch state {
        case let .closed(consecutiveFailures):
            if !failed {
                if consecutiveFailures > 0 { state = .closed(consecutiveFailures: 0) }
            } else if consecutiveFailures + 1 >= settings.failureThreshold {
                open(now: now, retryAfter: retryAfter)
            } else {
                state = .closed(consecutiveFailures: consecutiveFailures + 1)
            }
        case .halfOpen:
            if failed {
                failedTrials += 1
                open(now: now, retryAfter: retryAfter)
            } else {
                failedTrials = 0
                transition(to: .closed(consecutiveFailures: 0))
            }
        case .open:
            break
        }
    }

    /// The cool-down the next opening would use: `coolDown` doubled per failed trial in a row.
    public var currentCoolDown: Duration {
        var coolDown = settings.coolDown
        for _ in 0..<failedTrials {
            guard coolDown < settings.maximumCoolDown else { break }
            coolDown = coolDown * 2
        }
        return min(coolDown, settings.maximumCoolDown)
    }

    private mutating func grantTrial(now: Instant) -> Permit {
        transition(to: .halfOpen(trialGrantedAt: now))
        return Permit(generation: generation, isTrial: true)
    }

    private mutating func open(now: Instant, retryAfter: Duration?) {
        let asked = min(retryAfter ?? .zero, settings.maximumCoolDown)
        transition(to: .open(until: now + max(currentCoolDown, asked)))
    }

    private mutating func transition(to newState: State) {
        state = newState
        generation &+= 1
    }
}
