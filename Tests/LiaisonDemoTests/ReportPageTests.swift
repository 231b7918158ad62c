import Foundation
import XCTest

@testable import LiaisonDemo

final class ReportPageTests: XCTestCase {
    private static let hostile = #"<script>alert("x")</script> & 'quoted'"#

    /// 2026-11-02T10:15:00Z plus `seconds`.
    private func at(_ seconds: Double) -> Date {
        Date(timeIntervalSince1970: 1_793_614_500 + seconds)
    }

    private func report() -> DemoReport {
        DemoReport(
            generatedAt: at(86_400 * 40 + 0.123_456), cluster: "embedded broker", simulatedStart: at(0), simulatedEnd: at(86_400 * 30),
            clockRate: 1_440, wallSeconds: 253.4, customers: 120, upstreamRecords: 48_213,
            stages: [
                StageSummary(stage: "ingest", processed: 48_213, emitted: 48_190, deadLettered: 23, restarts: 0),
                StageSummary(stage: "enrich", processed: 48_190, emitted: 48_190, deadLettered: 0, restarts: 0),
                StageSummary(stage: "rules", processed: 48_190, emitted: 612, deadLettered: 0, restarts: 1),
                StageSummary(stage: "notifier", processed: 612, emitted: 612, deadLettered: 0, restarts: 0),
            ],
            scenarios: [
                ScenarioSummary(
                    number: 1, title: "Surplus to a 30-day CD", rules: ["surplus-to-cd"], sent: 14,
                    byChannel: [Count(name: "push", count: 9), Count(name: "email", count: 5)], deferred: 2,
                    suppressed: [Count(name: "no marketing consent", count: 3), Count(name: "already holds a CD", count: 1)], missed: 0,
                    failed: 0, expectation: "Offers only to consenting customers without a CD, once per 30 days.", shortfalls: []),
                ScenarioSummary(
                    number: 4, title: "The 24-hour check-in reminder", rules: ["checkin-reminder", "checkin-missed"], sent: 30,
                    byChannel: [Count(name: "sms", count: 18), Count(name: "push", count: 12)], deferred: 0, suppressed: [], missed: 1,
                    failed: 0, expectation: "Every reminder fires once; the one due while rules was down fires on restart.", shortfalls: []),
                ScenarioSummary(
                    number: 5, title: "Sense and respond " + Self.hostile, rules: ["negative-feedback"], sent: 0, byChannel: [], deferred: 0,
                    suppressed: [Count(name: Self.hostile, count: 2)], missed: 0, failed: 1, expectation: "Expected " + Self.hostile,
                    shortfalls: ["no suppression for " + Self.hostile]),
            ],
            channels: [Count(name: "push", count: 21), Count(name: "sms", count: 18), Count(name: "email", count: 5)],
            locales: [Count(name: "en-US", count: 30), Count(name: "de-DE", count: 10), Count(name: "zh-Hans-CN", count: 4)],
            timelines: [
                CustomerTimeline(
                    customer: Self.hostile, story: "Flies to Berlin; rules is killed the night before.",
                    entries: [
                        TimelineEntry(time: at(60), stage: "ingest", what: "booking confirmed", detail: "LH 455 departs 2026-11-04T09:40+01:00"),
                        TimelineEntry(time: at(120.5), stage: "rules", what: "reminder scheduled", detail: Self.hostile),
                        TimelineEntry(time: at(86_400), stage: "sink", what: "SMS delivered", detail: "\"Check in now\""),
                    ])
            ],
            deadLetters: [
                DeadLetterSummary(stage: "ingest", reason: "invalid JSON", count: 20, example: "{\"id\": <truncated"),
                DeadLetterSummary(stage: "ingest", reason: "unknown type: banking.loan.restructured", count: 3, example: Self.hostile),
            ],
            missed: [
                MissedEngagement(
                    actionID: "act-<missed>-1", customer: "cust-7", template: "checkin-reminder", scenario: 4,
                    reason: "past departure when rules came back", at: at(3_600)),
                MissedEngagement(actionID: "act-2", customer: "cust-9", template: "agent-task", scenario: nil, reason: "no channel", at: at(7_200)),
            ],
            alerts: 1, sinks: SinkTotals(emails: 5, sms: 18, push: 21, webhooks: 40, kafkaMessages: 612, duplicates: 0),
            outages: [Outage(stage: "rules", from: at(40_000), to: at(50_000), how: "SIGKILL, restarted")]
        )
    }

    func testEveryModelStringIsEscaped() {
        let html = renderReportHTML(report())
        XCTAssertFalse(html.contains("<script"), "the page has no script of its own, so any is injected")
        XCTAssertFalse(html.contains(#"alert("x")"#))
        XCTAssertFalse(html.contains("'quoted'"))
        XCTAssertFalse(html.contains("act-<missed>"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;"))
        XCTAssertTrue(html.contains("act-&lt;missed&gt;-1"))
        XCTAssertTrue(html.contains("{&quot;id&quot;: &lt;truncated"))
        XCTAssertEqual(escapeHTML(#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f")
        XCTAssertEqual(escapeHTML("zh 中文 ✓"), "zh 中文 ✓")
    }

    func testEveryScenarioStageDeadLetterAndMissedActionAppears() {
        let model = report()
        let html = renderReportHTML(model)
        for scenario in model.scenarios {
            XCTAssertTrue(html.contains("id=\"scenario-\(scenario.number)\""), "scenario \(scenario.number)")
            XCTAssertTrue(html.contains(escapeHTML(scenario.title)), scenario.title)
            XCTAssertTrue(html.contains(escapeHTML(scenario.expectation)), scenario.expectation)
            for rule in scenario.rules { XCTAssertTrue(html.contains("<code>\(rule)</code>"), rule) }
        }
        for stage in model.stages {
            XCTAssertTrue(html.contains(">\(stage.stage)</span>"), stage.stage)
        }
        for letter in model.deadLetters {
            XCTAssertTrue(html.contains(escapeHTML(letter.reason)), letter.reason)
            XCTAssertTrue(html.contains(escapeHTML(letter.example)), letter.example)
        }
        for missed in model.missed {
            XCTAssertTrue(html.contains(escapeHTML(missed.actionID)), missed.actionID)
        }
        for entry in model.timelines.flatMap(\.entries) {
            XCTAssertTrue(html.contains(escapeHTML(entry.what)), entry.what)
        }
        for name in ["SIGKILL, restarted", "zh-Hans-CN", "embedded broker", "Flies to Berlin"] {
            XCTAssertTrue(html.contains(name), name)
        }
    }

    func testEachScenarioRowCarriesItsVerdict() {
        let html = renderReportHTML(report())
        XCTAssertEqual(row(4, in: html).contains("✓ met"), true)
        XCTAssertEqual(row(1, in: html).contains("✓ met"), true)
        XCTAssertEqual(row(5, in: html).contains("✗ not met"), true)
        XCTAssertEqual(row(5, in: html).contains("✓ met"), false)
        XCTAssertTrue(row(5, in: html).contains("<ul class=\"shortfalls\"><li>no suppression for "))
        XCTAssertFalse(row(1, in: html).contains("shortfalls"))
        XCTAssertTrue(html.contains("<b>2/3</b><span>scenarios met</span>"))
    }

    func testTimesShowAsUTCToTheMinute() {
        let html = renderReportHTML(report())
        XCTAssertTrue(html.contains(">2026-11-02T10:15Z</time>"))
        XCTAssertTrue(html.contains(">2026-11-02T10:17Z</time>"), "10:17:00.5 shows as 10:17")
        XCTAssertTrue(html.contains("datetime=\"2026-11-02T10:17:00.5Z\""))
    }

    func testMissedEngagementsLinkTheirScenario() {
        let html = renderReportHTML(report())
        XCTAssertTrue(html.contains("<a href=\"#scenario-4\">4</a>"))
    }

    func testDuplicatesAreHighlightedEitherWay() {
        var model = report()
        XCTAssertTrue(renderReportHTML(model).contains("<tr class=\"good\"><th>Duplicates</th><td class=\"num\"><b>0</b>"))
        XCTAssertTrue(renderReportHTML(model).contains("<p class=\"good\">Every message arrived once.</p>"))
        model.sinks.duplicates = 2
        let html = renderReportHTML(model)
        XCTAssertTrue(html.contains("<tr class=\"bad\"><th>Duplicates</th><td class=\"num\"><b>2</b>"))
        XCTAssertTrue(html.contains("<div class=\"tile bad\"><b>2</b><span>duplicates</span>"))
    }

    func testThePageIsSelfContainedAndDeterministic() {
        let model = report()
        let html = renderReportHTML(model)
        XCTAssertEqual(html, renderReportHTML(model))
        XCTAssertTrue(html.hasPrefix("<!doctype html>"))
        XCTAssertTrue(html.contains("<svg class=\"chart\""))
        for external in ["<script", "<link", "src=", "http://", "https://", "@import", "url("] {
            XCTAssertFalse(html.contains(external), external)
        }
    }

    func testTheChartDrawsABarPerScenarioSplitByChannel() {
        let html = renderReportHTML(report())
        let chart = html.components(separatedBy: "<svg")[1].components(separatedBy: "</svg>")[0]
        XCTAssertEqual(chart.components(separatedBy: "<g>").count - 1, 3)
        XCTAssertEqual(chart.components(separatedBy: "class=\"track\"").count - 1, 3)
        // Scenario 1's push (channel slot 0) and email (slot 2), scenario 4's sms (1) and push (0).
        XCTAssertEqual(chart.components(separatedBy: "<rect class=\"k").count - 1, 4)
    }

    func testAnEmptyReportStillRenders() {
        let model = DemoReport(
            generatedAt: at(0), cluster: "localhost:9092", simulatedStart: at(0), simulatedEnd: at(0), clockRate: 0.5, wallSeconds: 0,
            customers: 0, upstreamRecords: 0, stages: [], scenarios: [], channels: [], locales: [], timelines: [], deadLetters: [],
            missed: [], alerts: 0, sinks: SinkTotals(emails: 0, sms: 0, push: 0, webhooks: 0, kafkaMessages: 0, duplicates: 0), outages: [])
        let html = renderReportHTML(model)
        for sentence in ["No scenarios were judged.", "No record was dead-lettered.", "No engagement was missed.", "No stage was taken down."] {
            XCTAssertTrue(html.contains(sentence), sentence)
        }
        XCTAssertFalse(html.contains("<svg"))
        XCTAssertTrue(html.contains("×0.5"))
    }

    func testJSONRoundTripsExactly() throws {
        var model = report()
        model.generatedAt = Date()
        let data = try model.jsonData()
        XCTAssertEqual(try DemoReport.decode(data), model)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains(#""simulatedStart" : "2026-11-02T10:15:00Z""#), text)
        XCTAssertTrue(text.contains(#""time" : "2026-11-02T10:17:00.5Z""#))
        XCTAssertFalse(text.contains(#""scenario" : null"#), "an absent scenario is left out")
        let keys = ["alerts", "channels", "clockRate", "cluster", "customers"].compactMap { text.range(of: "\"\($0)\"")?.lowerBound }
        XCTAssertEqual(keys, keys.sorted(), "keys are sorted")
        XCTAssertEqual(try model.jsonData(), data)
    }

    func testTimestampsRoundTripToTheBit() {
        // 2020 to about 2100, at irregular sub-second offsets.
        for step in 0..<5_000 {
            let date = Date(timeIntervalSince1970: 1_577_836_800 + Double(step) * 503_311.123_456_789 + Double(step % 97) / 97)
            XCTAssertEqual(DemoTimestamp.parse(DemoTimestamp.iso8601(date)), date, DemoTimestamp.iso8601(date))
        }
    }

    func testDecodingReadsOtherISO8601FractionsAndRejectsNonsense() throws {
        XCTAssertEqual(DemoTimestamp.parse("2026-11-02T10:15:00.250Z"), at(0.25))
        XCTAssertEqual(DemoTimestamp.parse("2026-11-02T10:15:00Z"), at(0))
        XCTAssertNil(DemoTimestamp.parse("2026-11-02T10:15:00.Z"))
        XCTAssertNil(DemoTimestamp.parse("yesterday"))
        let broken = try XCTUnwrap(String(decoding: report().jsonData(), as: UTF8.self)
            .replacingOccurrences(of: "2026-11-02T10:15:00Z", with: "soon").data(using: .utf8))
        XCTAssertThrowsError(try DemoReport.decode(broken))
    }

    func testNumbersAndSpansReadTheSameEverywhere() {
        XCTAssertEqual(DemoFormat.count(1_234_567), "1,234,567")
        XCTAssertEqual(DemoFormat.count(-1_000), "-1,000")
        XCTAssertEqual(DemoFormat.count(999), "999")
        XCTAssertEqual(DemoFormat.span(253.4), "4 m 13 s")
        XCTAssertEqual(DemoFormat.span(86_400 * 30 + 3_600 * 4), "30 d 4 h")
        XCTAssertEqual(DemoFormat.span(3_600), "1 h")
        XCTAssertEqual(DemoFormat.span(0), "0 s")
        XCTAssertEqual(DemoFormat.decimal(1_440), "1,440")
        XCTAssertEqual(DemoFormat.decimal(2.5), "2.5")
    }

    /// The markup of scenario `number`'s table row.
    private func row(_ number: Int, in html: String) -> String {
        guard let start = html.range(of: "<tr id=\"scenario-\(number)\"") else { return "" }
        guard let end = html.range(of: "</tr>", range: start.upperBound..<html.endIndex) else { return "" }
        return String(html[start.lowerBound..<end.upperBound])
    }
}
