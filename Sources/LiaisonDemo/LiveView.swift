import Foundation

/// What the terminal shows while the demo runs, sampled by the caller once per redraw.
public struct LiveSnapshot: Sendable, Equatable {
    public var simulatedTime: Date
    public var wallSeconds: Double
    /// "history", "live" or "draining".
    public var phase: String
    public var stages: [LiveStage]
    public var scenarios: [LiveScenario]
    public var sent: Int
    public var deferred: Int
    public var suppressed: Int
    public var missed: Int
    public var failed: Int
    public var deadLetters: Int
    /// The last few notable lines, oldest first, such as "rules SIGKILLed".
    public var events: [String]

    public init(
        simulatedTime: Date, wallSeconds: Double, phase: String, stages: [LiveStage], scenarios: [LiveScenario], sent: Int,
        deferred: Int, suppressed: Int, missed: Int, failed: Int, deadLetters: Int, events: [String]
    ) {
        self.simulatedTime = simulatedTime
        self.wallSeconds = wallSeconds
        self.phase = phase
        self.stages = stages
        self.scenarios = scenarios
        self.sent = sent
        self.deferred = deferred
        self.suppressed = suppressed
        self.missed = missed
        self.failed = failed
        self.deadLetters = deadLetters
        self.events = events
    }
}

public struct LiveStage: Sendable, Equatable {
    public var stage: String
    public var processed: Int
    /// Records behind the input's end; nil while unknown.
    public var lag: Int?
    public var running: Bool
    public var replicas: Int

    public init(stage: String, processed: Int, lag: Int?, running: Bool, replicas: Int) {
        self.stage = stage
        self.processed = processed
        self.lag = lag
        self.running = running
        self.replicas = replicas
    }
}

public struct LiveScenario: Sendable, Equatable {
    public var number: Int
    public var title: String
    public var sent: Int
    public var byChannel: [Count]

    public init(number: Int, title: String, sent: Int, byChannel: [Count]) {
        self.number = number
        self.title = title
        self.sent = sent
        self.byChannel = byChannel
    }
}

/// One frame of the live view: at most 24 lines, none wider than `width` columns (longer ones end
/// in "…"), each ending in a newline, so `liveFrameRedraw(previousLineCount:)` with the frame's
/// newline count puts the cursor back on its first line. A frame that wrapped would leave
/// debris on every redraw, hence the hard limits. ANSI colours only when `colors` is true.
public func renderLiveFrame(_ snapshot: LiveSnapshot, width: Int, colors: Bool) -> String {
    LiveFrame(snapshot: snapshot, width: width).lines().map { render(fitted($0, to: width), colors: colors) + "\n" }.joined()
}

/// Moves the cursor up over the previous frame and clears from there to the end of the screen, so
/// a shorter frame leaves nothing of a longer one behind.
public func liveFrameRedraw(previousLineCount: Int) -> String {
    previousLineCount > 0 ? "\u{1B}[\(previousLineCount)A\r\u{1B}[J" : ""
}

/// A run of text in one style; the text is made safe for a terminal when the span is made.
private struct Span {
    var text: String
    var style: Style?

    init(_ text: String, _ style: Style? = nil) {
        self.text = terminalSafe(text)
        self.style = style
    }
}

/// SGR parameters.
private enum Style: String {
    case bold = "1"
    case dim = "2"
    case red = "1;31"
    case green = "32"
    case yellow = "33"
    case cyan = "36"
}

private typealias Line = [Span]

private struct LiveFrame {
    let snapshot: LiveSnapshot
    let width: Int

    static let maximumLines = 24
    static let maximumStageRows = 6
    /// Lines kept for events when there are that many, however many scenarios there are.
    static let reservedEventLines = 3

    func lines() -> [Line] {
        // Title, the two table headings and the totals.
        let fixed = 4
        let room = Self.maximumLines - fixed
        let stageRows = fit(snapshot.stages.map(stageRow), into: min(snapshot.stages.count, Self.maximumStageRows), noun: "stages")
        let eventReserve = min(snapshot.events.count, Self.reservedEventLines)
        let scenarioBudget = min(snapshot.scenarios.count, room - stageRows.count - eventReserve)
        let scenarioRows = fit(snapshot.scenarios.map(scenarioRow), into: scenarioBudget, noun: "scenarios")
        let eventRows = snapshot.events.suffix(room - stageRows.count - scenarioRows.count).map { [Span("› ", .dim), Span($0)] }
        return [title(), stageHeading()] + stageRows + [scenarioHeading()] + scenarioRows + [totals()] + eventRows
    }

    /// The rows, or as many as fit less one and a line saying how many were left out; the budget
    /// is at least 1 whenever there are rows.
    private func fit(_ rows: [Line], into budget: Int, noun: String) -> [Line] {
        guard rows.count > budget else { return rows }
        return rows.prefix(budget - 1) + [[Span("… \(rows.count - budget + 1) more \(noun)", .dim)]]
    }

    private func title() -> Line {
        let phaseStyle: Style =
            switch snapshot.phase {
            case "live": .green
            case "draining": .yellow
            default: .cyan
            }
        return [
            Span("Liaison demo", .bold), Span(" · "), Span(snapshot.phase, phaseStyle), Span(" · simulated "),
            Span(DemoTimestamp.minute(snapshot.simulatedTime), .bold), Span(" · wall \(DemoFormat.span(snapshot.wallSeconds))"),
        ]
    }

    /// Up or down comes right after the name so a narrow terminal cuts the counts, not the status.
    private func stageHeading() -> Line {
        [Span(cell("stage", 10) + " " + cell("status", 7) + " " + cell("processed", 10, right: true) + " " + cell("lag", 9, right: true), .dim)]
    }

    private func stageRow(_ stage: LiveStage) -> Line {
        let lag = stage.lag.map(DemoFormat.count) ?? "—"
        return [
            Span(cell(stage.stage, 10) + " "),
            stage.running ? Span(cell(stage.replicas > 1 ? "up ×\(stage.replicas)" : "up", 7), .green) : Span(cell("DOWN", 7), .red),
            Span(" " + cell(DemoFormat.count(stage.processed), 10, right: true) + " "),
            Span(cell(lag, 9, right: true), (stage.lag ?? 0) > 0 ? .yellow : nil),
        ]
    }

    /// The title column gives way first on a narrow terminal so the counts stay visible.
    private var titleWidth: Int { min(max(width - 46, 12), 34) }

    private func scenarioHeading() -> Line {
        [Span(cell("#", 2, right: true) + " " + cell("scenario", titleWidth) + " " + cell("sent", 7, right: true) + "  channels", .dim)]
    }

    private func scenarioRow(_ scenario: LiveScenario) -> Line {
        let split = scenario.byChannel.map { "\($0.name) \(DemoFormat.count($0.count))" }.joined(separator: " · ")
        return [
            Span(cell(String(scenario.number), 2, right: true) + " " + cell(scenario.title, titleWidth) + " "),
            Span(cell(DemoFormat.count(scenario.sent), 7, right: true), scenario.sent > 0 ? .bold : .dim),
            Span(split.isEmpty ? "" : "  " + split),
        ]
    }

    private func totals() -> Line {
        let counts: [(String, Int, Bool)] = [
            ("sent", snapshot.sent, false), ("deferred", snapshot.deferred, false), ("suppressed", snapshot.suppressed, false),
            ("missed", snapshot.missed, true), ("failed", snapshot.failed, true), ("dead letters", snapshot.deadLetters, true),
        ]
        var line: Line = []
        for (index, (name, value, alarming)) in counts.enumerated() {
            line.append(Span((index == 0 ? "" : "  ") + name + " "))
            line.append(Span(DemoFormat.count(value), alarming && value > 0 ? .red : .bold))
        }
        return line
    }
}

/// Pads or cuts text to exactly `width` columns.
private func cell(_ text: String, _ width: Int, right: Bool = false) -> String {
    let cut = fitted([Span(text)], to: width).map(\.text).joined()
    let padding = String(repeating: " ", count: max(width - columns(cut), 0))
    return right ? padding + cut : cut + padding
}

/// Cuts a line to `width` columns across its spans, ending it in "…" when anything was cut.
private func fitted(_ line: Line, to width: Int) -> Line {
    guard line.reduce(0, { $0 + columns($1.text) }) > width else { return line }
    guard width > 0 else { return [] }
    var room = width - 1
    var kept: Line = []
    for span in line {
        var text = ""
        for character in span.text {
            let needed = columns(character)
            guard needed <= room else { break }
            text.append(character)
            room -= needed
        }
        kept.append(Span(text, span.style))
        if text.count < span.text.count { break }
    }
    return kept + [Span("…")]
}

private func render(_ line: Line, colors: Bool) -> String {
    line.map { span in
        guard colors, let style = span.style, !span.text.isEmpty else { return span.text }
        return "\u{1B}[\(style.rawValue)m\(span.text)\u{1B}[0m"
    }.joined()
}

/// Control characters (a newline, an escape that would start a terminal sequence) become spaces,
/// since an event or a name from the data must neither add a line nor steer the terminal.
private func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
}

private func columns(_ text: String) -> Int {
    text.reduce(0) { $0 + columns($1) }
}

/// Terminal columns a character takes: two for East Asian wide and emoji blocks, one otherwise.
private func columns(_ character: Character) -> Int {
    guard let value = character.unicodeScalars.first?.value else { return 0 }
    let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3,
        0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD,
    ]
    return wide.contains { $0.contains(value) } ? 2 : 1
}
