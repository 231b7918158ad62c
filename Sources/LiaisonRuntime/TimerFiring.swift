import Foundation
import GRDB
import LiaisonStage
import LiaisonStore

/// A timed stage and its persistence with their types erased, so the one processing loop can
/// fire timers for the stages that have them.
struct TimerFiring: Sendable {
    /// When the file's earliest pending timer is due, or nil when it has none.
    var earliestDue: @Sendable (PartitionStore) throws -> Date?
    /// Fires up to `limit` timers due at `now` in the file.
    var fire: @Sendable (PartitionStore, Date, Int) throws -> FiredTimers
}

/// Timers fired by the stage, waiting to be produced and committed.
struct FiredTimers: @unchecked Sendable {
    var dueAt: [Date]
    var outputs: [OutputRecord]
    var saveState: (Database) throws -> Void
    var erasesPersonalData: Bool
}

func timerFiring<S: TimedStage, P: TimedPersistence>(_ stage: S, _ persistence: P) -> TimerFiring
where P.State == S.State, P.DueItem == S.DueItem {
    TimerFiring(
        earliestDue: { store in try store.read { db in try persistence.earliestDue(in: db) } },
        fire: { store, now, limit in
            let (due, state) = try store.read { db in try persistence.loadDue(at: now, limit: limit, from: db) }
            let effect = stage.fire(due, state: state, now: now)
            let changes = effect.changes
            return FiredTimers(
                dueAt: due.map(\.dueAt), outputs: effect.outputs,
                saveState: { db in try persistence.save(changes, to: db) },
                erasesPersonalData: persistence.erasesPersonalData(changes))
        })
}
