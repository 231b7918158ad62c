import Foundation
import XCTest

@testable import LiaisonDemo

final class LiveViewTests: XCTestCase {
    private let titles = [
        "Surplus to a 30-day CD", "Mobile check deposit", "Advisor at the open house", "The 24-hour check-in reminder", "Sense and respond",
        "Churn warning", "Behaviour change", "Records kept in sync", "Omni-channel, not one size", "Consent, quiet hours, erasure",
    ]

    private func snapshot(scenarios: Int = 10, stages: Int = 4, events: [String] = ["rules SIGKILLed", "rules restarted"]) -> LiveSnapshot {
        let names = ["ingest", "enrich", "rules", "notifier"]
        return LiveSnapshot(
            simulatedTime: Date(timeIntervalSince1970: 1_793_614_530), wallSeconds: 72, phase: "live",
            stages: (0..<stages).map { index in
                LiveStage(
                    stage: index < names.count ? names[index] : "extra-\(index)", processed: 48_213 - index * 1_000,
                    lag: index == 1 ? nil : index * 17, running: index != 2, replicas: [1, 1, 0, 2][index % 4])
            },
            scenarios: (0..<scenarios).map { index in
                LiveScenario(
                    number: index + 1, title: titles[index % titles.count], sent: index * 3,
                    byChannel: index == 0 ? [] : [Count(name: "push", count: index * 2), Count(name: "email", count: index)])
            },
            sent: 135, deferred: 4, suppressed: 31, missed: 1, failed: 0, deadLetters: 23, events: events)
    }

    private func lines(_ frame: String) -> [String] {
        XCTAssertTrue(frame.hasSuffix("\n"), "every line ends in a newline")
        return frame.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The text a terminal shows, without SGR sequences.
    private func visible(_ line: String) -> String {
        line.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
    }

    func testTheFrameShowsStagesScenariosTotalsAndEvents() {
        let frame = renderLiveFrame(snapshot(), width: 100, colors: false)
        let shown = lines(frame)
        XCTAssertTrue(shown[0].hasPrefix("Liaison demo · live · simulated 2026-11-02T10:15Z · wall 1 m 12 s"), shown[0])
        XCTAssertEqual(shown[2], "ingest     up          48,213         0")
        XCTAssertEqual(shown[3], "enrich     up          47,213         —", "lag not known yet")
        XCTAssertEqual(shown[4], "rules      DOWN        46,213        34")
        XCTAssertEqual(shown[5], "notifier   up ×2       45,213        51")
        for title in titles { XCTAssertTrue(frame.contains(title), title) }
        XCTAssertTrue(shown.contains { $0 == " 4 The 24-hour check-in reminder            9  push 6 · email 3" }, frame)
        XCTAssertTrue(frame.contains("sent 135  deferred 4  suppressed 31  missed 1  failed 0  dead letters 23"), frame)
        XCTAssertEqual(shown.suffix(2), ["› rules SIGKILLed", "› rules restarted"])
    }

    func testFramesStayWithin24LinesAndTheWidth() {
        let crowded = snapshot(scenarios: 14, stages: 9, events: (1...30).map { "event \($0) " + String(repeating: "x", count: $0 * 4) })
        for candidate in [snapshot(), crowded, snapshot(scenarios: 0, stages: 0, events: [])] {
            for width in [1, 12, 40, 80, 200] {
                for colors in [false, true] {
                    let shown = lines(renderLiveFrame(candidate, width: width, colors: colors))
                    XCTAssertLessThanOrEqual(shown.count, 24)
                    for line in shown {
                        XCTAssertLessThanOrEqual(visible(line).count, width, "\(width): \(line)")
                    }
                }
            }
        }
        let shown = lines(renderLiveFrame(crowded, width: 80, colors: false))
        XCTAssertEqual(shown.count, 24)
        XCTAssertTrue(shown.contains("… 4 more stages"), shown.joined(separator: "\n"))
        XCTAssertTrue(shown.contains { $0.hasPrefix("… ") && $0.hasSuffix("more scenarios") }, shown.joined(separator: "\n"))
        XCTAssertTrue(shown.last?.hasPrefix("› event 30") == true, "the newest event is kept")
    }

    func testLongLinesAreCutWithAnEllipsis() {
        let shown = lines(renderLiveFrame(snapshot(), width: 30, colors: false))
        XCTAssertTrue(shown[0].hasSuffix("…"), shown[0])
        XCTAssertEqual(shown[0].count, 30)
        XCTAssertTrue(shown.contains { $0.hasPrefix(" 4 The 24-hour…       9  pu") && $0.hasSuffix("…") }, shown.joined(separator: "\n"))
        let colored = lines(renderLiveFrame(snapshot(), width: 30, colors: true))
        XCTAssertEqual(visible(colored[0]), shown[0])
    }

    func testWideCharactersCountTwoColumns() {
        let shown = lines(renderLiveFrame(snapshot(events: ["通知已发送给客户通知已发送给客户"]), width: 20, colors: false))
        XCTAssertEqual(shown.last, "› 通知已发送给客户…")
    }

    func testColorsOnlyWhenAskedAndDataCannotSteerTheTerminal() {
        let sneaky = snapshot(events: ["rules\u{1B}[2J SIGKILLed\nsecond line\r\n"])
        let plain = renderLiveFrame(sneaky, width: 80, colors: false)
        XCTAssertFalse(plain.contains("\u{1B}"))
        XCTAssertTrue(plain.contains("› rules [2J SIGKILLed second line"), plain)
        XCTAssertEqual(lines(plain).count, lines(renderLiveFrame(snapshot(), width: 80, colors: false)).count - 1)
        let colored = renderLiveFrame(sneaky, width: 80, colors: true)
        XCTAssertTrue(colored.contains("\u{1B}[1;31mDOWN   \u{1B}[0m"))
        XCTAssertFalse(colored.contains("\u{1B}[2J"))
        XCTAssertEqual(visible(colored), plain)
    }

    func testRedrawMovesUpAndClears() {
        XCTAssertEqual(liveFrameRedraw(previousLineCount: 18), "\u{1B}[18A\r\u{1B}[J")
        XCTAssertEqual(liveFrameRedraw(previousLineCount: 0), "")
    }
}
