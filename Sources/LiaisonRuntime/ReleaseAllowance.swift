/// How many timers may fire now: a token bucket that refills at `perSecond` and holds at most
/// one second's worth, so timers found overdue after downtime go out at that rate, not at once.
struct ReleaseAllowance {
    let perSecond: Int
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant

    init(perSecond: Int, now: ContinuousClock.Instant = .now) {
        self.perSecond = perSecond
        tokens = Double(perSecond)
        refilledAt = now
    }

    /// The whole timers that may fire at `now`.
    mutating func available(at now: ContinuousClock.Instant = .now) -> Int {
        let elapsed = now - refilledAt
        refilledAt = now
        tokens = min(Double(perSecond), tokens + Double(perSecond) * elapsed.timeInterval)
        return Int(tokens)
    }

    mutating func spend(_ count: Int) {
        tokens -= Double(count)
    }
}
