import Foundation
import LiaisonKafka
import LiaisonRuntime
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Logging
import Notifier
import NotifierChannels
import NotifierStore
import ServiceLifecycle
import Synchronization

/// Works through the delivery queues of the partition files the notifier's loop owns: claims due
/// deliveries (`attempting`, durable before any provider is called), calls the providers with up
/// to `maxInFlight` messages at once, and records what the planner makes of each outcome after
/// the receipts it produced are acknowledged by the brokers. A crash at any point leaves either
/// a queued delivery or an `attempting` one, which the next owner retries with the same
/// idempotency key.
public final class DeliveryEngine: StageCompanion, @unchecked Sendable {
    private let planner: DeliveryPlanner
    private let outputs: NotifierOutputs
    private let channels: [Channel: any DeliveryChannel]
    private let breakers: CircuitBreakers
    private let producer: KafkaProducer
    private let clock: @Sendable () -> Date
    private let maxInFlight: Int
    private let settledRetention: TimeInterval
    private let logger: Logger
    private let metrics = DeliveryMetrics()
    private let recorded: (@Sendable ([Settlement], Date) -> Void)?
    /// Releases what the engine's channels hold (the HTTP client) once it has stopped.
    private let stopped: @Sendable () async -> Void
    /// SQLite and delivery-report waits block; they run here, off the cooperative pool. Each
    /// partition file serialises its own transactions.
    private let blockingWork = DispatchQueue(label: "liaison.notifier.ledger", attributes: .concurrent)
    private let shared = Mutex(Shared())
    private let stopping = Atomic<Bool>(false)
    /// Rung when a queue may have work to claim: a file opened or changed, slots freed.
    private let claimBell = Doorbell()
    /// Rung when an attempt finished and waits to be recorded.
    private let recordBell = Doorbell()
    /// The longest the loops sleep without a ring: how late a delivery that merely came due
    /// (a retry, a deferral ending) is noticed.
    private static let idleWait = Duration.milliseconds(25)

    private struct Shared {
        var files: [TopicPartition: PartitionStore] = [:]
        /// When to look at each file's queue next: its earliest due time as last read, or
        /// "now" after something may have changed it.
        var checkAt: [TopicPartition: Date] = [:]
        var completed: [Attempted] = []
        var inFlight = 0
        var prunedAt: [TopicPartition: Date] = [:]
    }

    /// An attempt that finished, waiting for its outcome to be recorded.
    private struct Attempted: @unchecked Sendable {
        var file: TopicPartition
        var store: PartitionStore
        var settlement: Settlement
    }

    public init(
        planner: DeliveryPlanner, channels: [Channel: any DeliveryChannel], breakers: CircuitBreakers, producer: KafkaProducer,
        maxInFlight: Int = 200, settledRetention: TimeInterval = 30 * 86_400, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }, recorded: (@Sendable ([Settlement], Date) -> Void)? = nil,
        stopped: @escaping @Sendable () async -> Void = {}
    ) {
        self.recorded = recorded
        self.stopped = stopped
        self.planner = planner
        outputs = planner.outputs
        self.channels = channels
        self.breakers = breakers
        self.producer = producer
        self.maxInFlight = maxInFlight
        self.settledRetention = settledRetention
        self.logger = logger
        self.clock = clock
    }

    // MARK: Files

    public func fileOpened(_ file: TopicPartition, store: PartitionStore) {
        do {
            var requeued = 0
            try store.commit(nextOffset: nil, ledger: []) { db in requeued = try DeliveryLedger.requeueAttempting(in: db) }
            if requeued > 0 {
                logger.warning("deliveries left attempting by an earlier owner are retried with their idempotency keys", metadata: [
                    "file": "\(file)", "deliveries": "\(requeued)",
                ])
            }
        } catch {
            logger.error("cannot requeue interrupted deliveries; they are retried when the file is opened again", metadata: [
                "file": "\(file)", "error": "\(error)",
            ])
        }
        shared.withLock {
            $0.files[file] = store
            $0.checkAt[file] = .distantPast
        }
        claimBell.ring()
    }

    public func fileClosed(_ file: TopicPartition) {
        shared.withLock {
            $0.files[file] = nil
            $0.checkAt[file] = nil
        }
    }

    public func fileChanged(_ file: TopicPartition) {
        shared.withLock { if $0.files[file] != nil { $0.checkAt[file] = .distantPast } }
        claimBell.ring()
    }

    // MARK: The loop

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.recordUntilDrained() }
                while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                    if !(await startDueAttempts(in: &group)) { await claimBell.wait(timeout: Self.idleWait) }
                }
                stopping.store(true, ordering: .relaxed)
                recordBell.ring()
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.claimBell.ring()
            self.recordBell.ring()
        }
        await stopped()
        logger.info("delivery engine stopped")
    }

    /// Records finished attempts as they come, beside the claiming loop, so claims and provider
    /// calls go on while the brokers acknowledge receipts; after a stop, until nothing is in flight.
    private func recordUntilDrained() async {
        while true {
            if await recordCompleted() { continue }
            if stopping.load(ordering: .relaxed) && shared.withLock({ $0.inFlight == 0 && $0.completed.isEmpty }) { return }
            await recordBell.wait(timeout: Self.idleWait)
        }
    }

    /// Claims what is due in every file whose queue may have something, as far as the in-flight
    /// limit allows, and starts an attempt for each. Slots freed one by one are gathered into
    /// larger claims (a quarter of the limit), since every claim is a durable commit.
    private func startDueAttempts(in group: inout DiscardingTaskGroup) async -> Bool {
        let inFlight = shared.withLock { $0.inFlight }
        guard inFlight == 0 || maxInFlight - inFlight >= max(1, maxInFlight / 4) else { return false }
        let now = clock()
        let candidates = shared.withLock { shared in
            shared.files.filter { file, _ in shared.checkAt[file].map { $0 <= now } ?? false }
        }
        var started = false
        for (file, store) in candidates {
            let free = maxInFlight - shared.withLock { $0.inFlight }
            guard free > 0 else { break }
            let claimed: [QueuedDelivery]
            do {
                claimed = try await onBlockingQueue { () throws -> [QueuedDelivery] in
                    let earliest = try store.read { try DeliveryLedger.earliestDue(in: $0) }
                    guard let earliest, earliest <= now else {
                        self.shared.withLock { $0.checkAt[file] = earliest ?? .distantFuture }
                        return []
                    }
                    var claimed: [QueuedDelivery] = []
                    try store.commit(nextOffset: nil, ledger: []) { db in
                        claimed = try DeliveryLedger.claimDue(at: now, limit: free, in: db)
                    }
                    return claimed
                }
            } catch {
                fileFailed(file, store: store, error: error, doing: "claim due deliveries")
                continue
            }
            guard !claimed.isEmpty else { continue }
            started = true
            shared.withLock { $0.inFlight += claimed.count }
            metrics.inFlight.record(shared.withLock { $0.inFlight })
            for delivery in claimed {
                group.addTask {
                    let settlement = await self.attempt(delivery)
                    self.shared.withLock {
                        $0.completed.append(Attempted(file: file, store: store, settlement: settlement))
                        $0.inFlight -= 1
                    }
                    self.recordBell.ring()
                    self.claimBell.ring()
                }
            }
        }
        pruneSettledRows(now: now)
        return started
    }

    /// One attempt: the planner picks the channel and message, the provider (or the topic) takes
    /// it or not, and the planner says what that means.
    private func attempt(_ claimed: QueuedDelivery) async -> Settlement {
        let now = clock()
        switch planner.nextStep(claimed, now: now) {
        case let .finish(settlement):
            return settlement
        case let .send(delivery, message):
            if let record = outputs.engagementMessage(message, action: delivery.action, at: now) {
                var settlement = planner.settle(delivery, message: message, outcome: .accepted(providerMessageID: message.idempotencyKey), now: now)
                settlement.outputs.insert(record, at: 0)
                metrics.attempt(message.channel, outcome: "accepted", seconds: .zero)
                return settlement
            }
            guard let channel = channels[message.channel] else {
                return planner.settle(
                    delivery, message: message,
                    outcome: .rejected(reason: "no provider is configured for \(message.channel.rawValue)"), now: now)
            }
            let provider = message.channel.rawValue
            guard let permit = breakers.permit(for: provider) else {
                let openUntil = now.addingTimeInterval(secondsUntilClosedAgain(provider))
                metrics.attempt(message.channel, outcome: "circuit_open", seconds: .zero)
                return planner.settle(
                    delivery, message: message,
                    outcome: .retryable(reason: "circuit open: \(provider) keeps failing; not called until \(Timestamp(openUntil).text)", retryAfter: nil),
                    circuitOpenUntil: openUntil, now: now)
            }
            let started = ContinuousClock.now
            let outcome = await channel.deliver(message)
            let elapsed = ContinuousClock.now - started
            breakers.record(outcome, for: provider, permit: permit)
            metrics.attempt(message.channel, outcome: outcome.metricName, seconds: elapsed)
            return planner.settle(delivery, message: message, outcome: outcome, now: clock())
        }
    }

    /// Produces the finished attempts' records, waits for the brokers, then records every outcome
    /// in its file. Attempts whose recording fails stay `attempting` in the file and are retried
    /// (same key) when the file is next opened; the process logs it.
    private func recordCompleted() async -> Bool {
        let done = shared.withLock { shared in
            defer { shared.completed.removeAll(keepingCapacity: true) }
            return shared.completed
        }
        guard !done.isEmpty else { return false }
        let now = clock()
        let records = done.flatMap(\.settlement.outputs)
        do {
            try await onBlockingQueue { () throws -> Void in
                if let failure = try self.producer.send(records).wait() { throw failure }
            }
            countProduced(records, stage: "notifier")
        } catch {
            logger.error("cannot produce delivery receipts; retrying", metadata: ["records": "\(records.count)", "error": "\(error)"])
            shared.withLock { $0.completed.insert(contentsOf: done, at: 0) }
            try? await Task.sleep(for: .seconds(1))
            return true
        }
        let byFile = Dictionary(grouping: done, by: \.file)
        for (file, attempts) in byFile {
            let store = attempts[0].store
            let settlements = attempts.map(\.settlement)
            do {
                try await onBlockingQueue { () throws -> Void in
                    try store.commit(nextOffset: nil, ledger: []) { db in try DeliveryLedger.record(settlements, at: now, in: db) }
                }
            } catch {
                fileFailed(file, store: store, error: error, doing: "record \(settlements.count) delivery outcomes")
                continue
            }
            shared.withLock { if $0.files[file] === store { $0.checkAt[file] = .distantPast } }
            claimBell.ring()
            for settlement in settlements {
                metrics.settled(settlement)
                log(settlement)
            }
            recorded?(settlements, clock())
        }
        return true
    }

    /// Failed attempts and failed deliveries, with the reason, for whoever traces a customer's message.
    private func log(_ settlement: Settlement) {
        let delivery = settlement.delivery
        switch settlement.status {
        case nil where !delivery.failures.isEmpty:
            logger.info("delivery attempt failed; trying again", metadata: [
                "action_id": "\(delivery.actionID)", "channel": "\(delivery.channel?.rawValue ?? "none")",
                "due_at": "\(Timestamp(delivery.dueAt).text)", "reason": "\(delivery.failures.last ?? "")",
            ])
        case .failed?, .missed?:
            logger.warning("delivery ended without reaching the customer", metadata: [
                "action_id": "\(delivery.actionID)", "status": "\(settlement.status?.rawValue ?? "")",
                "reasons": "\(delivery.failures.joined(separator: "; "))",
            ])
        default:
            break
        }
    }

    /// How long the provider's open circuit refuses calls; a second while its trial call is out.
    private func secondsUntilClosedAgain(_ provider: String) -> TimeInterval {
        guard case let .open(until) = breakers.state(of: provider) else { return 1 }
        return max(0.1, (until - ContinuousClock.now).timeInterval)
    }

    private func fileFailed(_ file: TopicPartition, store: PartitionStore, error: any Error, doing work: String) {
        if let storeError = error as? StoreError, case .fenced = storeError {
            logger.warning("another process owns the file now; its deliveries are left to it", metadata: ["file": "\(file)"])
            shared.withLock { if $0.files[file] === store { $0.files[file] = nil } }
            return
        }
        logger.error("cannot \(work); retrying in 1 s", metadata: ["file": "\(file)", "error": "\(error)"])
        shared.withLock { if $0.files[file] === store { $0.checkAt[file] = self.clock().addingTimeInterval(1) } }
    }

    /// Deletes final rows past their retention, once an hour per file.
    private func pruneSettledRows(now: Date) {
        let due = shared.withLock { shared in
            shared.files.filter { file, _ in (shared.prunedAt[file] ?? .distantPast) < now.addingTimeInterval(-3_600) }
        }
        for (file, store) in due {
            shared.withLock { $0.prunedAt[file] = now }
            let cutoff = now.addingTimeInterval(-settledRetention)
            blockingWork.async {
                do {
                    try store.commit(nextOffset: nil, ledger: []) { db in try DeliveryLedger.pruneSettled(before: cutoff, in: db) }
                } catch {
                    self.logger.warning("cannot prune settled deliveries", metadata: ["file": "\(file)", "error": "\(error)"])
                }
            }
        }
    }

    private func onBlockingQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            blockingWork.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

extension ProviderOutcome {
    var metricName: String {
        switch self {
        case .accepted: "accepted"
        case .retryable: "retryable"
        case .rejected: "rejected"
        }
    }
}
