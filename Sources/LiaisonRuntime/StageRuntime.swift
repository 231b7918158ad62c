import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Logging
import Metrics
import Synchronization

/// What one committed batch looked like, for benchmarks and tests that watch the loop.
public struct BatchReport: Sendable {
    public var partition: TopicPartition
    public var records: Int
    public var duplicates: Int
    public var rejected: Int
    /// Per record, nanoseconds from being polled to its checkpoint being durable.
    public var latenciesNs: [UInt64]
}

/// The one processing loop every stage runs in: poll a batch per partition, process it with
/// the stage's pure logic, produce and await every delivery report, then commit state, ledger
/// and checkpoint in one SQLite transaction, and finally commit the group offset asynchronously.
public final class StageRuntime<S: Stage, P: StatePersistence>: RebalanceListener, @unchecked Sendable
where P.State == S.State {
    private let stage: S
    private let persistence: P
    private let settings: RuntimeSettings
    private let logger: Logger
    private let producer: KafkaProducer
    private var consumer: KafkaConsumer?
    private var partitions: [TopicPartition: PartitionState] = [:]
    private var pending: [TopicPartition: [Polled]] = [:]
    private let stopRequested = Atomic<Bool>(false)
    private let metrics: RuntimeMetrics
    /// Readiness, lag and liveness as the admin endpoint reports them.
    public let status: RuntimeStatus
    private let batchObserver: (@Sendable (BatchReport) -> Void)?

    public init(
        stage: S, persistence: P, settings: RuntimeSettings, logger: Logger,
        batchObserver: (@Sendable (BatchReport) -> Void)? = nil
    ) throws(KafkaError) {
        self.stage = stage
        self.persistence = persistence
        self.settings = settings
        self.logger = logger
        self.batchObserver = batchObserver
        metrics = RuntimeMetrics(stage: stage.name)
        status = RuntimeStatus(readyMaxLag: settings.readyMaxLag)
        producer = try KafkaProducer(properties: settings.producerProperties)
    }

    /// Runs until `requestStop`, on the calling thread (librdkafka wants one polling thread).
    /// Returns after the in-flight batches are checkpointed and the group was left.
    public func run() throws {
        let consumer = try KafkaConsumer(properties: settings.consumerProperties, listener: self, logger: logger)
        self.consumer = consumer
        try consumer.subscribe(settings.inputTopics)
        logger.info("stage started", metadata: [
            "topics": "\(settings.inputTopics.joined(separator: ","))", "group": "\(settings.groupID)",
            "librdkafka": "\(librdkafkaVersion)",
        ])
        defer {
            consumer.close()
            self.consumer = nil
            logger.info("stage stopped")
        }
        while !stopRequested.load(ordering: .relaxed) {
            status.beat()
            resumeRetriesThatAreDue()
            guard let first = try consumer.poll(timeoutMs: 100) else {
                refreshLag()
                continue
            }
            var count = 1
            append(first)
            let deadline = ContinuousClock.now + settings.batchMaxWait
            while count < settings.batchMaxRecords, ContinuousClock.now < deadline,
                let next = try consumer.poll(timeoutMs: 0)
            {
                append(next)
                count += 1
            }
            let batches = pending
            pending = [:]
            for (partition, records) in batches where partitions[partition] != nil {
                processBatch(partition, records)
            }
            refreshLag()
        }
    }

    /// Asks the loop to finish its current batch and leave the group.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    private func append(_ record: InputRecord) {
        let partition = TopicPartition(topic: record.position.topic, partition: record.position.partition)
        pending[partition, default: []].append(Polled(record: record, polledAtNs: DispatchTime.now().uptimeNanoseconds))
    }

    // MARK: Rebalance

    public func partitionsAssigned(_ assigned: [TopicPartition]) -> [TopicPartition: Int64] {
        var starts: [TopicPartition: Int64] = [:]
        for partition in assigned {
            do {
                let store = try PartitionStore(
                    location: PartitionStoreLocation(
                        stateDirectory: settings.stateDirectory, stage: stage.name,
                        topic: partition.topic, partition: partition.partition),
                    durability: settings.durability,
                    migrations: persistence.registerMigrations)
                let epoch = try store.claimOwnership()
                let checkpoint = try store.checkpoint()
                partitions[partition] = PartitionState(store: store, metrics: metrics.partition(partition), nextOffset: checkpoint)
                if let checkpoint { starts[partition] = checkpoint }
                logger.info("partition assigned", metadata: [
                    "partition": "\(partition)", "checkpoint": "\(checkpoint.map(String.init) ?? "none")", "epoch": "\(epoch)",
                ])
            } catch {
                // Without its file the partition cannot be processed safely; it stays paused.
                logger.error("cannot open partition state", metadata: ["partition": "\(partition)", "error": "\(error)"])
                partitions[partition] = nil
            }
        }
        status.setAssigned(Set(partitions.keys))
        let unusable = assigned.filter { partitions[$0] == nil }
        if !unusable.isEmpty { consumer?.pause(unusable) }
        return starts
    }

    public func partitionsRevoked(_ revoked: [TopicPartition], lost: Bool) {
        for partition in revoked {
            if let records = pending.removeValue(forKey: partition), !lost, partitions[partition] != nil {
                processBatch(partition, records)
            }
            if partitions.removeValue(forKey: partition) != nil {
                logger.info("partition revoked", metadata: ["partition": "\(partition)", "lost": "\(lost)"])
            }
            metrics.forget(partition)
        }
        status.setAssigned(Set(partitions.keys))
    }

    // MARK: Processing

    private func processBatch(_ partition: TopicPartition, _ batch: [Polled]) {
        guard let state = partitions[partition], !batch.isEmpty else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        let records = batch.map(\.record)
        do {
            let ids = records.map { stage.inputID(of: $0) }
            let known = try state.store.knownInputIDs(Set(ids))
            var seen: Set<String> = []
            var fresh: [(record: InputRecord, id: String)] = []
            for (record, id) in zip(records, ids) where !known.contains(id) && seen.insert(id).inserted {
                fresh.append((record, id))
            }
            var stageState = try state.store.read { db in try persistence.load(for: fresh.map(\.record), from: db) }
            var changes: [S.State.Change] = []
            var outputs: [OutputRecord] = []
            var ledger: [LedgerEntry] = []
            var rejected = 0
            for (record, id) in fresh {
                do {
                    let effect = try stage.process(record, inputID: id, state: stageState)
                    for change in effect.changes { stageState.apply(change) }
                    changes.append(contentsOf: effect.changes)
                    outputs.append(contentsOf: effect.outputs)
                    ledger.append(LedgerEntry(
                        inputID: id, position: record.position, verdict: effect.verdict, outputIDs: effect.outputs.map(\.id)))
                } catch {
                    let letter = deadLetter(record, inputID: id, failure: error)
                    outputs.append(letter)
                    ledger.append(LedgerEntry(
                        inputID: id, position: record.position, verdict: .rejected,
                        reason: "\(error.code): \(error.message)", outputIDs: [letter.id]))
                    rejected += 1
                    logger.warning("record rejected", metadata: [
                        "position": "\(record.position)", "input_id": "\(id)", "reason": "\(error.code)",
                    ].merging(settings.debugPayloads ? ["payload": "\(String(decoding: record.value, as: UTF8.self))"] : [:]) { a, _ in a })
                }
            }
            try producer.sendAndWait(outputs)
            let nextOffset = records.last!.position.offset + 1
            let checkpointStarted = DispatchTime.now().uptimeNanoseconds
            try state.store.commit(nextOffset: nextOffset, ledger: ledger) { db in try persistence.save(changes, to: db) }
            let finished = DispatchTime.now().uptimeNanoseconds
            state.nextOffset = nextOffset
            state.failures = 0
            consumer?.commitAsync([partition: nextOffset])
            state.metrics.recordsIn.increment(by: records.count)
            state.metrics.recordsOut.increment(by: outputs.count - rejected)
            state.metrics.recordsFailed.increment(by: rejected)
            state.metrics.duplicates.increment(by: records.count - fresh.count)
            metrics.batchDuration.recordNanoseconds(Int64(finished - started))
            metrics.checkpointDuration.recordNanoseconds(Int64(finished - checkpointStarted))
            batchObserver?(BatchReport(
                partition: partition, records: records.count, duplicates: records.count - fresh.count, rejected: rejected,
                latenciesNs: batch.map { finished - $0.polledAtNs }))
        } catch let error as StoreError {
            if case .fenced = error {
                logger.warning("partition fenced off; giving it up", metadata: ["partition": "\(partition)", "error": "\(error)"])
                partitions[partition] = nil
                consumer?.pause([partition])
                status.setAssigned(Set(partitions.keys))
            } else {
                retryLater(partition, from: records[0].position.offset, error: error)
            }
        } catch {
            retryLater(partition, from: records[0].position.offset, error: error)
        }
    }

    /// Rewinds a partition to the start of a batch that could not be completed and pauses it
    /// with exponential back-off; nothing of the batch was checkpointed, so nothing is lost.
    private func retryLater(_ partition: TopicPartition, from offset: Int64, error: any Error) {
        guard let state = partitions[partition] else { return }
        state.failures += 1
        let delay = Duration.milliseconds(min(30_000, 100 << min(state.failures, 9)))
        logger.error("batch failed; retrying", metadata: [
            "partition": "\(partition)", "offset": "\(offset)", "attempt": "\(state.failures)",
            "retry_in": "\(delay)", "error": "\(error)",
        ])
        metrics.batchRetries.increment()
        guard let consumer else { return }
        consumer.pause([partition])
        do {
            try consumer.seek([partition: offset])
            state.resumeAt = ContinuousClock.now + delay
        } catch {
            logger.error("cannot rewind partition; giving it up for another member", metadata: [
                "partition": "\(partition)", "error": "\(error)",
            ])
            partitions[partition] = nil
        }
    }

    private func resumeRetriesThatAreDue() {
        let now = ContinuousClock.now
        let due = partitions.filter { $0.value.resumeAt.map { $0 <= now } ?? false }.map(\.key)
        guard !due.isEmpty else { return }
        for partition in due { partitions[partition]?.resumeAt = nil }
        consumer?.resume(due)
    }

    private func deadLetter(_ record: InputRecord, inputID: String, failure: StageFailure) -> OutputRecord {
        let letter = DeadLetterV1(
            reason: failure.code, message: failure.message, stage: stage.name, inputID: inputID,
            source: .init(topic: record.position.topic, partition: record.position.partition, offset: record.position.offset),
            keyBase64: record.key.map { Data($0).base64EncodedString() },
            valueBase64: Data(record.value).base64EncodedString(),
            headers: record.headers.map { .init(name: $0.name, valueBase64: Data($0.value).base64EncodedString()) },
            rejectedAt: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return OutputRecord(
            id: "\(stage.name):dlq:\(inputID)", topic: settings.deadLetterTopic, key: record.key,
            value: Array((try? encoder.encode(letter)) ?? Data()),
            headers: [RecordHeader(name: "liaison-dlq-reason", string: failure.code)])
    }

    private func refreshLag() {
        guard let consumer else { return }
        var lags: [TopicPartition: Int64] = [:]
        for (partition, state) in partitions {
            guard let high = consumer.cachedHighWatermark(partition) else { continue }
            let lag = max(0, high - (state.nextOffset ?? 0))
            lags[partition] = lag
            state.metrics.lag.record(lag)
        }
        status.setLag(lags)
    }
}

struct Polled {
    var record: InputRecord
    var polledAtNs: UInt64
}

final class PartitionState {
    let store: PartitionStore
    let metrics: PartitionMetrics
    var nextOffset: Int64?
    var failures = 0
    var resumeAt: ContinuousClock.Instant?

    init(store: PartitionStore, metrics: PartitionMetrics, nextOffset: Int64?) {
        self.store = store
        self.metrics = metrics
        self.nextOffset = nextOffset
    }
}
