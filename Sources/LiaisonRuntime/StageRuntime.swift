import Foundation
import GRDB
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
    /// Per fired timer, nanoseconds from its due time to its outcome being durable.
    public var timerLagsNs: [UInt64] = []
}

/// The one processing loop every stage runs in. The polling thread takes a batch per partition,
/// processes it with the stage's pure logic and hands the outputs to the producer; a checkpoint
/// thread waits for every delivery report and commits state, ledger and checkpoint in one SQLite
/// transaction; back on the polling thread the group offset is committed asynchronously.
/// A partition's file has at most one batch in flight, so each batch sees its predecessor's state
/// and ledger, while different files overlap their broker round trips and SQLite work.
public final class StageRuntime<S: Stage, P: StatePersistence>: RebalanceListener, @unchecked Sendable
where P.State == S.State {
    private let stage: S
    private let persistence: P
    private let settings: RuntimeSettings
    private let logger: Logger
    private let producer: KafkaProducer
    private let committer = CheckpointCommitter()
    private var consumer: KafkaConsumer?
    private var partitions: [TopicPartition: PartitionState] = [:]
    /// The open partition files, by `fileKey`: shared by co-partitioned input topics.
    private var stores: [TopicPartition: PartitionStore] = [:]
    /// Polled records not yet in a batch, in offset order per partition.
    private var pending: [TopicPartition: [Polled]] = [:]
    /// The files (by `fileKey`) with a batch on its way to the brokers and the checkpoint.
    private var inFlight: Set<TopicPartition> = []
    /// Batches being prepared in the background, by file; a file is in at most one of the two.
    private var preparing: [TopicPartition: (batch: Batch, preparation: PendingPreparation<S.Reading, S.State>)] = [:]
    private let stopRequested = Atomic<Bool>(false)
    private let metrics: RuntimeMetrics
    /// Readiness, lag and liveness as the admin endpoint reports them.
    public let status: RuntimeStatus
    private let batchObserver: (@Sendable (BatchReport) -> Void)?
    /// How the stage fires its timers; nil for stages without any.
    private let timers: TimerFiring?
    /// When to look at each open file's timers next: its earliest due time as last read, or
    /// "now" after something may have changed them.
    private var timerCheckAt: [TopicPartition: Date] = [:]
    private var timerAllowance: ReleaseAllowance
    private let companion: (any StageCompanion)?

    public convenience init(
        stage: S, persistence: P, settings: RuntimeSettings, logger: Logger,
        batchObserver: (@Sendable (BatchReport) -> Void)? = nil, companion: (any StageCompanion)? = nil
    ) throws(KafkaError) {
        try self.init(
            stage: stage, persistence: persistence, settings: settings, logger: logger, batchObserver: batchObserver, timers: nil,
            companion: companion)
    }

    init(
        stage: S, persistence: P, settings: RuntimeSettings, logger: Logger,
        batchObserver: (@Sendable (BatchReport) -> Void)?, timers: TimerFiring?, companion: (any StageCompanion)? = nil
    ) throws(KafkaError) {
        self.stage = stage
        self.persistence = persistence
        self.settings = settings
        self.logger = logger
        self.batchObserver = batchObserver
        self.timers = timers
        self.companion = companion
        timerAllowance = ReleaseAllowance(perSecond: settings.timerReleaseRate)
        if settings.copartitionedInputs, let strategy = settings.kafka["partition.assignment.strategy"], strategy != "range" {
            throw KafkaError(message: """
                partition.assignment.strategy is \(strategy), but \(stage.name) keeps one state per partition number \
                across \(settings.inputTopics.joined(separator: ", ")) and needs the range assignor; remove the setting
                """)
        }
        metrics = RuntimeMetrics(stage: stage.name)
        status = RuntimeStatus(readyMaxLag: settings.readyMaxLag)
        producer = try KafkaProducer(properties: settings.producerProperties)
    }

    /// Runs until `requestStop`, on the calling thread (librdkafka wants one polling thread).
    /// Returns after the in-flight batches are checkpointed and the group was left.
    public func run() throws {
        if settings.copartitionedInputs { try checkCopartitioned() }
        let consumer = try KafkaConsumer(properties: settings.consumerProperties, listener: self, logger: logger)
        self.consumer = consumer
        try consumer.subscribe(settings.inputTopics)
        committer.start()
        logger.info("stage started", metadata: [
            "topics": "\(settings.inputTopics.joined(separator: ","))", "group": "\(settings.groupID)",
            "librdkafka": "\(librdkafkaVersion)",
        ])
        defer {
            consumer.close()
            self.consumer = nil
            committer.stop()
            logger.info("stage stopped")
        }
        while !stopRequested.load(ordering: .relaxed) {
            status.beat()
            settle(committer.takeCompleted())
            resumeRetriesThatAreDue()
            if backlogIsFull {
                settle(committer.waitForCompleted(timeout: preparing.isEmpty ? 0.1 : 0.001))
            } else {
                try pollBatch(consumer)
            }
            fireDueTimers()
            dispatchReadyBatches()
            refreshLag()
        }
    }

    /// Refuses to start when the co-partitioned input topics differ in partition count: a
    /// customer's records would then land in different partition files.
    private func checkCopartitioned() throws(KafkaError) {
        let admin = try KafkaAdmin(properties: settings.producerProperties)
        var counts: [String: Int32] = [:]
        for topic in settings.inputTopics { counts[topic] = try admin.partitionCount(topic) }
        guard Set(counts.values).count > 1 else { return }
        let listed = settings.inputTopics.map { "\($0) has \(counts[$0]!)" }.joined(separator: ", ")
        throw KafkaError(message: "\(stage.name) needs its input topics co-partitioned, but \(listed) partitions; give them the same count")
    }

    /// The partition file a topic-partition's state lives in: its own, or for co-partitioned
    /// inputs the one of its partition number, named after the first input topic.
    private func fileKey(_ partition: TopicPartition) -> TopicPartition {
        guard settings.copartitionedInputs, let first = settings.inputTopics.first else { return partition }
        return TopicPartition(topic: first, partition: partition.partition)
    }

    /// Asks the loop to finish its current batch and leave the group.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    private func pollBatch(_ consumer: KafkaConsumer) throws {
        guard let first = try consumer.poll(timeoutMs: inFlight.isEmpty && preparing.isEmpty ? 100 : 1) else { return }
        append(first)
        var count = 1
        let deadline = ContinuousClock.now + settings.batchMaxWait
        while count < settings.batchMaxRecords, ContinuousClock.now < deadline, let next = try consumer.poll(timeoutMs: 0) {
            append(next)
            count += 1
        }
    }

    /// Queues a polled record for its partition's next batch. Records of a partition waiting to
    /// retry are dropped: they were fetched before its rewind and will be fetched again after it.
    private func append(_ record: InputRecord) {
        let partition = TopicPartition(topic: record.position.topic, partition: record.position.partition)
        guard let state = partitions[partition], state.resumeAt == nil else { return }
        pending[partition, default: []].append(Polled(record: record, polledAtNs: DispatchTime.now().uptimeNanoseconds))
    }

    // MARK: Rebalance

    public func partitionsAssigned(_ assigned: [TopicPartition]) -> [TopicPartition: Int64] {
        var starts: [TopicPartition: Int64] = [:]
        for partition in assigned {
            do {
                let store = try openStore(fileKey(partition))
                let checkpoint = try store.checkpoint(topic: partition.topic)
                partitions[partition] = PartitionState(store: store, metrics: metrics.partition(partition), nextOffset: checkpoint)
                if let checkpoint { starts[partition] = checkpoint }
                logger.info("partition assigned", metadata: [
                    "partition": "\(partition)", "checkpoint": "\(checkpoint.map(String.init) ?? "none")",
                    "epoch": "\(store.ownerEpoch)",
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

    /// The partition file of `key`, opened and claimed for this process when no assigned
    /// partition holds it yet.
    private func openStore(_ key: TopicPartition) throws -> PartitionStore {
        if let open = stores[key] { return open }
        let store = try PartitionStore(
            location: PartitionStoreLocation(
                stateDirectory: settings.stateDirectory, stage: stage.name, topic: key.topic, partition: key.partition),
            durability: settings.durability,
            migrations: persistence.registerMigrations)
        try store.claimOwnership()
        stores[key] = store
        timerCheckAt[key] = .distantPast
        companion?.fileOpened(key, store: store)
        return store
    }

    /// Closes the files no assigned partition uses any more.
    private func releaseUnusedStores() {
        let used = Set(partitions.keys.map(fileKey))
        for key in stores.keys where !used.contains(key) {
            stores[key] = nil
            timerCheckAt[key] = nil
            companion?.fileClosed(key)
        }
    }

    /// Lets partitions go only once their in-flight batch is checkpointed; records already polled
    /// for them are processed first, unless the partition was lost to another member.
    public func partitionsRevoked(_ revoked: [TopicPartition], lost: Bool) {
        for partition in revoked {
            let file = fileKey(partition)
            if let entry = preparing.removeValue(forKey: file) {
                let prepared = entry.preparation.wait()
                if !(lost && entry.batch.partition == partition) { process(entry.batch, prepared) }
            }
            while inFlight.contains(file) { settle(committer.waitForCompleted()) }
            if lost { pending[partition] = nil }
            while let records = pending[partition], !records.isEmpty, partitions[partition] != nil {
                dispatch(partition)
                while inFlight.contains(file) { settle(committer.waitForCompleted()) }
            }
            pending[partition] = nil
            if partitions.removeValue(forKey: partition) != nil {
                logger.info("partition revoked", metadata: ["partition": "\(partition)", "lost": "\(lost)"])
            }
            metrics.forget(partition)
        }
        releaseUnusedStores()
        status.setAssigned(Set(partitions.keys))
    }

    // MARK: Processing

    /// Starts preparing a batch (read on every core, de-duplicated, its state loaded) for every
    /// partition file that has neither one in flight nor one being prepared, and processes the
    /// batches whose preparation is done. The polling thread thus does only the single-threaded
    /// part while other files' batches are prepared in the background. Preparing is safe
    /// because a file with no batch in flight has all its changes committed.
    private func dispatchReadyBatches() {
        for partition in pending.keys where !isBusy(fileKey(partition)) {
            guard let batch = takeBatch(partition) else { continue }
            preparing[fileKey(partition)] = (batch, startPreparing(batch))
        }
        for (file, entry) in preparing where entry.preparation.isDone {
            preparing[file] = nil
            process(entry.batch, entry.preparation.wait())
        }
    }

    private func isBusy(_ file: TopicPartition) -> Bool {
        inFlight.contains(file) || preparing[file] != nil
    }

    /// Processes the partition's next batch and hands it to the checkpoint threads.
    private func dispatch(_ partition: TopicPartition) {
        guard let batch = takeBatch(partition) else { return }
        process(batch, startPreparing(batch).wait())
    }

    private struct Batch {
        var partition: TopicPartition
        var state: PartitionState
        var records: [InputRecord]
        var polledAtNs: [UInt64]
        var startedNs: UInt64
    }

    private func takeBatch(_ partition: TopicPartition) -> Batch? {
        guard var queued = pending.removeValue(forKey: partition), let state = partitions[partition], !queued.isEmpty else {
            return nil
        }
        let count = min(queued.count, settings.batchMaxRecords)
        let batch = Batch(
            partition: partition, state: state, records: queued[..<count].map(\.record),
            polledAtNs: queued[..<count].map(\.polledAtNs), startedNs: DispatchTime.now().uptimeNanoseconds)
        queued.removeFirst(count)
        if !queued.isEmpty { pending[partition] = queued }
        return batch
    }

    private func startPreparing(_ batch: Batch) -> PendingPreparation<S.Reading, S.State> {
        prepareInBackground(stage, persistence, batch.records, batch.state.store)
    }

    private func process(_ batch: Batch, _ preparation: Result<Prepared<S.Reading, S.State>, any Error>) {
        let partition = batch.partition
        let state = batch.state
        let records = batch.records
        let polledAtNs = batch.polledAtNs
        let started = batch.startedNs
        do {
            let prepared = try preparation.get()
            let (readings, ids, fresh) = (prepared.readings, prepared.ids, prepared.fresh)
            var stageState = prepared.state
            var changes: [S.State.Change] = []
            var outputs: [OutputRecord] = []
            var ledger: [LedgerEntry] = []
            var rejected = 0
            for index in fresh {
                let record = records[index]
                let id = ids[index]
                do throws(StageFailure) {
                    let effect = try stage.process(record, reading: readings[index], inputID: id, state: stageState)
                    if let oversized = effect.outputs.first(where: { $0.approximateBytes > maxMessageBytes }) {
                        throw StageFailure(
                            code: "output_too_large",
                            message: "the record's output for \(oversized.topic) has about \(oversized.approximateBytes) bytes; "
                                + "the producer's message.max.bytes is \(maxMessageBytes)")
                    }
                    for change in effect.changes { stageState.apply(change) }
                    changes.append(contentsOf: effect.changes)
                    outputs.append(contentsOf: effect.outputs)
                    ledger.append(LedgerEntry(
                        inputID: id, position: record.position, verdict: effect.verdict, reason: effect.reason,
                        outputIDs: effect.outputs.map(\.id)))
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
            let delivery = try producer.send(outputs)
            metrics.produced(outputs)
            let saveState = stateWriter(changes)
            inFlight.insert(fileKey(partition))
            committer.submit(CheckpointJob(
                partition: partition, store: state.store, delivery: delivery,
                work: .records(firstOffset: records[0].position.offset, nextOffset: records[records.count - 1].position.offset + 1),
                ledger: ledger, saveState: saveState,
                polledAtNs: polledAtNs, startedNs: started, records: records.count,
                duplicates: records.count - fresh.count, rejected: rejected, outputs: outputs.count - rejected,
                ledgerRetentionMs: settings.ledgerRetentionMs, scrubAfterCommit: persistence.erasesPersonalData(changes)))
        } catch {
            retryLater(partition, from: records[0].position.offset, error: error)
        }
    }

    private func stateWriter(_ changes: [S.State.Change]) -> (Database) throws -> Void {
        let persistence = self.persistence
        return { db in try persistence.save(changes, to: db) }
    }

    /// Applies what the checkpoint threads finished: commit offsets and count on success,
    /// rewind and retry (or give the partition up when fenced) on failure.
    private func settle(_ outcomes: [CheckpointOutcome]) {
        for outcome in outcomes {
            let job = outcome.job
            let file = fileKey(job.partition)
            inFlight.remove(file)
            if case let .timers(dueAt) = job.work {
                settleTimers(outcome, file: file, dueAt: dueAt)
                continue
            }
            guard let state = partitions[job.partition], case let .records(firstOffset, nextOffset) = job.work else { continue }
            timerCheckAt[file] = .distantPast
            if let error = outcome.error {
                if let storeError = error as? StoreError, case .fenced = storeError {
                    giveUpFencedFile(file, error: error)
                } else {
                    retryLater(job.partition, from: firstOffset, error: error)
                }
                continue
            }
            if let scrubError = outcome.scrubError {
                logger.error("erased personal data may stay in the write-ahead log until its next checkpoint", metadata: [
                    "partition": "\(job.partition)", "error": "\(scrubError)",
                ])
            }
            if let pruneError = outcome.pruneError {
                logger.warning("cannot prune the ledger; it keeps growing until this succeeds", metadata: [
                    "partition": "\(job.partition)", "error": "\(pruneError)",
                ])
            }
            state.nextOffset = nextOffset
            state.failures = 0
            consumer?.commitAsync([job.partition: nextOffset])
            if job.records > job.duplicates { companion?.fileChanged(file) }
            state.metrics.recordsIn.increment(by: job.records)
            state.metrics.recordsOut.increment(by: job.outputs)
            state.metrics.recordsFailed.increment(by: job.rejected)
            state.metrics.duplicates.increment(by: job.duplicates)
            metrics.batchDuration.recordNanoseconds(Int64(outcome.finishedNs - job.startedNs))
            metrics.checkpointDuration.recordNanoseconds(Int64(outcome.finishedNs - outcome.checkpointStartedNs))
            batchObserver?(BatchReport(
                partition: job.partition, records: job.records, duplicates: job.duplicates, rejected: job.rejected,
                latenciesNs: job.polledAtNs.map { outcome.finishedNs - $0 }))
        }
    }

    /// Another process claimed the file: every partition sharing it is given up, paused until
    /// the group moves it.
    private func giveUpFencedFile(_ file: TopicPartition, error: any Error) {
        let sharing = partitions.keys.filter { fileKey($0) == file }
        logger.warning("partition fenced off; giving it up", metadata: [
            "partitions": "\(sharing.map(\.description).sorted().joined(separator: ","))", "error": "\(error)",
        ])
        for partition in sharing {
            partitions[partition] = nil
            pending[partition] = nil
        }
        consumer?.pause(sharing)
        releaseUnusedStores()
        status.setAssigned(Set(partitions.keys))
    }

    // MARK: Timers

    /// Fires the due timers of every open file that has no batch in flight or being prepared,
    /// earliest first, within the release rate. It runs before new batches are started, so due
    /// timers go ahead of a backlog of records instead of waiting for it. Firing reads only the
    /// due rows (an index range), so a million pending timers cost nothing until they are due.
    private func fireDueTimers() {
        guard let timers else { return }
        var available = timerAllowance.available()
        let now = settings.clock()
        for (file, store) in stores where !isBusy(file) && timerCheckAt[file].map({ $0 <= now }) ?? false {
            guard available > 0 else { return }
            do {
                let earliest = try timers.earliestDue(store)
                guard let earliest, earliest <= now else {
                    timerCheckAt[file] = earliest ?? .distantFuture
                    continue
                }
                let fired = try timers.fire(store, now, min(available, settings.batchMaxRecords))
                timerAllowance.spend(fired.dueAt.count)
                available -= fired.dueAt.count
                let delivery = try producer.send(fired.outputs)
                metrics.produced(fired.outputs)
                inFlight.insert(file)
                committer.submit(CheckpointJob(
                    partition: file, store: store, delivery: delivery, work: .timers(dueAt: fired.dueAt), ledger: [],
                    saveState: fired.saveState, polledAtNs: [], startedNs: DispatchTime.now().uptimeNanoseconds,
                    records: 0, duplicates: 0, rejected: 0, outputs: fired.outputs.count,
                    ledgerRetentionMs: nil, scrubAfterCommit: fired.erasesPersonalData))
            } catch {
                timerFailed(file, error: error)
            }
        }
    }

    private func settleTimers(_ outcome: CheckpointOutcome, file: TopicPartition, dueAt: [Date]) {
        guard let error = outcome.error else {
            let now = settings.clock()
            metrics.timersFired.increment(by: dueAt.count)
            for due in dueAt { metrics.timerLag.recordNanoseconds(Int64(max(0, now.timeIntervalSince(due)) * 1e9)) }
            timerCheckAt[file] = .distantPast
            batchObserver?(BatchReport(
                partition: file, records: 0, duplicates: 0, rejected: 0, latenciesNs: [],
                timerLagsNs: dueAt.map { UInt64(max(0, now.timeIntervalSince($0)) * 1e9) }))
            return
        }
        if let storeError = error as? StoreError, case .fenced = storeError {
            giveUpFencedFile(file, error: error)
        } else {
            timerFailed(file, error: error)
        }
    }

    /// Nothing of a failed firing was committed, so the timers are still pending; they are
    /// tried again after a pause.
    private func timerFailed(_ file: TopicPartition, error: any Error) {
        metrics.timerFailures.increment()
        logger.error("cannot fire timers; retrying in 1 s", metadata: ["file": "\(file)", "error": "\(error)"])
        timerCheckAt[file] = settings.clock().addingTimeInterval(1)
    }

    /// Rewinds a partition to the start of a batch that could not be completed and pauses it
    /// with exponential back-off; nothing of the batch was checkpointed, so nothing is lost.
    private func retryLater(_ partition: TopicPartition, from offset: Int64, error: any Error) {
        pending[partition] = nil
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
            releaseUnusedStores()
        }
    }

    private func resumeRetriesThatAreDue() {
        let now = ContinuousClock.now
        let due = partitions.filter { $0.value.resumeAt.map { $0 <= now } ?? false }.map(\.key)
        guard !due.isEmpty else { return }
        for partition in due { partitions[partition]?.resumeAt = nil }
        consumer?.resume(due)
    }

    /// True while some partition has two batches' worth of polled records waiting behind a batch
    /// in flight or being prepared. The loop then stops taking records and waits for a checkpoint
    /// instead, so librdkafka's own bounded prefetch throttles fetching and memory stays bounded.
    private var backlogIsFull: Bool {
        !(inFlight.isEmpty && preparing.isEmpty) && pending.values.contains { $0.count >= 2 * settings.batchMaxRecords }
    }

    /// The producer's limit on one record; librdkafka's default unless configured.
    private var maxMessageBytes: Int {
        settings.kafka["message.max.bytes"].flatMap(Int.init) ?? 1_000_000
    }

    /// The rejected record as a dead letter. Key and value are cut short (and marked so) only when
    /// the letter would otherwise be too large to publish, so a poison record can never block
    /// the partition behind it.
    private func deadLetter(_ record: InputRecord, inputID: String, failure: StageFailure) -> OutputRecord {
        let budget = max(1_024, (maxMessageBytes - 16_384) * 3 / 4)
        let headers = record.headers.map { DeadLetterV1.Header(name: $0.name, valueBase64: Data($0.value).base64EncodedString()) }
        let headerBytes = record.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count }
        let truncated = (record.key?.count ?? 0) + record.value.count + headerBytes > budget
        let keyBudget = truncated ? budget / 4 : Int.max
        let key = record.key.map { Array($0.prefix(keyBudget)) }
        let value = truncated ? Array(record.value.prefix(max(0, budget - (key?.count ?? 0) - headerBytes))) : record.value
        let letter = DeadLetterV1(
            reason: failure.code, message: failure.message, stage: stage.name, inputID: inputID,
            source: .init(topic: record.position.topic, partition: record.position.partition, offset: record.position.offset),
            keyBase64: key.map { Data($0).base64EncodedString() },
            valueBase64: Data(value).base64EncodedString(), truncated: truncated, valueBytes: record.value.count,
            headers: headerBytes > budget ? [] : headers,
            rejectedAt: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return OutputRecord(
            id: "\(stage.name):dlq:\(inputID)", topic: settings.deadLetterTopic, key: key,
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

/// A batch made ready for the stage: every record read, the ones not in the ledger picked
/// out (in order, each id once), and the state they need loaded.
struct Prepared<Reading: Sendable, State: Sendable>: @unchecked Sendable {
    var readings: [Reading]
    var ids: [String]
    /// Indices of the records to process.
    var fresh: [Int]
    var state: State
}

private func prepareInBackground<S: Stage, P: StatePersistence>(
    _ stage: S, _ persistence: P, _ records: [InputRecord], _ store: PartitionStore
) -> PendingPreparation<S.Reading, S.State> where P.State == S.State {
    let pending = PendingPreparation<S.Reading, S.State>()
    DispatchQueue.global().async {
        pending.fulfil(Result { () throws -> Prepared<S.Reading, S.State> in
            let readings = concurrentMap(records, stage.read)
            let ids = records.indices.map { stage.inputID(of: records[$0], reading: readings[$0]) }
            let known = try store.knownInputIDs(ids)
            var seen: Set<String> = []
            seen.reserveCapacity(ids.count)
            let fresh = ids.indices.filter { !known.contains(ids[$0]) && seen.insert(ids[$0]).inserted }
            let state = try store.read { db in try persistence.load(for: fresh.lazy.map { records[$0] }, from: db) }
            return Prepared(readings: readings, ids: ids, fresh: fresh, state: state)
        })
    }
    return pending
}

/// A batch being prepared on other threads.
final class PendingPreparation<Reading: Sendable, State: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Prepared<Reading, State>, any Error>?

    func fulfil(_ result: Result<Prepared<Reading, State>, any Error>) {
        condition.lock()
        self.result = result
        condition.broadcast()
        condition.unlock()
    }

    var isDone: Bool {
        condition.lock()
        defer { condition.unlock() }
        return result != nil
    }

    func wait() -> Result<Prepared<Reading, State>, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
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


extension StageRuntime where S: TimedStage, P: TimedPersistence, S.DueItem == P.DueItem {
    /// A runtime that also fires the stage's timers for the partition files it owns.
    public convenience init(
        timedStage stage: S, persistence: P, settings: RuntimeSettings, logger: Logger,
        batchObserver: (@Sendable (BatchReport) -> Void)? = nil
    ) throws(KafkaError) {
        try self.init(
            stage: stage, persistence: persistence, settings: settings, logger: logger, batchObserver: batchObserver,
            timers: timerFiring(stage, persistence))
    }
}
