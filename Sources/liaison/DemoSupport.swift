import ArgumentParser
import Foundation
import LiaisonDemo
import LiaisonKafka
import LiaisonSinks

/// Where the demo keeps things, and the files it writes before the stages start.
struct DemoPaths {
    let state: URL
    let repository: URL

    init(stateDir: String, repository: String) throws {
        state = URL(fileURLWithPath: stateDir, isDirectory: true).standardizedFileURL
        self.repository = URL(fileURLWithPath: repository, isDirectory: true).standardizedFileURL
        for needed in ["schemas/rules/default.yaml", "schemas/templates", "deploy/ingest.example.yaml", "deploy/enrich.example.yaml"]
        where !FileManager.default.fileExists(atPath: self.repository.appendingPathComponent(needed).path) {
            throw ValidationError("\(needed) is not under \(self.repository.path): run the demo from the repository, or pass --repository")
        }
        try? FileManager.default.removeItem(at: state)
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
    }

    var stages: URL { state.appendingPathComponent("stages") }
    var logs: URL { state.appendingPathComponent("logs") }
    var notifierConfiguration: URL { state.appendingPathComponent("notifier.yaml") }

    func stages(upstream: [String], group: (String) -> String) -> [DemoFleet.Stage] {
        let file = { repository.appendingPathComponent($0).path }
        return [
            DemoFleet.Stage(
                name: "ingest", executable: "liaison-ingest",
                arguments: ["--group", group("ingest"), "--ingest-config", file("deploy/ingest.example.yaml")] + upstream.flatMap { ["--input", $0] }),
            DemoFleet.Stage(
                name: "enrich", executable: "liaison-enrich",
                arguments: ["--group", group("enrich"), "--enrich-config", file("deploy/enrich.example.yaml")]),
            DemoFleet.Stage(
                name: "rules", executable: "liaison-rules",
                arguments: ["--group", group("rules"), "--rules", file("schemas/rules/default.yaml")]),
            DemoFleet.Stage(
                name: "notifier", executable: "liaison-notifier",
                arguments: ["--group", group("notifier"), "--notifier-config", notifierConfiguration.path]),
        ]
    }

    /// The documented example's policy, with the providers pointed at the demo's sinks. The
    /// webhook secret is made up per run: the demo's sink is the only receiver.
    func writeNotifierConfiguration(smtpPort: Int, http: HTTPSink) throws {
        let secret = Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let text = """
            # Written by `liaison demo` for this run: deploy/notifier.yaml's policy, the demo's sinks as providers.
            templates: \(repository.appendingPathComponent("schemas/templates").path)
            default_locale: en
            ladders:
              service: [push, sms, email, inbox]
              marketing: [push, email, inbox]
              agent-task: [agent-task]
              crm-update: [crm]
            frequency_caps:
              marketing: { count: 3, per: 7d }
              service: { count: 20, per: 1d }
            quiet_hours: { start: "22:00", end: "07:00" }
            time_zone: UTC
            validity: { urgent: 1h, high: 6h, normal: 2d, low: 7d }
            retry: { initial: 1s, multiplier: 2, max_delay: 10m, attempts_per_channel: 5, jitter: 0.2 }
            sms: { max_segments: 2 }
            max_in_flight: 50
            circuit_breaker: { failures: 5, cool_down: 30s, max_cool_down: 5m }
            providers:
              email:
                host: 127.0.0.1
                port: \(smtpPort)
                security: plain
                from: engage@liaison.example
                from_name: Liaison demo
              sms:
                url: \(http.url("/sms"))
                idempotency_header: Idempotency-Key
                body: { to: address, text: text, reference: idempotencyKey }
                timeout: 10s
              push:
                url: \(http.url("/push"))
                idempotency_header: Idempotency-Key
                body: { token: address, notification.title: subject, notification.body: text, data.actionId: actionID }
                timeout: 10s
              webhooks:
                default:
                  url: \(http.url("/webhook"))
                  secret: "whsec_\(secret)"
                  timeout: 10s

            """
        try Data(text.utf8).write(to: notifierConfiguration)
    }
}

/// The embedded broker, or the cluster given with --brokers, with the topics created.
final class DemoBroker: CustomStringConvertible {
    let bootstrap: String
    private let embedded: EmbeddedBroker?
    let description: String

    init(cluster: ClusterOptions, topics: [String], partitions: Int32) throws {
        if let configured = cluster.configuredBrokers {
            bootstrap = configured
            embedded = nil
            try KafkaAdmin(properties: try cluster.properties(brokers: configured))
                .createTopics(topics.map { TopicSpec(name: $0, partitions: partitions) })
            description = "using the cluster at \(configured)"
        } else {
            let broker = try EmbeddedBroker()
            for topic in topics { try broker.createTopic(topic, partitions: partitions) }
            bootstrap = broker.bootstrapServers
            embedded = broker
            description = "embedded broker at \(broker.bootstrapServers) (in memory; --brokers HOST:PORT for a real cluster)"
        }
    }
}

/// Consumer lag of the demo's groups, read at most every two seconds (each read asks the brokers).
final class DemoLag {
    private let reader: LagReader
    private let stages: [StageInputs]
    private var cached: [String: Int64] = [:]
    private var readAt = Date.distantPast

    init(reader: LagReader, stages: [StageInputs]) {
        self.reader = reader
        self.stages = stages
    }

    /// Records behind per stage; a stage whose lag cannot be read right now is left out.
    func perStage(fresh: Bool = false) -> [String: Int64] {
        guard fresh || Date().timeIntervalSince(readAt) >= 2 else { return cached }
        readAt = Date()
        guard let rows = try? reader.read(stages) else { return cached }
        cached = Dictionary(rows.map { ($0.lag.stage, $0.lag.behind(start: $0.start)) }, uniquingKeysWith: +)
        return cached
    }
}

/// Standard output: plain lines, or a live frame redrawn in place when it is a terminal.
final class DemoConsole {
    let live: Bool
    private var frameLines = 0

    init(live: Bool) {
        self.live = live
    }

    func say(_ line: String) {
        clearFrame()
        write(line + "\n")
    }

    func draw(_ frame: String) {
        guard live else { return }
        clearFrame()
        write(frame.hasSuffix("\n") ? frame : frame + "\n")
        frameLines = frame.split(separator: "\n", omittingEmptySubsequences: false).count - (frame.hasSuffix("\n") ? 1 : 0)
    }

    func clearFrame() {
        guard frameLines > 0 else { return }
        write(liveFrameRedraw(previousLineCount: frameLines))
        frameLines = 0
    }

    func summary(_ report: DemoReport) {
        say("")
        say("scenario                                        sent  deferred  suppressed  missed  failed")
        for scenario in report.scenarios {
            let suppressed = scenario.suppressed.reduce(0) { $0 + $1.count }
            let title = "\(scenario.met ? "ok " : "NO ") \(scenario.number). \(scenario.title)"
            say(
                title.padding(toLength: 46, withPad: " ", startingAt: 0) + String(scenario.sent).leftPadded(6)
                    + String(scenario.deferred).leftPadded(10) + String(suppressed).leftPadded(12)
                    + String(scenario.missed).leftPadded(8) + String(scenario.failed).leftPadded(8))
            for shortfall in scenario.shortfalls { say("      short of the script: \(shortfall)") }
        }
        let letters = report.deadLetters.reduce(0) { $0 + $1.count }
        say("dead letters: \(letters) (\(report.deadLetters.map { "\($0.stage)/\($0.reason) \($0.count)" }.joined(separator: ", ")))")
        say("missed engagements alerted: \(report.missed.count); sinks: \(report.sinks.emails) emails, \(report.sinks.sms) SMS, \(report.sinks.push) push, \(report.sinks.webhooks) webhooks, \(report.sinks.kafkaMessages) Kafka channel messages, \(report.sinks.duplicates) duplicates")
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
