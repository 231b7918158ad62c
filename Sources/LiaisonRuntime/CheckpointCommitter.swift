import Foundation
import GRDB
import LiaisonKafka
import LiaisonStore

/// What a checkpoint job commits: a batch of input records, or timers that fired.
enum CheckpointWork {
    case records(firstOffset: Int64, nextOffset: Int64)
    /// The fired items' due times, for the firing-lag metric.
    case timers(dueAt: [Date])
}

/// A batch whose outputs are on their way to the brokers, waiting to be checkpointed.
struct CheckpointJob: @unchecked Sendable {
    var partition: TopicPartition
    var store: PartitionStore
    var delivery: PendingDelivery
    var work: CheckpointWork
    var ledger: [LedgerEntry]
    var saveState: (Database) throws -> Void
    var polledAtNs: [UInt64]
    var startedNs: UInt64
    var records: Int
    var duplicates: Int
    var rejected: Int
    var outputs: Int
    /// Ledger rows older than this many milliseconds are pruned now and then; nil keeps them.
    var ledgerRetentionMs: Int64?
    /// The batch erased personal data: its old copies are scrubbed from the write-ahead log.
    var scrubAfterCommit: Bool
}

extension CheckpointJob {
    /// Where the partition's checkpoint moves; nil for fired timers, which read no records.
    var nextOffset: Int64? {
        if case let .records(_, next) = work { return next }
        return nil
    }
}

struct CheckpointOutcome: @unchecked Sendable {
    var job: CheckpointJob
    /// nil when the batch is durable; otherwise why it is not (nothing of it was checkpointed).
    var error: (any Error)?
    /// Set when the batch is durable but pruning the ledger afterwards failed.
    var pruneError: (any Error)?
    /// Set when the batch erased personal data but scrubbing the write-ahead log failed.
    var scrubError: (any Error)?
    var checkpointStartedNs: UInt64
    var finishedNs: UInt64
}

/// Waits for each batch's delivery reports and then commits its checkpoint, on threads of its
/// own, so the polling thread can prepare the next batches in the meantime. The runtime keeps at
/// most one job per partition file queued, so jobs need no order among themselves: several
/// threads wait and commit at once, and one file's slow commit (a write-ahead-log checkpoint,
/// say) holds up no other file.
final class CheckpointCommitter: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [CheckpointJob] = []
    private var completed: [CheckpointOutcome] = []
    private var stopping = false
    /// When each partition file's ledger was last pruned (uptime nanoseconds), under `condition`.
    private var lastPrunedNs: [ObjectIdentifier: UInt64] = [:]
    private static let pruneIntervalNs: UInt64 = 60_000_000_000
    private static let threads = 4

    func start() {
        for number in 1...Self.threads {
            let thread = Thread { [self] in work() }
            thread.name = "liaison-checkpoint-\(number)"
            thread.start()
        }
    }

    /// Finishes the queued jobs, then ends the threads.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    func submit(_ job: CheckpointJob) {
        condition.lock()
        queue.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// The outcomes that arrived since the last call, without waiting.
    func takeCompleted() -> [CheckpointOutcome] {
        condition.lock()
        defer { condition.unlock() }
        let outcomes = completed
        completed.removeAll()
        return outcomes
    }

    /// Blocks until at least one outcome arrived, or the timeout (in seconds) passed.
    func waitForCompleted(timeout: TimeInterval? = nil) -> [CheckpointOutcome] {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        condition.lock()
        defer { condition.unlock() }
        while completed.isEmpty {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        let outcomes = completed
        completed.removeAll()
        return outcomes
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty, !stopping { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            condition.unlock()

            let outcome = checkpoint(job)
            condition.lock()
            completed.append(outcome)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// True at most once a minute per file; notes the time when it says so.
    private func isDueForPruning(_ store: PartitionStore) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        let key = ObjectIdentifier(store)
        condition.lock()
        defer { condition.unlock() }
        guard lastPrunedNs[key].map({ now - $0 >= Self.pruneIntervalNs }) ?? true else { return false }
        lastPrunedNs[key] = now
        return true
    }

    private func checkpoint(_ job: CheckpointJob) -> CheckpointOutcome {
        if let failure = job.delivery.wait() {
            let now = DispatchTime.now().uptimeNanoseconds
            return CheckpointOutcome(job: job, error: failure, checkpointStartedNs: now, finishedNs: now)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        var error: (any Error)?
        do {
            try job.store.commit(topic: job.partition.topic, nextOffset: job.nextOffset, ledger: job.ledger, stageWrites: job.saveState)
        } catch let failure {
            error = failure
        }
        var scrubError: (any Error)?
        if error == nil, job.scrubAfterCommit {
            do {
                try job.store.scrubWriteAheadLog()
            } catch let failure {
                scrubError = failure
            }
        }
        var pruneError: (any Error)?
        if error == nil, let retention = job.ledgerRetentionMs {
            if isDueForPruning(job.store) {
                do {
                    try job.store.pruneLedger(processedBefore: Int64(Date().timeIntervalSince1970 * 1000) - retention)
                } catch let failure {
                    pruneError = failure
                }
            }
        }
        return CheckpointOutcome(
            job: job, error: error, pruneError: pruneError, scrubError: scrubError, checkpointStartedNs: started, finishedNs: DispatchTime.now().uptimeNanoseconds)
    }
}
