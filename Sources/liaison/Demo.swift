import ArgumentParser
import Foundation
import LiaisonDemo
import LiaisonKafka
import LiaisonRuntime
import LiaisonSchema
import LiaisonSinks
import LiaisonStage

/// `liaison demo`: the whole fleet on the embedded broker, with no Kafka to install. Four stage
/// processes share one simulated clock; a bundled data set of weeks of upstream records is
/// replayed against it; deliveries reach SMTP and HTTP sinks on loopback; the rules and
/// notifier processes are killed and restarted mid-run; a live view shows progress and a
/// static HTML report what happened.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: all four stages as processes on the embedded broker, a bundled data set replayed on a simulated clock, then an HTML report.",
        discussion: """
            History (90 days of records) is published first while the clock stands still at the start \
            of the live day; then 20 simulated hours run at --rate simulated seconds per real second, \
            each record published when the clock reaches its time. The rules stage and the notifier \
            are SIGKILLed and restarted during the live phase. Everything lands in --state-dir: the \
            stages' SQLite files and logs, the sinks' mail, report.html and report.json.
            """)

    private static let profileType = "customer.profile.updated"

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Customers in the data set.")
    var customers = 300

    @Flag(help: "A short run for tests: 60 customers.")
    var short = false

    @Option(help: "Seed of the data set; the same seed gives the same records.")
    var seed: UInt64 = 2026

    @Option(help: "Simulated seconds per real second during the live phase.")
    var rate: Double = 600

    @Option(help: "Partitions of every topic.")
    var partitions: Int32 = 4

    @Option(help: "Directory for the stages' files, logs and the report (emptied first).")
    var stateDir = "demo-state"

    @Option(help: "The repository checkout, for schemas/ and deploy/ (rule pack, templates, example configuration).")
    var repository = "."

    @Flag(inversion: .prefixedNo, help: "Redraw a live view in the terminal (default: when standard output is a terminal).")
    var liveView: Bool?

    func validate() throws {
        guard rate > 0, rate <= 3_600 else { throw ValidationError("--rate must be above 0 and at most 3600 (an hour per second)") }
        guard customers >= 60 else { throw ValidationError("--customers must be at least 60, so that every scenario has its customers") }
    }

    func run() async throws {
        let paths = try DemoPaths(stateDir: stateDir, repository: repository)
        let timeline = DemoTimeline.standard
        let data = DemoDataSet(customers: short ? 60 : customers, seed: seed, timeline: timeline)
        let console = DemoConsole(live: liveView ?? (isatty(STDOUT_FILENO) == 1))
        let started = Date()

        let broker = try DemoBroker(cluster: cluster, topics: LiaisonTopics.all + data.topics, partitions: partitions)
        console.say(broker.description)

        let http = HTTPSink(configuration: HTTPSink.Configuration(keepsRequests: true))
        let smtp = SMTPSink(SMTPSink.Configuration(port: 0))
        try await http.start()
        try await smtp.start()
        console.say("sinks: SMTP on 127.0.0.1:\(smtp.port), HTTP provider on \(http.baseURL)")

        let clock = paths.state.appendingPathComponent("clock.json")
        try SimulatedClock.Setting(start: timeline.liveStart, runningSince: nil, rate: rate).write(to: clock)
        try paths.writeNotifierConfiguration(smtpPort: smtp.port, http: http)

        let run = UUID().uuidString.prefix(8).lowercased()
        let fleet = try DemoFleet(
            stages: paths.stages(upstream: data.topics, group: { "liaison-demo-\(run)-\($0)" }),
            // A killed stage's partitions move on after 6 s; the embedded broker holds an empty
            // fetch for its whole wait, so 50 ms keeps each hop short against a clock at 600x.
            common: [
                "--brokers", broker.bootstrap, "--state-dir", paths.stages.path, "--clock-file", clock.path,
                "--admin-port", "off", "--log-format", "json", "--batch-max-wait-ms", "20",
                "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500", "--kafka", "fetch.wait.max.ms=50",
            ] + cluster.kafka.flatMap { ["--kafka", $0] },
            logs: paths.logs)
        let lag = DemoLag(
            reader: LagReader(properties: try cluster.properties(brokers: broker.bootstrap)),
            stages: StageInputs.fleet(upstream: data.topics).map { StageInputs(stage: $0.stage, group: "liaison-demo-\(run)-\($0.stage)", topics: $0.topics) })
        let observer = DemoObserver()
        try observer.start(properties: try cluster.properties(brokers: broker.bootstrap))
        try fleet.startAll()
        console.say("started ingest, enrich, rules and notifier as processes; logs in \(paths.logs.path)")

        let files = FleetFiles(stateDirectory: paths.stages)
        var view = DemoView(console: console, fleet: fleet, files: files, observer: observer, lag: lag, started: started, rate: rate)
        let producer = try KafkaProducer(properties: try cluster.properties(brokers: broker.bootstrap))
        let history = data.records.prefix { $0.time < timeline.liveStart }
        let live = data.records.dropFirst(history.count)

        // Ingest reads its input topics independently, so a booking published with the profiles
        // could be judged before its customer is known; the profiles go first and settle.
        let profiles = history.filter { $0.type == Self.profileType }
        try producer.sendAndWait(profiles.map(\.outputRecord))
        try await view.waitUntilSettled(phase: "profiles", simulated: timeline.liveStart, expectedIngest: profiles.count, limit: 120)
        try producer.sendAndWait(history.filter { $0.type != Self.profileType }.map(\.outputRecord))
        view.note("published \(history.count) history records (\(data.customerCount) customers, 90 days); the clock stands at \(timeline.liveStart.isoMinute)")
        try await view.waitUntilSettled(phase: "history", simulated: timeline.liveStart, expectedIngest: history.count, limit: 300)

        try SimulatedClock.Setting(start: timeline.liveStart, runningSince: Date(), rate: rate).write(to: clock)
        let setting = try SimulatedClock.Setting.read(from: clock)
        view.note("live phase: \(Int(timeline.liveEnd.timeIntervalSince(timeline.liveStart) / 3600)) simulated hours at \(Int(rate))x")
        var pending = live[...]
        var outages = OutageSchedule(timeline: timeline)
        while true {
            let now = setting.time(atWall: Date())
            let due = pending.prefix { $0.time <= now }
            if !due.isEmpty {
                try producer.sendAndWait(due.map(\.outputRecord))
                pending = pending.dropFirst(due.count)
            }
            for step in outages.steps(at: now) {
                switch step {
                case let .kill(stage):
                    fleet.kill(stage)
                    view.note("\(stage) SIGKILLed at \(now.isoMinute) (simulated)")
                case let .restart(stage):
                    try fleet.start(stage)
                    view.note("\(stage) restarted at \(now.isoMinute) (simulated)")
                }
            }
            if let crash = fleet.unexpectedExit() {
                throw CommandFailure("\(crash.stage) exited with status \(crash.status):\n\(crash.logTail)")
            }
            if now >= timeline.liveEnd, pending.isEmpty { break }
            view.refresh(phase: "live", simulated: now)
            try await Task.sleep(for: .milliseconds(50))
        }
        try SimulatedClock.Setting(start: timeline.liveEnd, runningSince: nil, rate: rate).write(to: clock)
        try await view.waitUntilSettled(phase: "draining", simulated: timeline.liveEnd, expectedIngest: data.records.count, limit: 120)
        view.finish()

        fleet.stopAll()
        observer.stop()
        let decisions = files.ruleDecisions()
        let report = DemoReportBuilder(
            data: data, timeline: timeline, tally: observer.snapshot, decisions: decisions, files: files,
            restarts: fleet.restarts, outages: outages.happened, http: http, smtp: smtp,
            cluster: broker.description, rate: rate, wallSeconds: Date().timeIntervalSince(started)
        ).report()
        await http.stop()
        await smtp.stop()
        withExtendedLifetime(broker) {}

        let html = paths.state.appendingPathComponent("report.html")
        try Data(renderReportHTML(report).utf8).write(to: html)
        try report.jsonData().write(to: paths.state.appendingPathComponent("report.json"))
        console.summary(report)
        console.say("report: \(html.path)")
        let unmet = report.scenarios.filter { !$0.met }
        guard unmet.isEmpty, report.sinks.duplicates == 0 else {
            throw CommandFailure(
                "the run did not show everything it should: "
                    + (unmet.map { "scenario \($0.number) (\($0.title))" } + (report.sinks.duplicates > 0 ? ["\(report.sinks.duplicates) duplicate messages"] : []))
                    .joined(separator: ", ") + "; see the report and the logs in \(paths.logs.path)")
        }
    }
}

extension UpstreamRecord {
    var outputRecord: OutputRecord {
        OutputRecord(id: id, topic: topic, key: key, value: value)
    }
}

extension Date {
    var isoMinute: String { String(Timestamp(self).text.prefix(16)) + "Z" }
}

/// When the demo kills a stage and when it brings it back, on the simulated clock.
struct OutageSchedule {
    enum Step { case kill(String), restart(String) }

    private var plan: [(at: Date, step: Step, stage: String)]
    private(set) var happened: [Outage] = []
    private var killedAt: [String: Date] = [:]

    init(timeline: DemoTimeline) {
        plan = [
            (timeline.rulesOutage.lowerBound, .kill("rules"), "rules"), (timeline.rulesOutage.upperBound, .restart("rules"), "rules"),
            (timeline.notifierOutage.lowerBound, .kill("notifier"), "notifier"),
            (timeline.notifierOutage.upperBound, .restart("notifier"), "notifier"),
        ].sorted { $0.0 < $1.0 }
    }

    mutating func steps(at now: Date) -> [Step] {
        let due = plan.prefix { $0.at <= now }
        plan.removeFirst(due.count)
        for entry in due {
            switch entry.step {
            case .kill: killedAt[entry.stage] = now
            case .restart:
                happened.append(Outage(stage: entry.stage, from: killedAt[entry.stage] ?? now, to: now, how: "SIGKILL, restarted"))
            }
        }
        return due.map(\.step)
    }
}
