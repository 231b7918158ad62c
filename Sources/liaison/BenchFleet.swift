import ArgumentParser
import Foundation
import LiaisonKafka
import LiaisonRuntime
import LiaisonSchema
import LiaisonStage
import Logging
import Synchronization

/// The fleet as `bench fleet` runs it: topics of its own, the four stages as processes with
/// their state in a temporary directory, SMS going to a local provider, and a reader of the
/// receipts; plus the topics of the raw chain it is compared with.
final class BenchFleet {
    static let stages = ["ingest", "enrich", "rules", "notifier"]

    struct Topics {
        let upstream, events, enriched, actions, deliveries, deadLetters, alerts, agentTasks, crm, inbox: String

        init(run: String) {
            let name: (String) -> String = { "bench.fleet-\($0)-\(run)" }
            (upstream, events, enriched, actions, deliveries) = (name("upstream"), name("events"), name("enriched"), name("actions"), name("deliveries"))
            (deadLetters, alerts, agentTasks, crm, inbox) = (name("dlq"), name("alerts"), name("agent"), name("crm"), name("inbox"))
        }

        var all: [String] { [upstream, events, enriched, actions, deliveries, deadLetters, alerts, agentTasks, crm, inbox] }
    }

    let run: String
    let topics: Topics
    /// The raw chain's five topics: records go in the first and come out of the last.
    let chain: [String]
    let receipts: ReceiptWatcher
    private let state: URL
    private let processes: DemoFleet
    private let producer: KafkaProducer
    /// When each record published at a pace went out, by id, in uptime nanoseconds.
    private(set) var publishedAt: [String: UInt64] = [:]

    init(properties: KafkaProperties, options: BenchOptions, repository: String, smsURL: String, smtpPort: Int, batchWaitMs: Int) throws {
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        run = runID
        topics = Topics(run: runID)
        chain = (0...4).map { "bench.chain\($0)-\(runID)" }
        try KafkaAdmin(properties: properties).createTopics((topics.all + chain).map { TopicSpec(name: $0, partitions: options.partitions) })
        state = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-bench-fleet-\(runID)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: repository, isDirectory: true).standardizedFileURL
        let pack = root.appendingPathComponent("schemas/rules/default.yaml")
        let templates = root.appendingPathComponent("schemas/templates")
        guard FileManager.default.fileExists(atPath: pack.path), FileManager.default.fileExists(atPath: templates.path) else {
            throw ValidationError("schemas/rules/default.yaml and schemas/templates are not under \(root.path): run from the repository or pass --repository")
        }
        let notifierFile = state.appendingPathComponent("notifier.yaml")
        try Data("""
            templates: \(templates.path)
            default_locale: en
            ladders: { service: [sms] }
            max_in_flight: 200
            retry: { initial: 200ms, max_delay: 2s, attempts_per_channel: 10 }
            topics: { receipts: \(topics.deliveries), alerts: \(topics.alerts), agent_tasks: \(topics.agentTasks), crm: \(topics.crm), inbox: \(topics.inbox) }
            providers:
              email: { host: 127.0.0.1, port: \(smtpPort), security: plain, from: bench@liaison.test }
              sms: { url: "\(smsURL)", idempotency_header: Idempotency-Key, body: { to: address, text: text }, message_id_field: id, timeout: 10s }

            """.utf8).write(to: notifierFile)
        var common = [
            "--brokers", properties["bootstrap.servers"] ?? "", "--dlq-topic", topics.deadLetters, "--state-dir", state.path,
            "--admin-port", "off", "--log-format", "json", "--batch-max-records", "\(options.batchMaxRecords)",
            "--batch-max-wait-ms", "\(batchWaitMs)",
        ]
        for (key, value) in benchGroupProperties { common += ["--kafka", "\(key)=\(value)"] }
        for property in options.cluster.kafka { common += ["--kafka", property] }
        let group: (String) -> String = { "bench-fleet-\($0)-\(runID)" }
        processes = try DemoFleet(
            stages: [
                DemoFleet.Stage(
                    name: "ingest", executable: "liaison-ingest",
                    arguments: ["--group", group("ingest"), "--input", topics.upstream, "--output", topics.events]),
                DemoFleet.Stage(
                    name: "enrich", executable: "liaison-enrich",
                    arguments: [
                        "--group", group("enrich"), "--input", topics.events, "--input", topics.deliveries, "--deliveries", topics.deliveries,
                        "--output", topics.enriched,
                    ]),
                DemoFleet.Stage(
                    name: "rules", executable: "liaison-rules",
                    arguments: ["--group", group("rules"), "--input", topics.enriched, "--output", topics.actions, "--rules", pack.path]),
                DemoFleet.Stage(
                    name: "notifier", executable: "liaison-notifier",
                    arguments: ["--group", group("notifier"), "--input", topics.actions, "--notifier-config", notifierFile.path]),
            ],
            common: common, logs: state.appendingPathComponent("logs"))
        producer = try KafkaProducer(properties: properties)
        receipts = try ReceiptWatcher(properties: properties, topic: topics.deliveries)
    }

    func start() throws {
        try processes.startAll()
    }

    /// SIGTERM to the stages, then the receipts reader; the state directory goes.
    func stop() {
        processes.stopAll()
        receipts.stop()
        try? FileManager.default.removeItem(at: state)
    }

    /// Publishes the workload's records in `range` to each topic, as fast as the producer goes.
    func publish(_ range: Range<Int>, of workload: FleetWorkload, to topics: [String]) throws {
        for start in stride(from: range.lowerBound, to: range.upperBound, by: 10_000) {
            try producer.send(workload.records(start..<min(start + 10_000, range.upperBound), topics: topics))
        }
        try producer.flush(timeout: .seconds(300))
    }

    /// Publishes a hundredth of a second's records at a time; with `notingTimes`, notes when
    /// each went out for the latency figures.
    func publish(paced records: [OutputRecord], perSecond rate: Double, notingTimes: Bool) throws {
        let slice = max(1, Int(rate / 100))
        let started = ContinuousClock.now
        for (number, start) in stride(from: 0, to: records.count, by: slice).enumerated() {
            let due = started + .milliseconds(number * 10)
            if ContinuousClock.now < due { Thread.sleep(forTimeInterval: (due - ContinuousClock.now).timeInterval) }
            let part = Array(records[start..<min(start + slice, records.count)])
            if notingTimes {
                let now = DispatchTime.now().uptimeNanoseconds
                for record in part { publishedAt[record.id] = now }
            }
            try producer.send(part)
        }
        try producer.flush(timeout: .seconds(60))
    }

    /// Waits until rules has decided `decisions` records and `sent` deliveries have a sent
    /// receipt; a stage that exits on its own ends the wait with its log.
    func waitUntilThrough(decisions: Int, sent: Int, timeout: Duration) throws {
        let files = FleetFiles(stateDirectory: state)
        let deadline = ContinuousClock.now + timeout
        var decided = 0
        while ContinuousClock.now < deadline {
            if let exit = processes.unexpectedExit() {
                throw CommandFailure("\(exit.stage) exited with status \(exit.status):\n\(exit.logTail)")
            }
            if receipts.sentCount >= sent {
                decided = files.ledgerCounts(of: "rules").processed
                if decided >= decisions { return }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CommandFailure(
            "the fleet did not get through in time: \(decided) of \(decisions) records decided, \(receipts.sentCount) of \(sent) sent; "
                + "the stages' logs are in \(state.appendingPathComponent("logs").path)")
    }

    /// Each running stage's resident megabytes now.
    func residentMegabytes() -> [String: Double] {
        memory { $0.resident }
    }

    /// Each running stage's peak resident megabytes so far.
    func peakResidentMegabytes() -> [String: Double] {
        memory { $0.peak }
    }

    private func memory(_ pick: ((resident: Double, peak: Double)) -> Double) -> [String: Double] {
        var megabytes: [String: Double] = [:]
        for stage in Self.stages {
            guard let pid = processes.processIdentifier(of: stage), let memory = ResidentMemoryCurve.read(processIdentifier: pid) else { continue }
            megabytes[stage] = pick(memory)
        }
        return megabytes
    }
}

/// Reads the delivery receipts as they come, in a group of its own from the topic's start:
/// which actions have been sent, and when each sent receipt arrived.
final class ReceiptWatcher: Sendable {
    private struct Seen {
        var sent = Set<String>()
        /// Upstream record id (the action id's last `|` part) → arrival, uptime nanoseconds.
        var arrivals: [String: UInt64] = [:]
        var stopping = false
    }

    private let seen = Mutex(Seen())
    private let finished = DispatchSemaphore(value: 0)

    init(properties: KafkaProperties, topic: String) throws {
        let subscribed = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread { [self] in
            let consumer: KafkaConsumer
            do {
                consumer = try KafkaConsumer(
                    properties: properties.merging(benchGroupProperties).merging([
                        "group.id": "bench-fleet-receipts-\(UUID().uuidString)", "auto.offset.reset": "earliest",
                    ]),
                    listener: CommittedOffsetsListener(), logger: Logger(label: "bench"))
                try consumer.subscribe([topic])
            } catch {
                failure.withLock { $0 = error }
                subscribed.signal()
                finished.signal()
                return
            }
            subscribed.signal()
            let decoder = JSONValueDecoder()
            while !seen.withLock({ $0.stopping }) {
                guard let record = try? consumer.poll(timeoutMs: 100),
                    let receipt = try? decoder.decode(DeliveryReceiptV1.self, from: record.value), receipt.status == .sent
                else { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                let upstreamID = receipt.actionId.split(separator: "|").last.map(String.init) ?? receipt.actionId
                seen.withLock { seen in
                    guard seen.sent.insert(receipt.actionId).inserted else { return }
                    seen.arrivals[upstreamID] = now
                }
            }
            consumer.close()
            finished.signal()
        }
        subscribed.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    var sentCount: Int { seen.withLock { $0.sent.count } }

    /// Publish → sent receipt, for the records whose publishing time is known.
    func latencies(publishedAt: [String: UInt64]) -> LatencySamples {
        let arrivals = seen.withLock { $0.arrivals }
        let samples = LatencySamples(capacity: publishedAt.count)
        for (id, published) in publishedAt {
            guard let arrived = arrivals[id] else { continue }
            samples.add(.nanoseconds(Int64(arrived > published ? arrived - published : 0)))
        }
        return samples
    }

    func stop() {
        seen.withLock { $0.stopping = true }
        finished.wait()
    }
}

/// Four bare consume→produce loops, each its own consumer group on its own thread, chained
/// over topics: what four hops cost with librdkafka alone.
struct RawChain {
    let properties: KafkaProperties
    let topics: [String]
    let records: Int

    /// Records per second from starting the hops until the last record left the fourth.
    func run() throws -> Double {
        let started = ContinuousClock.now
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for hop in 0..<topics.count - 1 {
            group.enter()
            Thread.detachNewThread {
                do {
                    try passOn(from: topics[hop], to: topics[hop + 1], group: "bench-chain\(hop)-\(UUID().uuidString)")
                } catch {
                    failures.withLock { $0.append("hop \(hop + 1): \(error)") }
                }
                group.leave()
            }
        }
        group.wait()
        if let failure = failures.withLock({ $0.first }) { throw CommandFailure("the raw chain failed: \(failure)") }
        return Double(records) / (ContinuousClock.now - started).timeInterval
    }

    private func passOn(from input: String, to output: String, group: String) throws {
        let consumer = try KafkaConsumer(
            properties: properties.merging(benchGroupProperties).merging(["group.id": group, "auto.offset.reset": "earliest"]),
            listener: CommittedOffsetsListener(), logger: Logger(label: "bench"))
        defer { consumer.close() }
        try consumer.subscribe([input])
        let producer = try KafkaProducer(properties: properties)
        var passed = 0
        var chunk: [OutputRecord] = []
        let deadline = ContinuousClock.now + .seconds(600)
        while passed < records, ContinuousClock.now < deadline {
            guard let record = try consumer.poll(timeoutMs: 100) else {
                if !chunk.isEmpty {
                    try producer.send(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
                continue
            }
            chunk.append(OutputRecord(id: record.defaultID, topic: output, key: record.key, value: record.value, headers: record.headers))
            passed += 1
            if chunk.count == 1_000 || passed == records {
                try producer.send(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try producer.flush(timeout: .seconds(300))
        guard passed == records else { throw CommandFailure("passed on \(passed) of \(records) records within 10 minutes") }
    }
}
