import ArgumentParser
import Foundation
import Ingest
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import Logging
import Notifier
import NotifierRuntime
import Rules

/// `liaison replay`: a topic range copied into another topic, or run through one stage in a
/// sandbox, or backtested through rules and notifier against what was really sent.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a topic range into another topic, or run it through a stage in a sandbox and print what it would emit.",
        discussion: """
            The range is per partition: --from-offset/--to-offset (to is exclusive), or --from-time/--to-time \
            (ISO 8601, by the records' broker timestamps); without them, everything up to the partition's \
            current end. --key and --type keep only matching records (type: the CloudEvents `type`, or a \
            Liaison record's `type`). With --to-topic the records are produced unchanged (key, value, \
            headers), at most --rate per second. With --through STAGE (ingest, rules or notifier) they go \
            through that stage's own logic in this process, with a throw-away state that starts empty, no \
            consumer group, no checkpoints and no deliveries, and what it would emit is printed. \
            --shadow runs enriched events through rules (optionally a new pack with --rules) and the \
            notifier's intake, and compares the actions it would take with those on liaison.actions.v1.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "The topic to read.")
    var topic: String

    @Option(name: .customLong("partition"), help: "A partition to read, repeatable (default: all).")
    var partitions: [Int32] = []

    @Option(help: "First offset to read in each partition.")
    var fromOffset: Int64?

    @Option(help: "Stop before this offset in each partition.")
    var toOffset: Int64?

    @Option(help: "Start at the first record at or after this time (ISO 8601).")
    var fromTime: String?

    @Option(help: "Stop at the first record at or after this time (ISO 8601).")
    var toTime: String?

    @Option(help: "Keep only records with this key.")
    var key: String?

    @Option(help: "Keep only records of this type.")
    var type: String?

    @Option(help: "Produce the records into this topic.")
    var toTopic: String?

    @Option(help: "Run the records through this stage in a sandbox: ingest, rules or notifier.")
    var through: String?

    @Flag(help: "Backtest: enriched events through rules and notifier intake, compared with the actions really taken.")
    var shadow = false

    @Option(help: "The rule pack for --through rules and --shadow (default schemas/rules/default.yaml).")
    var rules = "schemas/rules/default.yaml"

    @Option(help: "The ingest file for --through ingest (env LIAISON_INGEST_CONFIG).")
    var ingestConfig: String?

    @Option(help: "The notifier file for --through notifier and --shadow (env LIAISON_NOTIFIER_CONFIG; default deploy/notifier.yaml).")
    var notifierConfig: String?

    @Option(help: "Most records per second (default: as fast as possible).")
    var rate: Double?

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        let modes = [toTopic != nil, through != nil, shadow].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("choose one of --to-topic, --through STAGE and --shadow") }
        if let through, !["ingest", "rules", "notifier"].contains(through) {
            throw ValidationError("--through must be ingest, rules or notifier, got '\(through)'")
        }
        guard fromOffset == nil || fromTime == nil else { throw ValidationError("give --from-offset or --from-time, not both") }
        guard toOffset == nil || toTime == nil else { throw ValidationError("give --to-offset or --to-time, not both") }
        for (flag, text) in [("--from-time", fromTime), ("--to-time", toTime)] {
            if let text, Timestamp(text) == nil { throw ValidationError("\(flag): '\(text)' is not an ISO 8601 time") }
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be above 0") }
    }

    func run() async throws {
        let properties = try cluster.properties(brokers: try cluster.requiredBrokers())
        let range = try TopicRange.resolve(
            topic: topic, partitions: partitions, properties: properties,
            from: fromOffset.map(RangeBound.offset) ?? fromTime.flatMap { Timestamp($0) }.map { .time($0.epochMilliseconds) },
            to: toOffset.map(RangeBound.offset) ?? toTime.flatMap { Timestamp($0) }.map { .time($0.epochMilliseconds) })
        let filter = RecordFilter(key: key, type: type)
        var progress = ReplayProgress(total: range.estimatedTotal, quiet: quiet)
        if let toTopic {
            let producer = try KafkaProducer(properties: properties)
            var copied = 0
            var batch: [OutputRecord] = []
            var pacer = Pacer(rate: rate)
            try range.read(properties: properties) { record in
                progress.advance()
                guard filter.keeps(record) else { return }
                batch.append(OutputRecord(id: record.defaultID, topic: toTopic, key: record.key, value: record.value, headers: record.headers))
                copied += 1
                pacer.wait()
                if batch.count >= 500 {
                    try producer.sendAndWait(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try producer.sendAndWait(batch)
            progress.finish()
            print("copied \(copied) of \(progress.done) records from \(topic) to \(toTopic)")
            return
        }
        var selected: [InputRecord] = []
        var pacer = Pacer(rate: rate)
        try range.read(properties: properties) { record in
            progress.advance()
            if filter.keeps(record) {
                selected.append(record)
                pacer.wait()
            }
        }
        progress.finish()
        if shadow {
            try Backtest(pack: try loadPack(), notifier: try loadNotifier(), properties: properties).run(selected)
            return
        }
        let emitted: Sandbox.Outcome
        switch through {
        case "ingest":
            let stage = IngestStage(configuration: try IngestConfiguration.given(ingestConfig)) { Date().epochMilliseconds }
            emitted = Sandbox.run(stage, state: NoState(), selected)
        case "rules":
            emitted = Sandbox.run(RulesStage(pack: try loadPack()), state: RulesState(), selected)
        default:
            let notifier = try loadNotifier()
            emitted = Sandbox.run(NotifierStage(policy: notifier.policy, topics: notifier.topics), state: NotifierState(), selected)
        }
        emitted.print(stage: through ?? "")
    }

    private func loadPack() throws -> RulePack {
        do {
            return try RulePack(file: rules)
        } catch {
            throw ValidationError("the rule pack \(rules) does not load:\n\(error)")
        }
    }

    private func loadNotifier() throws -> NotifierConfiguration {
        let path = notifierConfig ?? ProcessInfo.processInfo.environment["LIAISON_NOTIFIER_CONFIG"] ?? "deploy/notifier.yaml"
        do {
            return try NotifierConfiguration(file: path, environment: dryRunEnvironment(for: path))
        } catch {
            throw ValidationError("the notifier file \(path) does not load:\n\(error)")
        }
    }
}

/// The environment, plus a stand-in for every `${NAME}` the file names that is not set: a
/// sandbox never calls a provider, so it needs their settings to load, not to work.
func dryRunEnvironment(for path: String) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    for match in text.matches(of: /\$\{([A-Za-z0-9_]+)\}/) where environment[String(match.1)] == nil {
        let name = String(match.1)
        environment[name] = name.hasSuffix("_URL") ? "http://127.0.0.1:9/dry-run" : name.hasSuffix("_HOST") ? "127.0.0.1" : "dry-run"
    }
    return environment
}

enum RangeBound {
    case offset(Int64)
    case time(Int64)
}

/// The offsets to read per partition, fixed before reading starts so a busy topic still ends.
/// An open end is the partition's high watermark as the fetches report it while reading
/// (some Kafka-protocol brokers answer offset queries for the end with a batch's base offset).
struct TopicRange {
    var starts: [TopicPartition: Int64]
    /// Exclusive ends given by --to-offset or --to-time; absent: the end of the partition.
    var ends: [TopicPartition: Int64]
    /// The partitions' ends as first asked, for the progress bar only.
    var estimatedTotal: Int
    /// Time bounds, checked on every record's timestamp too: the offset lookup only says where to start.
    var fromTimeMs: Int64?
    var toTimeMs: Int64?

    static func resolve(topic: String, partitions: [Int32], properties: KafkaProperties, from: RangeBound?, to: RangeBound?) throws -> TopicRange {
        let admin = try KafkaAdmin(properties: properties)
        let count = try admin.partitionCount(topic)
        for partition in partitions where !(0..<count).contains(partition) {
            throw ValidationError("\(topic) has partitions 0 to \(count - 1), not \(partition)")
        }
        let chosen = (partitions.isEmpty ? Array(0..<count) : partitions).map { TopicPartition(topic: topic, partition: $0) }
        let consumer = try toolConsumer(properties)
        defer { consumer.close() }
        var range = TopicRange(starts: [:], ends: [:], estimatedTotal: 0)
        if case let .time(ms)? = from { range.fromTimeMs = ms }
        if case let .time(ms)? = to { range.toTimeMs = ms }
        var highs: [TopicPartition: Int64] = [:]
        for partition in chosen {
            let marks = try admin.watermarks(partition)
            range.starts[partition] = marks.low
            highs[partition] = marks.high
        }
        func offsets(_ bound: RangeBound) throws -> [TopicPartition: Int64] {
            switch bound {
            case let .offset(offset): return Dictionary(uniqueKeysWithValues: chosen.map { ($0, offset) })
            case let .time(ms): return try consumer.offsets(atOrAfterMs: ms, chosen)
            }
        }
        if let from {
            let found = try offsets(from)
            for partition in chosen {
                range.starts[partition] = found[partition].map { max($0, range.starts[partition]!) } ?? .max
            }
        }
        if let to {
            let found = try offsets(to)
            for partition in chosen {
                if let end = found[partition] { range.ends[partition] = max(end, range.starts[partition]!) }
            }
        }
        range.estimatedTotal = chosen.reduce(0) { total, partition in
            let start = range.starts[partition]!
            return start == .max ? total : total + Int(max(0, (range.ends[partition] ?? highs[partition]!) - start))
        }
        return range
    }

    /// Reads every record the topic holds now, each partition in offset order up to its end;
    /// returns the range read.
    @discardableResult
    static func readWhole(_ topic: String, properties: KafkaProperties, _ body: (InputRecord) throws -> Void) throws -> TopicRange {
        let range = try resolve(topic: topic, partitions: [], properties: properties, from: nil, to: nil)
        try range.read(properties: properties, body)
        return range
    }

    /// Reads every record of the range, each partition in offset order.
    func read(properties: KafkaProperties, _ body: (InputRecord) throws -> Void) throws {
        var remaining = Set(starts.filter { $0.value != .max && $0.value < (ends[$0.key] ?? .max) }.keys)
        guard !remaining.isEmpty else { return }
        let consumer = try toolConsumer(properties)
        defer { consumer.close() }
        try consumer.assign(starts.filter { remaining.contains($0.key) })
        var next = starts
        var quietSince = Date()
        while !remaining.isEmpty {
            if let record = try consumer.poll(timeoutMs: 100) {
                quietSince = Date()
                let partition = TopicPartition(topic: record.position.topic, partition: record.position.partition)
                guard remaining.contains(partition), record.position.offset < (ends[partition] ?? .max) else { continue }
                next[partition] = record.position.offset + 1
                let time = record.timestampMs ?? 0
                if let toTimeMs, time >= toTimeMs {
                    remaining.remove(partition)
                    continue
                }
                if let fromTimeMs, time < fromTimeMs { continue }
                try body(record)
            } else if Date().timeIntervalSince(quietSince) > 30 {
                throw ValidationError("no records arrived for 30 s while reading \(remaining.map(\.description).sorted().joined(separator: ", "))")
            }
            for partition in remaining {
                let end = ends[partition] ?? consumer.cachedHighWatermark(partition) ?? .max
                if next[partition]! >= end { remaining.remove(partition) }
            }
        }
    }
}

/// A consumer for tools that assign partitions themselves: a group of its own that never
/// commits, so it neither disturbs nor is disturbed by the stages' groups.
func toolConsumer(_ properties: KafkaProperties) throws(KafkaError) -> KafkaConsumer {
    try KafkaConsumer(
        properties: properties.merging(["group.id": "liaison-tool-\(UUID().uuidString)"]), listener: CommittedOffsetsListener(),
        logger: Logger(label: "liaison.tool"))
}

/// Keeps records by key and by record type.
struct RecordFilter {
    var key: String?
    var type: String?

    func keeps(_ record: InputRecord) -> Bool {
        if let key, record.keyString != key { return false }
        guard let type else { return true }
        if let header = record.header("ce_type") { return String(decoding: header, as: UTF8.self) == type }
        guard case let .object(object)? = try? JSONParser().parse(record.value), case let .string(found)? = object["type"] else { return false }
        return found == type
    }
}

/// Holds a loop to a rate by sleeping between records.
struct Pacer {
    let rate: Double?
    private var started = ContinuousClock.now
    private var count = 0

    init(rate: Double?) {
        self.rate = rate
    }

    mutating func wait() {
        guard let rate else { return }
        count += 1
        let due = started + .seconds(Double(count) / rate)
        let now = ContinuousClock.now
        if due > now { Thread.sleep(forTimeInterval: (due - now).timeInterval) }
    }
}

/// A progress bar on standard error: done, total, rate and time left.
struct ReplayProgress {
    let total: Int
    let quiet: Bool
    private(set) var done = 0
    private let started = Date()
    private var drawnAt = Date.distantPast

    init(total: Int, quiet: Bool) {
        self.total = total
        self.quiet = quiet || isatty(STDERR_FILENO) != 1
    }

    mutating func advance() {
        done += 1
        guard !quiet, Date().timeIntervalSince(drawnAt) >= 0.2 || done == total else { return }
        drawnAt = Date()
        let elapsed = max(0.001, Date().timeIntervalSince(started))
        let rate = Double(done) / elapsed
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let filled = Int(fraction * 30)
        let eta = rate > 0 ? Double(max(0, total - done)) / rate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)  \(Int(rate))/s  ETA \(Int(eta)) s ".utf8))
    }

    func finish() {
        guard !quiet else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
