/// The contract every stage's logic fulfils. It is a pure function of a record and the
/// state the runtime loaded for it; the runtime owns Kafka, SQLite, retries and the ledger,
/// so stage logic can be tested without either.
public protocol Stage: Sendable {
    associatedtype State: StageState
    /// What the stage reads from a record before de-duplication, so `process` need not parse
    /// it again: ingest parses the upstream record once to learn its id and its contents.
    associatedtype Reading: Sendable = Void

    /// Names the stage in state paths, consumer groups, ledgers and dead letters.
    var name: String { get }

    /// Reads a record once, before its id is checked against the ledger.
    func read(_ record: InputRecord) -> Reading

    /// The id the ledger de-duplicates on. Defaults to the upstream id header or the position.
    func inputID(of record: InputRecord, reading: Reading) -> String

    /// Decides what one record produces and how it changes state. Throwing sends the
    /// record to the dead-letter topic with the failure's reason; the batch goes on.
    func process(_ record: InputRecord, reading: Reading, inputID: String, state: State) throws(StageFailure) -> Effect<State.Change>
}

extension Stage {
    public func inputID(of record: InputRecord, reading: Reading) -> String { record.defaultID }
}

extension Stage where Reading == Void {
    public func read(_ record: InputRecord) {}
}

/// The in-memory view of a partition's state for one batch. Changes are applied one record at
/// a time, so a record that fails leaves no trace in what later records see.
public protocol StageState: Sendable {
    associatedtype Change: Sendable
    mutating func apply(_ change: Change)
}

/// What processing one record amounts to.
public struct Effect<Change: Sendable>: Sendable {
    public var verdict: Verdict
    /// Why, for the ledger: required in spirit for `ignored`, so no record is dropped without one.
    public var reason: String?
    public var outputs: [OutputRecord]
    public var changes: [Change]

    public init(verdict: Verdict = .accepted, reason: String? = nil, outputs: [OutputRecord] = [], changes: [Change] = []) {
        self.verdict = verdict
        self.reason = reason
        self.outputs = outputs
        self.changes = changes
    }
}

/// How a record ended, as written to the ledger.
public enum Verdict: String, Sendable, Codable {
    /// Processed; its outputs (possibly none) were produced.
    case accepted
    /// Understood and deliberately not acted on (the note says why).
    case ignored
    /// Sent to the dead-letter topic with a reason.
    case rejected
}

/// A record the stage cannot process, with a stable code for machines and a message for people.
public struct StageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// The state of a stage that keeps none beyond its ledger.
public struct NoState: StageState {
    public init() {}
    public mutating func apply(_ change: Never) {}
}
