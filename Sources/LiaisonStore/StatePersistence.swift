import GRDB
import LiaisonStage

/// Maps a stage's pure state to its own tables in the partition's file. It runs inside the
/// runtime's transaction, so state, ledger and checkpoint can never disagree.
public protocol StatePersistence<State>: Sendable {
    associatedtype State: StageState

    func registerMigrations(_ migrator: inout DatabaseMigrator)
    /// Loads what the batch's records need to see.
    func load(for records: some Collection<InputRecord>, from db: Database) throws -> State
    func save(_ changes: [State.Change], to db: Database) throws
    /// Whether these changes removed someone's personal data. The runtime then also scrubs the
    /// old copies SQLite keeps in its write-ahead log once the batch is committed.
    func erasesPersonalData(_ changes: [State.Change]) -> Bool
}

extension StatePersistence {
    public func erasesPersonalData(_ changes: [State.Change]) -> Bool { false }
}

/// For stages that keep nothing but the ledger.
public struct NoStatePersistence: StatePersistence {
    public init() {}
    public func registerMigrations(_ migrator: inout DatabaseMigrator) {}
    public func load(for records: some Collection<InputRecord>, from db: Database) throws -> NoState { NoState() }
    public func save(_ changes: [Never], to db: Database) throws {}
}
