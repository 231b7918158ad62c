import LiaisonKafka
import LiaisonStage
import Metrics
import Synchronization

/// The stage's Prometheus series. Per-partition series are dropped when the partition leaves,
/// so a long-lived replica does not report partitions it no longer owns.
final class RuntimeMetrics: Sendable {
    let stage: String
    let batchDuration: Metrics.Timer
    let checkpointDuration: Metrics.Timer
    let batchRetries: Counter
    let timersFired: Counter
    /// From a timer's due time to its outcome being durable.
    let timerLag: Metrics.Timer
    let timerFailures: Counter

    init(stage: String) {
        self.stage = stage
        batchDuration = Metrics.Timer(label: "liaison_batch_duration_seconds", dimensions: [("stage", stage)], preferredDisplayUnit: .seconds)
        checkpointDuration = Metrics.Timer(label: "liaison_checkpoint_duration_seconds", dimensions: [("stage", stage)], preferredDisplayUnit: .seconds)
        batchRetries = Counter(label: "liaison_batch_retries_total", dimensions: [("stage", stage)])
        timersFired = Counter(label: "liaison_timers_fired_total", dimensions: [("stage", stage)])
        timerLag = Metrics.Timer(label: "liaison_timer_lag_seconds", dimensions: [("stage", stage)], preferredDisplayUnit: .seconds)
        timerFailures = Counter(label: "liaison_timer_failures_total", dimensions: [("stage", stage)])
    }

    /// Records handed to the producer, by topic: receipts, alerts and dead letters included, so a
    /// rise in missed-engagement alerts shows on a dashboard.
    func produced(_ outputs: [OutputRecord]) {
        countProduced(outputs, stage: stage)
    }

    func partition(_ partition: TopicPartition) -> PartitionMetrics {
        PartitionMetrics(stage: stage, partition: partition)
    }

    func forget(_ partition: TopicPartition) {
        PartitionMetrics(stage: stage, partition: partition).destroy()
    }
}

struct PartitionMetrics {
    let recordsIn: Counter
    let recordsOut: Counter
    let recordsFailed: Counter
    let duplicates: Counter
    let lag: Gauge

    init(stage: String, partition: TopicPartition) {
        let dimensions = [("stage", stage), ("topic", partition.topic), ("partition", String(partition.partition))]
        recordsIn = Counter(label: "liaison_records_in_total", dimensions: dimensions)
        recordsOut = Counter(label: "liaison_records_out_total", dimensions: dimensions)
        recordsFailed = Counter(label: "liaison_records_failed_total", dimensions: dimensions)
        duplicates = Counter(label: "liaison_records_duplicate_total", dimensions: dimensions)
        lag = Gauge(label: "liaison_consumer_lag", dimensions: dimensions)
    }

    func destroy() {
        recordsIn.destroy()
        recordsOut.destroy()
        recordsFailed.destroy()
        duplicates.destroy()
        lag.destroy()
    }
}

/// Liveness and readiness as `/healthz` and `/readyz` report them.
public final class RuntimeStatus: Sendable {
    private struct State {
        var assigned: Set<TopicPartition> = []
        var lag: [TopicPartition: Int64] = [:]
        var lastBeat = ContinuousClock.now
    }

    private let state = Mutex(State())
    private let readyMaxLag: Int64

    init(readyMaxLag: Int64) {
        self.readyMaxLag = readyMaxLag
    }

    func beat() {
        state.withLock { $0.lastBeat = .now }
    }

    func setAssigned(_ assigned: Set<TopicPartition>) {
        state.withLock { $0.assigned = assigned }
    }

    func setLag(_ lag: [TopicPartition: Int64]) {
        state.withLock { $0.lag = lag }
    }

    /// Alive while the loop keeps turning; a batch stuck for a minute is not alive.
    public var isAlive: Bool {
        state.withLock { ContinuousClock.now - $0.lastBeat < .seconds(60) }
    }

    /// Ready once partitions are assigned and each is within `readyMaxLag` of its end.
    public var readiness: (ready: Bool, reason: String) {
        state.withLock { state in
            if state.assigned.isEmpty { return (false, "no partitions assigned") }
            let behind = state.assigned.filter { (state.lag[$0] ?? .max) > readyMaxLag }
            if behind.isEmpty { return (true, "\(state.assigned.count) partitions caught up") }
            let names = behind.map(\.description).sorted().joined(separator: ", ")
            return (false, "more than \(readyMaxLag) records behind (or not yet fetched) on \(names)")
        }
    }
}

/// Counts records handed to the producer per topic as `liaison_records_produced_total`.
public func countProduced(_ outputs: [OutputRecord], stage: String) {
    var byTopic: [String: Int] = [:]
    for output in outputs { byTopic[output.topic, default: 0] += 1 }
    for (topic, count) in byTopic {
        Counter(label: "liaison_records_produced_total", dimensions: [("stage", stage), ("topic", topic)]).increment(by: count)
    }
}
