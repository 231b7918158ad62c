import Notifier
import NotifierChannels
import XCTest

final class CircuitBreakerTests: XCTestCase {
    private let start = ContinuousClock.now
    private let down = ProviderOutcome.retryable(reason: "sms-gateway answered 503 Service Unavailable", retryAfter: nil)
    private let settings = CircuitBreakerSettings(
        failureThreshold: 3, coolDown: .seconds(10), maximumCoolDown: .seconds(30), trialTimeout: .seconds(60))

    private func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    /// Makes one call that comes to `outcome`, if the breaker allows it.
    @discardableResult
    private func call(_ breaker: inout CircuitBreaker, _ outcome: ProviderOutcome, at seconds: Int) -> Bool {
        guard let permit = breaker.permit(now: at(seconds)) else { return false }
        breaker.record(outcome, permit: permit, now: at(seconds))
        return true
    }

    func testTheCircuitOpensAfterTheThresholdOfFailuresInARow() {
        var breaker = CircuitBreaker(settings: settings)
        XCTAssertTrue(call(&breaker, down, at: 0))
        XCTAssertTrue(call(&breaker, down, at: 0))
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 2))
        XCTAssertTrue(call(&breaker, down, at: 1))
        XCTAssertEqual(breaker.state, .open(until: at(11)))
        XCTAssertNil(breaker.permit(now: at(10)))
    }

    func testASuccessInBetweenStartsTheCountAgain() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<2 { call(&breaker, down, at: 0) }
        call(&breaker, .accepted(providerMessageID: "msg-1"), at: 0)
        for _ in 0..<2 { call(&breaker, down, at: 0) }
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 2))
    }

    func testRejectedMessagesAreNotProviderFailures() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<10 { call(&breaker, .rejected(reason: "sms-gateway answered 400 Bad Request: invalid number"), at: 0) }
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 0))
        for _ in 0..<2 { call(&breaker, down, at: 0) }
        call(&breaker, .rejected(reason: "invalid number"), at: 0)
        call(&breaker, down, at: 0)
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 1), "a refusal shows the provider is answering")
    }

    func testAfterTheCoolDownOneTrialGoesThroughAndASuccessCloses() throws {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<3 { call(&breaker, down, at: 0) }
        let trial = try XCTUnwrap(breaker.permit(now: at(10)))
        XCTAssertTrue(trial.isTrial)
        XCTAssertEqual(breaker.state, .halfOpen(trialGrantedAt: at(10)))
        XCTAssertNil(breaker.permit(now: at(11)), "only one trial at a time")
        breaker.record(.accepted(providerMessageID: nil), permit: trial, now: at(12))
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 0))
        let next = try XCTUnwrap(breaker.permit(now: at(12)))
        XCTAssertFalse(next.isTrial)
    }

    func testAFailedTrialReopensWithADoublingCoolDownUpToTheMaximum() throws {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<3 { call(&breaker, down, at: 0) }
        XCTAssertEqual(breaker.state, .open(until: at(10)))
        call(&breaker, down, at: 10)
        XCTAssertEqual(breaker.state, .open(until: at(30)))
        call(&breaker, down, at: 30)
        XCTAssertEqual(breaker.state, .open(until: at(60)))
        call(&breaker, down, at: 60)
        XCTAssertEqual(breaker.state, .open(until: at(90)), "capped at 30 s")
        call(&breaker, .accepted(providerMessageID: nil), at: 90)
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 0))
        for _ in 0..<3 { call(&breaker, down, at: 100) }
        XCTAssertEqual(breaker.state, .open(until: at(110)), "a recovered provider starts from the first cool-down")
    }

    func testAProviderAskingForALongerPauseGetsIt() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<2 { call(&breaker, down, at: 0) }
        call(&breaker, .retryable(reason: "429", retryAfter: .seconds(20)), at: 0)
        XCTAssertEqual(breaker.state, .open(until: at(20)))
        call(&breaker, .retryable(reason: "429", retryAfter: .seconds(3_600)), at: 20)
        XCTAssertEqual(breaker.state, .open(until: at(50)), "within the maximum cool-down")
    }

    func testOutcomesOfCallsPermittedBeforeATransitionAreIgnored() throws {
        var breaker = CircuitBreaker(settings: settings)
        let slowCall = try XCTUnwrap(breaker.permit(now: at(0)))
        for _ in 0..<3 { call(&breaker, down, at: 0) }
        breaker.record(.accepted(providerMessageID: nil), permit: slowCall, now: at(1))
        XCTAssertEqual(breaker.state, .open(until: at(10)), "an old success does not close an open circuit")

        let trial = try XCTUnwrap(breaker.permit(now: at(10)))
        breaker.record(down, permit: slowCall, now: at(11))
        XCTAssertEqual(breaker.state, .halfOpen(trialGrantedAt: at(10)), "nor does an old failure decide the trial")
        breaker.record(.accepted(providerMessageID: nil), permit: trial, now: at(11))
        XCTAssertEqual(breaker.state, .closed(consecutiveFailures: 0))
    }

    func testALostTrialIsReplacedAfterTheTrialTimeout() throws {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<3 { call(&breaker, down, at: 0) }
        let lost = try XCTUnwrap(breaker.permit(now: at(10)))
        XCTAssertNil(breaker.permit(now: at(69)))
        let replacement = try XCTUnwrap(breaker.permit(now: at(70)))
        XCTAssertTrue(replacement.isTrial)
        breaker.record(.accepted(providerMessageID: nil), permit: lost, now: at(71))
        XCTAssertEqual(breaker.state, .halfOpen(trialGrantedAt: at(70)))
        breaker.record(down, permit: replacement, now: at(72))
        XCTAssertEqual(breaker.state, .open(until: at(92)))
    }

    func testEveryProviderHasItsOwnCircuit() async {
        let breakers = CircuitBreakers(settings: settings)
        let now = at(0)
        let down = down
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    guard let permit = breakers.permit(for: "sms-gateway", now: now) else { return }
                    breakers.record(down, for: "sms-gateway", permit: permit, now: now)
                }
                group.addTask {
                    guard let permit = breakers.permit(for: "push", now: now) else { return }
                    breakers.record(.accepted(providerMessageID: nil), for: "push", permit: permit, now: now)
                }
            }
        }
        XCTAssertEqual(breakers.state(of: "sms-gateway"), .open(until: at(10)))
        XCTAssertNil(breakers.permit(for: "sms-gateway", now: at(5)))
        XCTAssertEqual(breakers.state(of: "push"), .closed(consecutiveFailures: 0))
        XCTAssertNotNil(breakers.permit(for: "push", now: at(5)))
        XCTAssertEqual(breakers.state(of: "unknown"), .closed(consecutiveFailures: 0))
    }
}
