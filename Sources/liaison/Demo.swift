import ArgumentParser
import Foundation
import GRDB
import LiaisonKafka
import LiaisonSchema
import LiaisonStage

/// `liaison demo`: the fleet end to end on the embedded broker, with no Kafka to install.
/// For now the fleet is the counting stage, run as separate replicas sharing a state directory.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: upstream records through stage processes on the embedded broker, then a summary.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Customers in the generated upstream data.")
    var customers = 300

    @Option(help: "Upstream records to publish.")
    var records = 20_000

    @Option(help: "Stage replicas to run, each its own process.")
    var replicas = 2

    @Option(help: "Directory for the stages' SQLite files and logs (emptied first).")
    var stateDir = "demo-state"

    static let upstreamTopic = "demo.upstream.v1"
    static let countsTopic = "liaison.counts.v1"

    func run() async throws {
        let state = URL(fileURLWithPath: stateDir, isDirectory: true).standardizedFileURL
        try? FileManager.default.removeItem(at: state)
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)

        let topics = [Self.upstreamTopic, Self.countsTopic, LiaisonTopics.deadLetters]
        var embedded: EmbeddedBroker?
        let brokers: String
        if let configured = cluster.configuredBrokers {
            brokers = configured
            try KafkaAdmin(properties: try cluster.properties(brokers: brokers))
                .createTopics(topics.map { TopicSpec(name: $0, partitions: 4) })
            say("using the cluster at \(brokers)")
        } else {
            let broker = try EmbeddedBroker()
            for topic in topics { try broker.createTopic(topic, partitions: 4) }
            brokers = broker.bootstrapServers
            embedded = broker
            say("started the embedded broker at \(brokers) (in memory; pass --brokers for a real cluster)")
        }

        let stages = try (1...replicas).map { replica in
            try launchCounter(replica: replica, brokers: brokers, state: state)
        }
        defer {
            for stage in stages where stage.isRunning { stage.terminate() }
        }
        say("started \(replicas) counting-stage processes; logs in \(state.path)")

        let badRecords = max(1, records / 2_000)
        try publish(brokers: brokers, badRecords: badRecords)
        say("published \(records) upstream records for \(customers) customers, \(badRecords) of them without a customer key")

        let expected = records
        let progress = ProgressReader(state: state.appendingPathComponent("counter"))
        let started = Date()
        var last = progress.read()
        while last.accepted + last.rejected < expected, Date().timeIntervalSince(started) < 180 {
            let line = "  processed \(last.accepted + last.rejected)/\(expected)  accepted \(last.accepted)  dead-lettered \(last.rejected)"
            write("\r\(line)")
            try await Task.sleep(for: .milliseconds(500))
            last = progress.read()
        }
        write("\r  processed \(last.accepted + last.rejected)/\(expected)  accepted \(last.accepted)  dead-lettered \(last.rejected)\n")

        for stage in stages { stage.terminate() }
        for stage in stages { stage.waitUntilExit() }
        withExtendedLifetime(embedded) {}

        let summary = progress.read()
        say("")
        say("customers counted: \(summary.counts.count), records counted: \(summary.counts.values.reduce(0, +))")
        for (customer, count) in summary.counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(5) {
            say("  \(customer): \(count)")
        }
        say("dead letters by reason:")
        for (reason, count) in summary.reasons.sorted(by: { $0.key < $1.key }) {
            say("  \(reason): \(count)")
        }
        say("state files: \(state.appendingPathComponent("counter").path)")
        guard summary.accepted + summary.rejected == expected else {
            throw ValidationError("only \(summary.accepted + summary.rejected) of \(expected) records were processed in time; see the logs")
        }
        say("every record was counted once or dead-lettered with its reason")
    }

    private func launchCounter(replica: Int, brokers: String, state: URL) throws -> Process {
        guard let executable = Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("liaison-counter"),
            FileManager.default.isExecutableFile(atPath: executable.path)
        else {
            throw ValidationError("liaison-counter is not built next to liaison: run `swift build` first")
        }
        let log = state.appendingPathComponent("counter-\(replica).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--brokers", brokers, "--input", Self.upstreamTopic, "--output", Self.countsTopic,
            "--state-dir", state.path, "--admin-port", "off", "--log-format", "json",
            "--kafka", "max.poll.interval.ms=10000", "--kafka", "session.timeout.ms=6000",
        ]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    private func publish(brokers: String, badRecords: Int) throws {
        let producer = try KafkaProducer(properties: try cluster.properties(brokers: brokers))
        var batch: [OutputRecord] = []
        for index in 0..<records {
            let customer = "cust-\(index % customers)"
            let withoutKey = index % (records / badRecords) == records / badRecords - 1
            let value = #"{"specversion":"1.0","id":"txn-\#(index)","source":"core-banking","type":"banking.transaction.posted","subject":"\#(customer)"}"#
            batch.append(OutputRecord(
                id: "txn-\(index)", topic: Self.upstreamTopic, key: withoutKey ? nil : Array(customer.utf8), value: Array(value.utf8)))
        }
        try producer.sendAndWait(batch)
    }
}

/// Reads the counting stage's partition files while the stages write them.
struct ProgressReader {
    let state: URL

    struct Snapshot {
        var accepted = 0
        var rejected = 0
        var counts: [String: Int64] = [:]
        var reasons: [String: Int] = [:]
    }

    func read() -> Snapshot {
        var snapshot = Snapshot()
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: state.path)) ?? []).filter { $0.hasSuffix(".sqlite") }
        for file in files {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            try? DatabaseQueue(path: state.appendingPathComponent(file).path, configuration: configuration).read { db in
                guard try db.tableExists("counter_counts") else { return }
                for row in try Row.fetchAll(db, sql: "SELECT verdict, reason, COUNT(*) AS n FROM liaison_ledger GROUP BY verdict, reason") {
                    let count: Int = row["n"]
                    if row["verdict"] == Verdict.rejected.rawValue {
                        snapshot.rejected += count
                        let reason: String = row["reason"] ?? "unknown"
                        snapshot.reasons[String(reason.prefix { $0 != ":" }), default: 0] += count
                    } else {
                        snapshot.accepted += count
                    }
                }
                for row in try Row.fetchAll(db, sql: "SELECT key, count FROM counter_counts") {
                    snapshot.counts[row["key"], default: 0] += row["count"] as Int64
                }
            }
        }
        return snapshot
    }
}

/// Writes straight to standard output, unbuffered, so the progress line and the rest keep their order.
private func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

private func say(_ line: String) {
    write(line + "\n")
}
