import XCTest

@testable import LiaisonRuntime

/// The timer release rate: a second's worth at once, then steadily, never a backlog's burst.
final class ReleaseAllowanceTests: XCTestCase {
    func testABacklogIsReleasedAtTheRateNotAtOnce() {
        let start = ContinuousClock.now
        var allowance = ReleaseAllowance(perSecond: 1000, now: start)
        XCTAssertEqual(allowance.available(at: start), 1000)
        allowance.spend(1000)
        XCTAssertEqual(allowance.available(at: start), 0)
        XCTAssertEqual(allowance.available(at: start + .milliseconds(250)), 250)
        allowance.spend(250)
        // A long pause refills one second's worth, no more.
        XCTAssertEqual(allowance.available(at: start + .seconds(60)), 1000)
    }

    func testTheRateIsAnOption() throws {
        let options = try RuntimeOptions.parse(["--brokers", "b:1", "--timer-release-rate", "250"])
        XCTAssertEqual(try options.resolve(stage: "s", defaultInputs: ["in"], environment: [:]).timerReleaseRate, 250)
        let defaults = try RuntimeOptions.parse(["--brokers", "b:1"])
        XCTAssertEqual(try defaults.resolve(stage: "s", defaultInputs: ["in"], environment: [:]).timerReleaseRate, 1000)
        XCTAssertThrowsError(try RuntimeOptions.parse(["--brokers", "b:1", "--timer-release-rate", "none"])
            .resolve(stage: "s", defaultInputs: ["in"], environment: [:]))
    }
}
