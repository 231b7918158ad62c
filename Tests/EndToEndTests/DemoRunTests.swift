import Foundation
import LiaisonDemo
import SchemaChecking
import XCTest

/// The README's first command in its short mode: four stage processes on the embedded broker,
/// the data set replayed on the simulated clock, the report's figures checked, and one
/// record traced through every stage's files afterwards.
final class DemoRunTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func liaison(_ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
        let log = directory.appendingPathComponent("liaison-\(UUID().uuidString).log")
        let process = try StageProcess(executable: "liaison", arguments: arguments, logURL: log)
        let finished = process.waitForExit(timeout: timeout)
        if !finished { process.kill(SIGKILL) }
        let output = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(finished, "liaison \(arguments.first ?? "") did not finish in \(Int(timeout)) s:\n\(output.suffix(3_000))")
        return (process.process.terminationStatus, output)
    }

    func testTheShortDemoShowsEveryScenarioAndItsRecordsCanBeTraced() throws {
        let state = directory.appendingPathComponent("demo")
        let root = SchemaChecker.repositoryRoot.path
        let demo = try liaison(["demo", "--short", "--state-dir", state.path, "--repository", root, "--no-live-view"], timeout: 420)
        XCTAssertEqual(demo.status, 0, String(demo.output.suffix(4_000)))

        let report = try DemoReport.decode(Data(contentsOf: state.appendingPathComponent("report.json")))
        XCTAssertEqual(report.scenarios.map(\.number), Array(1...10))
        for scenario in report.scenarios {
            XCTAssertTrue(scenario.met, "scenario \(scenario.number) \(scenario.title): \(scenario.expectation); got \(scenario)")
        }
        for scenario in report.scenarios where scenario.number <= 9 {
            XCTAssertGreaterThan(scenario.sent, 0, "scenario \(scenario.number) sent nothing")
        }
        XCTAssertFalse(report.missed.isEmpty, "the notifier outage should leave missed engagements")
        XCTAssertEqual(report.alerts, report.missed.count, "every missed engagement is alerted once")
        XCTAssertFalse(report.deadLetters.isEmpty, "the data set's broken records should be dead-lettered")
        XCTAssertEqual(report.sinks.duplicates, 0)
        XCTAssertGreaterThan(report.sinks.emails + report.sinks.sms + report.sinks.push, 0)
        XCTAssertEqual(Set(report.outages.map(\.stage)), ["rules", "notifier"])
        XCTAssertEqual(report.stages.first { $0.stage == "ingest" }?.processed, report.upstreamRecords)
        let html = try String(contentsOf: state.appendingPathComponent("report.html"), encoding: .utf8)
        for scenario in report.scenarios { XCTAssertTrue(html.contains(scenario.title), "the page lacks scenario \(scenario.number)") }
        XCTAssertTrue(demo.output.contains("report: \(state.appendingPathComponent("report.html").path)"), String(demo.output.suffix(2_000)))

        // A mobile check deposit of the live phase, followed from upstream to its delivery.
        let data = DemoDataSet(customers: 60)
        let deposits = data.records.filter { $0.type == "banking.check.deposited" && $0.time >= DemoTimeline.standard.liveStart }
        var reachedDelivery = false
        for deposit in deposits.prefix(8) {
            let traced = try liaison(["trace", deposit.id, "--state-dir", state.appendingPathComponent("stages").path], timeout: 60)
            XCTAssertEqual(traced.status, 0, traced.output)
            for stage in ["ingest", "enrich", "rules"] { XCTAssertTrue(traced.output.contains("  \(stage) "), traced.output) }
            if traced.output.contains("  notifier ") && traced.output.contains("check-deposit-confirmation@") {
                reachedDelivery = true
                break
            }
        }
        XCTAssertTrue(reachedDelivery, "no live check deposit could be traced to the notifier")
    }
}
