import Foundation
import GRDB
import LiaisonStage

/// Keeps a timed stage's due work in the partition's file, so it moves with the partition and
/// is changed in the same transaction as the checkpoint.
public protocol TimedPersistence<State>: StatePersistence {
    associatedtype DueItem: DueWork

    /// When the earliest pending item is due, or nil when none is pending.
    func earliestDue(in db: Database) throws -> Date?
    /// Up to `limit` items due at or before `now`, earliest first, and the state firing them needs.
    func loadDue(at now: Date, limit: Int, from db: Database) throws -> (due: [DueItem], state: State)
}
