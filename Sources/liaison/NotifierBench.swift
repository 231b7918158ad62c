import ArgumentParser
import AsyncHTTPClient
import Foundation
import LiaisonKafka
import LiaisonRuntime
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import Logging
import Notifier
import NotifierRuntime
import NotifierStore
import NIOCore
import Synchronization

/// `liaison bench notifier`: SMS deliveries through the whole notifier (actions consumed, the
/// delivery ledger written with synchronous=FULL before and after every provider call, receipts
/// produced) against a bare HTTP client loop sending the same requests to the same local sink
/// at the same concurrency, in the same run.
struct NotifierBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifier",
        abstract: "A bare HTTP client loop versus the notifier delivering SMS to a local HTTP sink, with the same concurrency.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Deliveries to make in each loop.")
    var deliveries = 20_000

    @Option(help: "Requests in flight at once, in both loops.")
    var inFlight = 200

    @Option(help: "Partitions of the action topic.")
    var partitions: Int32 = 4

    @Option(help: "The template folder.")
    var templates = "schemas/templates"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() async throws {
        let sink = HTTPSink(configuration: HTTPSink.Configuration(keepsRequests: false, logger: HTTPSink.quietLogger))
        try await sink.start()
        progress("HTTP sink at \(sink.baseURL); bare client loop, \(deliveries) requests, \(inFlight) in flight")
        let client = NotifierAssembly.httpClient(maxInFlight: inFlight)
        let baseline = try await bareClientLoop(url: sink.url("/sms"), client: client)
        let baselineDeliveries = sink.deliveries
        progress("notifier, \(deliveries) actions")
        let measured = try await notifierRun(sink: sink, client: client)
        try await client.shutdown()
        await sink.stop()
        guard sink.deliveries - baselineDeliveries >= deliveries else {
            throw ValidationError("the sink saw \(sink.deliveries - baselineDeliveries) of \(deliveries) notifier deliveries")
        }
        let result = BenchResult(
            baselinePerSecond: baseline.perSecond, throughputPerSecond: measured.perSecond, p50Ms: measured.percentile(0.5),
            p99Ms: measured.percentile(0.99), rssMB: peakResidentMegabytes())
        if json {
            print(result.json)
        } else {
            print("""
                deliveries:         \(deliveries) SMS to a local HTTP sink, \(inFlight) in flight
                bare client loop:   \(Int(baseline.perSecond)) requests/s, p50 \(format(baseline.percentile(0.5))) ms, p99 \(format(baseline.percentile(0.99))) ms
                notifier:           \(Int(measured.perSecond)) deliveries/s with the ledger (synchronous=FULL) and receipts
                ratio:              \(String(format: "%.3f", result.ratio))
                latency queued→sent durable: p50 \(format(result.p50Ms)) ms, p99 \(format(result.p99Ms)) ms
                peak RSS:           \(String(format: "%.1f", result.rssMB)) MB
                """)
        }
    }

    private func format(_ milliseconds: Double) -> String { String(format: "%.2f", milliseconds) }

    private func progress(_ message: String) {
        FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
    }

    /// The same request the notifier's SMS channel sends, from `inFlight` workers in a loop.
    private func bareClientLoop(url: String, client: HTTPClient) async throws -> LatencySamples {
        let samples = LatencySamples(capacity: deliveries)
        let next = RequestNumbers()
        let total = deliveries
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    while true {
                        let index = next.take()
                        guard index < total else { return }
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Idempotency-Key", value: "bare-\(index)/sms")
                        let body = #"{"to":"+4915112345678","text":"Your mobile deposit of 250 EUR was received.","reference":"bare-\#(index)/sms"}"#
                        request.body = .bytes(ByteBuffer(string: body))
                        let sent = ContinuousClock.now
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        guard response.status == .ok else { throw ValidationError("the sink answered \(response.status)") }
                        samples.add(ContinuousClock.now - sent)
                    }
                }
            }
            try await group.waitForAll()
        }
        samples.finish(elapsed: ContinuousClock.now - started)
        return samples
    }

    private func notifierRun(sink: HTTPSink, client: HTTPClient) async throws -> LatencySamples {
        let brokers = try cluster.requiredBrokers()
        let properties = try cluster.properties(brokers: brokers)
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let actions = "bench.actions-\(run)"
        let topics = NotifierTopics(
            receipts: "bench.deliveries-\(run)", alerts: "bench.alerts-\(run)", deadLetters: "bench.dlq-\(run)",
            agentTasks: "bench.agent-\(run)", crm: "bench.crm-\(run)", inbox: "bench.inbox-\(run)")
        try KafkaAdmin(properties: properties).createTopics(
            [actions, topics.receipts, topics.alerts, topics.deadLetters].map { TopicSpec(name: $0, partitions: partitions) })
        try publishActions(to: actions, properties: properties)

        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        let settings = RuntimeSettings(
            brokers: brokers,
            kafka: properties.values.filter { $0.key != "bootstrap.servers" }.merging(["max.poll.interval.ms": "10000", "session.timeout.ms": "6000"]) { _, new in new },
            stateDirectory: stateDirectory, groupID: "bench-notifier-\(run)", inputTopics: [actions], deadLetterTopic: topics.deadLetters,
            durability: .full)
        let configuration = try NotifierConfiguration(
            yaml: """
                templates: \(URL(fileURLWithPath: templates).standardizedFileURL.path)
                ladders: { service: [sms] }
                max_in_flight: \(inFlight)
                topics: { receipts: \(topics.receipts), alerts: \(topics.alerts), agent_tasks: \(topics.agentTasks), crm: \(topics.crm), inbox: \(topics.inbox) }
                providers:
                  sms:
                    url: \(sink.url("/sms"))
                    body: { to: address, text: text, reference: idempotencyKey }
                    message_id_field: id
                """,
            origin: "bench", baseDirectory: URL(fileURLWithPath: "."), environment: [:])
        let catalog = try TemplateCatalog(directory: configuration.templatesDirectory)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let samples = LatencySamples(capacity: deliveries)
        let firstDue = Mutex<Date?>(nil)
        let engine = try NotifierAssembly.engine(
            configuration: configuration, catalog: catalog, settings: settings, logger: logger, httpClient: client
        ) { settlements, at in
            for settlement in settlements where settlement.status == .sent {
                let due = settlement.delivery.dueAt
                firstDue.withLock { $0 = min($0 ?? due, due) }
                samples.add(.milliseconds(Int64(at.timeIntervalSince(due) * 1000)))
            }
        }
        let stage = NotifierStage(policy: configuration.policy, topics: configuration.topics)
        let runtime = try StageRuntime(
            stage: stage, persistence: NotifierPersistence(contactRetentionSeconds: 0), settings: settings, logger: logger, companion: engine)
        let engineTask = Task { try await engine.run() }
        let failure = Mutex<(any Error)?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { try runtime.run() } catch { failure.withLock { $0 = error } }
            finished.signal()
        }
        thread.start()
        let deadline = ContinuousClock.now + .seconds(600)
        while samples.count < deliveries, ContinuousClock.now < deadline, failure.withLock({ $0 == nil }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let end = Date()
        runtime.requestStop()
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                finished.wait()
                continuation.resume()
            }
        }
        engineTask.cancel()
        _ = try? await engineTask.value
        if let error = failure.withLock({ $0 }) { throw error }
        guard samples.count >= deliveries, let start = firstDue.withLock({ $0 }) else {
            throw ValidationError("the notifier sent only \(samples.count) of \(deliveries) messages within 10 minutes")
        }
        samples.finish(elapsed: .milliseconds(Int64(end.timeIntervalSince(start) * 1000)))
        return samples
    }

    private func publishActions(to topic: String, properties: KafkaProperties) throws {
        let producer = try KafkaProducer(properties: properties)
        var recipient = RecipientV1()
        recipient.name = "Ada"
        recipient.locale = "en"
        recipient.phone = "+4915112345678"
        let decision = DecisionRecordV1(ruleId: "check-deposit-confirmation", packVersion: "bench", inputIds: [], inputPositions: [], reads: JSONObject(), outcome: .fired)
        var chunk: [OutputRecord] = []
        for index in 0..<deliveries {
            var action = ActionV1(
                id: "check-deposit-confirmation@bench-\(index)", kind: .engage, customerId: "cust-\(index % 10_000)",
                ruleId: "check-deposit-confirmation", template: "service.check-deposit-received", channelClass: .service, priority: .urgent,
                createdAt: Timestamp(Date()),
                payload: JSONObject(["depositId": .string("dep-\(index)"), "accountId": .string("chk-1"), "amount": .number(JSONNumber(250)), "currency": .string("EUR")]),
                decision: decision)
            action.recipient = recipient
            chunk.append(OutputRecord(id: action.id, topic: topic, key: Array(action.customerId.utf8), value: action.jsonBytes()))
            if chunk.count == 5_000 {
                try producer.send(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try producer.send(chunk)
        try producer.flush(timeout: .seconds(120))
    }
}

/// Per-delivery latencies and the span they were made in.
final class LatencySamples: Sendable {
    private struct State {
        var latencies: [Duration] = []
        var elapsed: Duration = .zero
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        var initial = State()
        initial.latencies.reserveCapacity(capacity)
        state = Mutex(initial)
    }

    func add(_ latency: Duration) { state.withLock { $0.latencies.append(latency) } }
    func finish(elapsed: Duration) { state.withLock { $0.elapsed = elapsed } }
    var count: Int { state.withLock { $0.latencies.count } }
    var perSecond: Double { state.withLock { Double($0.latencies.count) / $0.elapsed.timeInterval } }

    func percentile(_ fraction: Double) -> Double {
        state.withLock { state in
            let sorted = state.latencies.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))].timeInterval * 1000
        }
    }
}

/// Hands out request numbers to the bare loop's workers.
private final class RequestNumbers: Sendable {
    private let next = Atomic<Int>(0)

    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
