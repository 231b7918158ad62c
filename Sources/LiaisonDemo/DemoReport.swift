import Foundation

/// Everything one `liaison demo` run showed, gathered at its end. The HTML page and the JSON file
/// are both made from this one value, so what a reader sees and what a script checks agree.
/// Lists keep the order they were built in; nothing downstream re-sorts them.
public struct DemoReport: Codable, Sendable, Equatable {
    public var generatedAt: Date
    /// Where the fleet ran: "embedded broker" or the bootstrap servers.
    public var cluster: String
    public var simulatedStart: Date
    public var simulatedEnd: Date
    /// Simulated seconds per real second.
    public var clockRate: Double
    public var wallSeconds: Double
    public var customers: Int
    public var upstreamRecords: Int
    public var stages: [StageSummary]
    public var scenarios: [ScenarioSummary]
    /// Engagements sent per channel.
    public var channels: [Count]
    /// Engagements sent per locale.
    public var locales: [Count]
    public var timelines: [CustomerTimeline]
    public var deadLetters: [DeadLetterSummary]
    public var missed: [MissedEngagement]
    public var alerts: Int
    public var sinks: SinkTotals
    public var outages: [Outage]

    public init(
        generatedAt: Date, cluster: String, simulatedStart: Date, simulatedEnd: Date, clockRate: Double, wallSeconds: Double,
        customers: Int, upstreamRecords: Int, stages: [StageSummary], scenarios: [ScenarioSummary], channels: [Count],
        locales: [Count], timelines: [CustomerTimeline], deadLetters: [DeadLetterSummary], missed: [MissedEngagement],
        alerts: Int, sinks: SinkTotals, outages: [Outage]
    ) {
        self.generatedAt = generatedAt
        self.cluster = cluster
        self.simulatedStart = simulatedStart
        self.simulatedEnd = simulatedEnd
        self.clockRate = clockRate
        self.wallSeconds = wallSeconds
        self.customers = customers
        self.upstreamRecords = upstreamRecords
        self.stages = stages
        self.scenarios = scenarios
        self.channels = channels
        self.locales = locales
        self.timelines = timelines
        self.deadLetters = deadLetters
        self.missed = missed
        self.alerts = alerts
        self.sinks = sinks
        self.outages = outages
    }
}

/// A named tally; a list of these keeps its order where a dictionary would not.
public struct Count: Codable, Sendable, Equatable {
    public var name: String
    public var count: Int

    public init(name: String, count: Int) {
        self.name = name
        self.count = count
    }
}

public struct StageSummary: Codable, Sendable, Equatable {
    public var stage: String
    public var processed: Int
    public var emitted: Int
    public var deadLettered: Int
    public var restarts: Int

    public init(stage: String, processed: Int, emitted: Int, deadLettered: Int, restarts: Int) {
        self.stage = stage
        self.processed = processed
        self.emitted = emitted
        self.deadLettered = deadLettered
        self.restarts = restarts
    }
}

/// How one scenario of the acceptance bar fared, judged against what its slice of the data set
/// was built to show.
public struct ScenarioSummary: Codable, Sendable, Equatable {
    public var number: Int
    public var title: String
    /// The rule ids that fired for it.
    public var rules: [String]
    public var sent: Int
    public var byChannel: [Count]
    public var deferred: Int
    /// Why engagements were held back, from receipts and rule decisions, reason → count.
    public var suppressed: [Count]
    public var missed: Int
    public var failed: Int
    /// What the data set was built to show, in words.
    public var expectation: String
    /// What the run fell short of, in words; empty when the scenario was met.
    public var shortfalls: [String]
    /// No shortfalls; kept in report.json so that readers need not know the rule.
    public private(set) var met: Bool

    public init(
        number: Int, title: String, rules: [String], sent: Int, byChannel: [Count], deferred: Int, suppressed: [Count],
        missed: Int, failed: Int, expectation: String, shortfalls: [String]
    ) {
        self.number = number
        self.title = title
        self.rules = rules
        self.sent = sent
        self.byChannel = byChannel
        self.deferred = deferred
        self.suppressed = suppressed
        self.missed = missed
        self.failed = failed
        self.expectation = expectation
        self.shortfalls = shortfalls
        met = shortfalls.isEmpty
    }
}

/// One customer's story followed through every stage.
public struct CustomerTimeline: Codable, Sendable, Equatable {
    public var customer: String
    public var story: String
    public var entries: [TimelineEntry]

    public init(customer: String, story: String, entries: [TimelineEntry]) {
        self.customer = customer
        self.story = story
        self.entries = entries
    }
}

public struct TimelineEntry: Codable, Sendable, Equatable {
    public var time: Date
    /// ingest, enrich, rules, notifier or sink.
    public var stage: String
    public var what: String
    public var detail: String

    public init(time: Date, stage: String, what: String, detail: String) {
        self.time = time
        self.stage = stage
        self.what = what
        self.detail = detail
    }
}

public struct DeadLetterSummary: Codable, Sendable, Equatable {
    public var stage: String
    public var reason: String
    public var count: Int
    public var example: String

    public init(stage: String, reason: String, count: Int, example: String) {
        self.stage = stage
        self.reason = reason
        self.count = count
        self.example = example
    }
}

/// An engagement recorded as missed (a reminder past its moment) rather than silently skipped.
public struct MissedEngagement: Codable, Sendable, Equatable {
    public var actionID: String
    public var customer: String
    public var template: String
    public var scenario: Int?
    public var reason: String
    public var at: Date

    public init(actionID: String, customer: String, template: String, scenario: Int?, reason: String, at: Date) {
        self.actionID = actionID
        self.customer = customer
        self.template = template
        self.scenario = scenario
        self.reason = reason
        self.at = at
    }
}

/// What the local sinks received; `duplicates` counts messages delivered more than once, and
/// 0 is the answer the demo exists to show.
public struct SinkTotals: Codable, Sendable, Equatable {
    public var emails: Int
    public var sms: Int
    public var push: Int
    public var webhooks: Int
    public var kafkaMessages: Int
    public var duplicates: Int

    public init(emails: Int, sms: Int, push: Int, webhooks: Int, kafkaMessages: Int, duplicates: Int) {
        self.emails = emails
        self.sms = sms
        self.push = push
        self.webhooks = webhooks
        self.kafkaMessages = kafkaMessages
        self.duplicates = duplicates
    }
}

/// A stage taken down during the run, in simulated time.
public struct Outage: Codable, Sendable, Equatable {
    public var stage: String
    public var from: Date
    public var to: Date
    /// For example "SIGKILL, restarted".
    public var how: String

    public init(stage: String, from: Date, to: Date, how: String) {
        self.stage = stage
        self.from = from
        self.to = to
        self.how = how
    }
}

public extension DemoReport {
    /// Pretty-printed with sorted keys so two runs' files diff cleanly; dates as ISO 8601 UTC.
    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(DemoTimestamp.iso8601(date))
        }
        return try encoder.encode(self)
    }

    static func decode(_ data: Data) throws -> DemoReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = DemoTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date-time: \(text)")
            }
            return date
        }
        return try decoder.decode(DemoReport.self, from: data)
    }
}

/// The report's one way of writing times, shared by the JSON, the page and the live frame.
enum DemoTimestamp {
    /// ISO 8601 UTC with the fraction to the nanosecond, and none when the time is whole seconds.
    /// Nanoseconds are finer than a present-day `Date` can hold, so a decoded report equals the
    /// one encoded.
    static func iso8601(_ date: Date) -> String {
        let seconds = date.timeIntervalSinceReferenceDate
        var whole = seconds.rounded(.down)
        var nanoseconds = Int(((seconds - whole) * 1e9).rounded())
        if nanoseconds == 1_000_000_000 {
            whole += 1
            nanoseconds = 0
        }
        let base = wholeSeconds(whole)
        guard nanoseconds > 0 else { return base }
        var digits = String(nanoseconds)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return String(base.dropLast()) + "." + digits + "Z"
    }

    /// Reads what `iso8601` writes, and ISO 8601 date-times with any number of fraction digits.
    static func parse(_ text: String) -> Date? {
        var whole = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digitsStart = text.index(after: dot)
            let digitsEnd = text[digitsStart...].firstIndex { !("0"..."9").contains($0) } ?? text.endIndex
            guard digitsStart < digitsEnd, let value = Double("0." + String(text[digitsStart..<digitsEnd])) else { return nil }
            fraction = value
            whole = String(text[..<dot] + text[digitsEnd...])
        }
        guard let date = try? Date.ISO8601FormatStyle().parse(whole) else { return nil }
        return Date(timeIntervalSinceReferenceDate: date.timeIntervalSinceReferenceDate + fraction)
    }

    /// ISO 8601 UTC to the minute, as the page and the live frame show times: seconds are noise
    /// when a simulated month passes in minutes.
    static func minute(_ date: Date) -> String {
        let base = wholeSeconds(date.timeIntervalSinceReferenceDate.rounded(.down))
        guard let secondsColon = base.lastIndex(of: ":") else { return base }
        return String(base[..<secondsColon]) + "Z"
    }

    private static func wholeSeconds(_ seconds: TimeInterval) -> String {
        Date(timeIntervalSinceReferenceDate: seconds).formatted(.iso8601)
    }
}

/// Number and duration wording shared by the page and the live frame, independent of the
/// machine's locale so the same report always reads the same.
enum DemoFormat {
    /// 1234567 → "1,234,567".
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// The two largest units that matter: "4 m 13 s", "31 d 4 h", "0 s".
    static func span(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 1 else {
            return seconds.isFinite && seconds > 0 ? String(format: "%.1f s", seconds) : "0 s"
        }
        let total = Int(seconds.rounded(.down))
        let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")]
        guard let first = units.firstIndex(where: { total >= $0.0 }) else { return "0 s" }
        let (size, name) = units[first]
        var text = "\(DemoFormat.count(total / size)) \(name)"
        if first + 1 < units.count {
            let (smaller, smallerName) = units[first + 1]
            let rest = total % size / smaller
            if rest > 0 { text += " \(rest) \(smallerName)" }
        }
        return text
    }

    /// A rate or ratio without trailing zeros: 1440 → "1,440", 2.5 → "2.5".
    static func decimal(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        if value == value.rounded(), value.magnitude < 1e15 { return count(Int(value)) }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
