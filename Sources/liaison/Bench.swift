import ArgumentParser
import Foundation
import Ingest
import LiaisonKafka
import LiaisonRuntime
import LiaisonStage
import LiaisonStore
import Logging
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput against a raw librdkafka baseline in the same run (use a release build).",
        subcommands: [RuntimeBench.self, IngestBench.self, EnrichBench.self, RulesBench.self, NotifierBench.self, FleetBench.self])
}

/// `liaison bench runtime`: what the processing loop costs over a bare consume→produce loop.
struct RuntimeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "Raw passthrough versus the runtime with a no-op stage and SQLite checkpoints.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Approximate size of each record's value in bytes.")
    var recordSize = 200

    func run() async throws {
        let harness = try BenchHarness(options: options)
        let padding = String(repeating: "x", count: max(0, recordSize - 120))
        try harness.run(
            stageName: "a no-op stage", recordSize: recordSize, stage: { PassThroughStage(outputTopic: $0) },
            persistence: NoStatePersistence()
        ) { index in
            #"{"id":"b-\#(index)","type":"banking.transaction.posted","subject":"cust-\#(index % 10_000)","pad":"\#(padding)"}"#
        }
    }
}

/// `liaison bench ingest`: ingest on valid CloudEvents of about 400 bytes against the raw passthrough.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Raw passthrough versus the ingest stage on valid structured-mode CloudEvents (~400 bytes).")

    @OptionGroup var options: BenchOptions

    @Flag(help: "Time only the stage's own work (read and process, no Kafka, no SQLite) and print microseconds per record.")
    var stageOnly = false

    func run() async throws {
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        if stageOnly {
            let stage = IngestStage(configuration: IngestConfiguration(), outputTopic: "out", clock: clock)
            let records = (0..<options.records).map { index in
                InputRecord(
                    position: RecordPosition(topic: "in", partition: 0, offset: Int64(index)), key: nil,
                    value: Array(Self.value(index).utf8))
            }
            let timing = try StageOnlyTiming(stage, records, state: NoState(), batchSize: options.batchMaxRecords)
            print("read \(timing.perRecord(timing.reading)) µs/record, process \(timing.perRecord(timing.processing)) µs/record, "
                + "\(timing.outputBytes / records.count) bytes out per record")
            return
        }
        let harness = try BenchHarness(options: options)
        try harness.run(
            stageName: "the ingest stage", recordSize: 400,
            stage: { IngestStage(configuration: IngestConfiguration(), outputTopic: $0, clock: clock) },
            persistence: NoStatePersistence(), value: Self.value)
    }

    /// A valid `banking.transaction.posted` CloudEvent of about 400 bytes.
    static func value(_ index: Int) -> String {
        let customer = "cust-\(index % 10_000)"
        return #"{"specversion":"1.0","id":"txn-\#(index)","source":"core-banking","type":"banking.transaction.posted","#
            + #""time":"2026-11-02T10:15:00.000+01:00","subject":"\#(customer)","datacontenttype":"application/json","#
            + #""data":{"accountId":"chk-\#(index % 10_000)","accountType":"checking","amount":-\#(index % 5000).\#(index % 90 + 10),"#
            + #""currency":"USD","balanceAfter":18250.00,"description":"Card payment at Corner Grocery, 12 Market Street","#
            + #""merchant":{"mcc":"5411","city":"Springfield"}}}"#
    }
}

/// What every benchmark takes.
struct BenchOptions: ParsableArguments {
    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Records to publish and push through each loop.")
    var records = 1_000_000

    @Option(help: "Partitions of the benchmark topics.")
    var partitions: Int32 = 4

    @Option(help: "Most records per runtime batch.")
    var batchMaxRecords = 5_000

    @Flag(help: "Print one JSON object instead of text.")
    var json = false
}

/// Publishes the records once, then runs a raw librdkafka passthrough and the stage over them
/// in the same process, so both figures come from the same broker, machine and data.
struct BenchHarness {
    let options: BenchOptions
    let properties: KafkaProperties
    let run = String(UUID().uuidString.prefix(8)).lowercased()
    var records: Int { options.records }

    init(options: BenchOptions) throws {
        self.options = options
        properties = try options.cluster.properties(brokers: try options.cluster.requiredBrokers())
    }

    /// Records are keyed `cust-<index mod customers>`.
    func run<S: Stage, P: StatePersistence>(
        stageName: String, recordSize: Int, customers: Int = 10_000, stage makeStage: (String) -> S, persistence: P,
        value: (Int) -> String
    ) throws where P.State == S.State {
        try run(stageName: stageName, recordSize: recordSize, customers: customers, value: value) { output, settings, logger, observer in
            try StageRuntime(stage: makeStage(output), persistence: persistence, settings: settings, logger: logger, batchObserver: observer)
        }
    }

    /// The same with any runtime: `prepare` gets the settings before the runtime starts (to fill
    /// its state directory), and the measurement also waits for `dueTimers` timers to fire.
    func run(
        stageName: String, recordSize: Int, customers: Int, dueTimers: Int = 0, pendingTimers: Int? = nil,
        prepare: (RuntimeSettings) throws -> Void = { _ in }, value: (Int) -> String,
        runtime makeRuntime: (String, RuntimeSettings, Logger, @escaping @Sendable (BatchReport) -> Void) throws -> any BenchLoop
    ) throws {
        let input = "bench.in-\(run)"
        let rawOutput = "bench.raw-\(run)"
        let stageOutput = "bench.stage-\(run)"
        let deadLetters = "bench.dlq-\(run)"
        try KafkaAdmin(properties: properties).createTopics(
            [input, rawOutput, stageOutput, deadLetters].map { TopicSpec(name: $0, partitions: options.partitions) })

        progress("publishing \(records) records of ~\(recordSize) bytes to \(input)")
        try publish(to: input, customers: customers, value: value)
        progress("raw librdkafka passthrough")
        let baseline = try rawPassthrough(from: input, to: rawOutput, group: "bench-raw-\(run)")
        progress("runtime with \(stageName)")
        let measured = try measure(
            from: input, deadLetters: deadLetters, group: "bench-stage-\(run)", dueTimers: dueTimers, prepare: prepare
        ) { settings, logger, observer in try makeRuntime(stageOutput, settings, logger, observer) }
        var result = BenchResult(
            baselinePerSecond: baseline, throughputPerSecond: measured.perSecond,
            p50Ms: measured.percentile(0.50), p99Ms: measured.percentile(0.99), rssMB: peakResidentMegabytes())
        if dueTimers > 0 { result.timerLagMs = measured.timerLagPercentiles() }
        result.pendingTimers = pendingTimers
        print(options.json ? result.json : result.text(stageName: stageName, records: records, recordSize: recordSize, partitions: options.partitions))
    }

    private func progress(_ message: String) {
        FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
    }

    private func publish(to topic: String, customers: Int, value: (Int) -> String) throws {
        let producer = try KafkaProducer(properties: properties)
        var chunk: [OutputRecord] = []
        for index in 0..<records {
            chunk.append(OutputRecord(
                id: "b-\(index)", topic: topic, key: Array("cust-\(index % customers)".utf8), value: Array(value(index).utf8)))
            if chunk.count == 10_000 {
                try producer.send(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try producer.send(chunk)
        try producer.flush(timeout: .seconds(300))
    }

    /// Consume and re-produce as fast as librdkafka allows: no state, no ledger, no waiting.
    private func rawPassthrough(from input: String, to output: String, group: String) throws -> Double {
        let consumer = try KafkaConsumer(
            properties: properties.merging(benchGroupProperties).merging(["group.id": group]),
            listener: CommittedOffsetsListener(), logger: Logger(label: "bench"))
        defer { consumer.close() }
        try consumer.subscribe([input])
        let producer = try KafkaProducer(properties: properties)
        var consumed = 0
        var started: ContinuousClock.Instant?
        var chunk: [OutputRecord] = []
        let deadline = ContinuousClock.now + .seconds(600)
        while consumed < records, ContinuousClock.now < deadline {
            guard let record = try consumer.poll(timeoutMs: 100) else { continue }
            if started == nil { started = .now }
            chunk.append(OutputRecord(id: record.defaultID, topic: output, key: record.key, value: record.value, headers: record.headers))
            consumed += 1
            if chunk.count == 1_000 {
                try producer.send(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try producer.send(chunk)
        try producer.flush(timeout: .seconds(300))
        guard consumed == records, let started else {
            throw ValidationError("the raw passthrough saw only \(consumed) of \(records) records within 10 minutes")
        }
        return Double(records) / (ContinuousClock.now - started).timeInterval
    }

    private func measure(
        from input: String, deadLetters: String, group: String, dueTimers: Int, prepare: (RuntimeSettings) throws -> Void,
        runtime makeRuntime: (RuntimeSettings, Logger, @escaping @Sendable (BatchReport) -> Void) throws -> any BenchLoop
    ) throws -> RuntimeMeasurement {
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        let settings = RuntimeSettings(
            brokers: properties["bootstrap.servers"]!,
            kafka: properties.values.filter { $0.key != "bootstrap.servers" }.merging(benchGroupProperties) { _, new in new },
            stateDirectory: stateDirectory, groupID: group, inputTopics: [input], deadLetterTopic: deadLetters,
            batchMaxRecords: options.batchMaxRecords)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        try prepare(settings)
        let measurement = RuntimeMeasurement(expected: records, expectedTimers: dueTimers)
        let runtime = try makeRuntime(settings, logger) { measurement.record($0) }
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        let thread = Thread {
            do { try runtime.run() } catch { failure.withLock { $0 = error } }
            finished.signal()
        }
        thread.start()
        let deadline = ContinuousClock.now + .seconds(600)
        while !measurement.isComplete, ContinuousClock.now < deadline, failure.withLock({ $0 == nil }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        runtime.requestStop()
        finished.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        guard measurement.isComplete else {
            throw ValidationError(
                "the runtime checkpointed only \(measurement.processed) of \(records) records and fired \(measurement.timersFired) "
                    + "of \(dueTimers) timers within 10 minutes")
        }
        return measurement
    }

}

/// A stage's own work, batch by batch as the runtime does it, with no Kafka and no SQLite:
/// `--stage-only`, to see where the time goes. Each record's changes are applied to the state
/// the next one sees; `afterBatch` gets the batch and the state after it, untimed.
struct StageOnlyTiming {
    var records = 0
    var reading = Duration.zero
    var processing = Duration.zero
    var outputBytes = 0

    init<S: Stage>(
        _ stage: S, _ inputs: [InputRecord], state: S.State, batchSize: Int,
        afterBatch: (ArraySlice<InputRecord>, S.State) throws -> Void = { _, _ in }
    ) throws {
        records = inputs.count
        var state = state
        for start in stride(from: 0, to: inputs.count, by: batchSize) {
            let batch = inputs[start..<min(start + batchSize, inputs.count)]
            let started = ContinuousClock.now
            let readings = batch.map { stage.read($0) }
            let read = ContinuousClock.now
            for (record, reading) in zip(batch, readings) {
                let effect = try stage.process(record, reading: reading, inputID: stage.inputID(of: record, reading: reading), state: state)
                for change in effect.changes { state.apply(change) }
                outputBytes += effect.outputs.reduce(0) { $0 + $1.value.count }
            }
            reading += read - started
            processing += ContinuousClock.now - read
            try afterBatch(batch, state)
        }
    }

    /// Microseconds per record, as text.
    func perRecord(_ duration: Duration) -> String {
        String(format: "%.2f", duration.timeInterval * 1e6 / Double(max(1, records)))
    }
}

/// Re-emits every record unchanged: the runtime's own cost, with no stage logic to speak of.
struct PassThroughStage: Stage {
    let name = "bench"
    let outputTopic: String

    func process(_ record: InputRecord, reading: Void, inputID: String, state: NoState) throws(StageFailure) -> Effect<Never> {
        Effect(outputs: [OutputRecord(id: "bench:\(inputID)", topic: outputTopic, key: record.key, value: record.value)])
    }
}

/// The runtime as the harness drives it, whatever its stage.
protocol BenchLoop: Sendable {
    func run() throws
    func requestStop()
}

extension StageRuntime: BenchLoop {}

/// Collects the runtime's batch reports: records checkpointed, when, and each record's latency.
final class RuntimeMeasurement: Sendable {
    private struct State {
        var processed = 0
        var firstPollNs: UInt64?
        var lastCheckpointNs: UInt64 = 0
        var latenciesNs: [UInt64] = []
        var timerLagsNs: [UInt64] = []
    }

    private let state = Mutex(State())
    let expected: Int
    let expectedTimers: Int

    init(expected: Int, expectedTimers: Int = 0) {
        self.expected = expected
        self.expectedTimers = expectedTimers
        state.withLock { $0.latenciesNs.reserveCapacity(expected) }
    }

    func record(_ report: BatchReport) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { state in
            state.timerLagsNs.append(contentsOf: report.timerLagsNs)
            guard report.records > 0 else { return }
            state.processed += report.records
            let polledAt = now - (report.latenciesNs.max() ?? 0)
            state.firstPollNs = min(state.firstPollNs ?? polledAt, polledAt)
            state.lastCheckpointNs = now
            state.latenciesNs.append(contentsOf: report.latenciesNs)
        }
    }

    var processed: Int { state.withLock { $0.processed } }
    var timersFired: Int { state.withLock { $0.timerLagsNs.count } }
    var isComplete: Bool { processed >= expected && timersFired >= expectedTimers }

    /// p50, p99 and the largest lag from a timer's due time to its outcome being durable, in ms.
    func timerLagPercentiles() -> TimerLag {
        state.withLock { state in
            let sorted = state.timerLagsNs.sorted()
            func at(_ fraction: Double) -> Double {
                sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1e6
            }
            return TimerLag(p50: at(0.5), p99: at(0.99), max: Double(sorted.last ?? 0) / 1e6, fired: sorted.count)
        }
    }

    var perSecond: Double {
        state.withLock { state in
            Double(state.processed) / (Double(state.lastCheckpointNs - (state.firstPollNs ?? 0)) / 1e9)
        }
    }

    func percentile(_ fraction: Double) -> Double {
        state.withLock { state in
            let sorted = state.latenciesNs.sorted()
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1e6
        }
    }
}

struct TimerLag {
    var p50: Double
    var p99: Double
    var max: Double
    var fired: Int
}

struct BenchResult: Encodable {
    var baselinePerSecond: Double
    var throughputPerSecond: Double
    var p50Ms: Double
    var p99Ms: Double
    var rssMB: Double
    /// Only for stages with timers.
    var timerLagMs: TimerLag?
    var pendingTimers: Int?
    /// Only for the fleet.
    var fleet: FleetFigures?

    var ratio: Double { throughputPerSecond / baselinePerSecond }

    enum CodingKeys: String, CodingKey {
        case baselinePerSecond = "baseline_per_s", throughputPerSecond = "throughput_per_s", ratio
        case p50Ms = "p50_ms", p99Ms = "p99_ms", rssMB = "rss_mb"
        case pendingTimers = "pending_timers", timersFired = "timers_fired", timerLagP50Ms = "timer_lag_p50_ms"
        case timerLagP99Ms = "timer_lag_p99_ms", timerLagMaxMs = "timer_lag_max_ms"
        case latencyRatePerSecond = "latency_rate_per_s", latencySamples = "latency_samples", stageRSSMB = "stage_rss_mb"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rounded(baselinePerSecond, 1), forKey: .baselinePerSecond)
        try container.encode(rounded(throughputPerSecond, 1), forKey: .throughputPerSecond)
        try container.encode(rounded(ratio, 3), forKey: .ratio)
        try container.encode(rounded(p50Ms, 3), forKey: .p50Ms)
        try container.encode(rounded(p99Ms, 3), forKey: .p99Ms)
        try container.encode(rounded(rssMB, 1), forKey: .rssMB)
        try container.encodeIfPresent(pendingTimers, forKey: .pendingTimers)
        if let timerLagMs {
            try container.encode(timerLagMs.fired, forKey: .timersFired)
            try container.encode(rounded(timerLagMs.p50, 3), forKey: .timerLagP50Ms)
            try container.encode(rounded(timerLagMs.p99, 3), forKey: .timerLagP99Ms)
            try container.encode(rounded(timerLagMs.max, 3), forKey: .timerLagMaxMs)
        }
        if let fleet {
            try container.encode(rounded(fleet.latencyRatePerSecond, 1), forKey: .latencyRatePerSecond)
            try container.encode(fleet.latencySamples, forKey: .latencySamples)
            try container.encode(fleet.stagePeakRSSMB.mapValues { rounded($0, 1) }, forKey: .stageRSSMB)
        }
    }

    private func rounded(_ value: Double, _ places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    func text(stageName: String, records: Int, recordSize: Int, partitions: Int32) -> String {
        """
        records:            \(records) of ~\(recordSize) bytes over \(partitions) partitions
        raw passthrough:    \(Int(baselinePerSecond)) records/s
        runtime:            \(Int(throughputPerSecond)) records/s with \(stageName), SQLite ledger and checkpoint per batch
        ratio:              \(String(format: "%.3f", ratio))
        latency poll→checkpoint: p50 \(String(format: "%.2f", p50Ms)) ms, p99 \(String(format: "%.2f", p99Ms)) ms
        peak RSS:           \(String(format: "%.1f", rssMB)) MB
        """ + (timerLagMs.map { lag in
            "\ntimers:             \(lag.fired) fired among \(pendingTimers ?? 0) pending; lag due→durable p50 "
                + "\(String(format: "%.1f", lag.p50)) ms, p99 \(String(format: "%.1f", lag.p99)) ms, max \(String(format: "%.1f", lag.max)) ms"
        } ?? "")
    }
}

/// Settings for the benches' consumers, raw loops and stages alike. Short group timeouts: some
/// Kafka-protocol brokers hold a join for the whole rebalance timeout. A shorter fetch wait: the
/// test broker answers a fetch that finds nothing new when its wait is over rather than when a
/// record arrives, so the default 500 ms adds up to half a second per hop; much shorter waits
/// cost more, since that broker's fetches get dearer as its topics grow.
let benchGroupProperties = ["max.poll.interval.ms": "10000", "session.timeout.ms": "6000", "fetch.wait.max.ms": "100"]

/// The process's peak resident set (VmHWM), in MB.
func peakResidentMegabytes() -> Double {
    ResidentMemoryCurve.read(processIdentifier: getpid())?.peak ?? 0
}
