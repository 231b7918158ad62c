import Foundation

/// A stage that also acts when time passes, not only when records arrive: the rules stage's
/// durable timers. The runtime finds what is due in each partition file it owns, asks the stage
/// what that produces, and commits the outcome like a batch of records, so a timer fires once
/// per file transaction and survives restarts.
public protocol TimedStage: Stage {
    associatedtype DueItem: DueWork

    /// What firing `due` (one file's items, earliest first) produces at `now`. Items the stage
    /// cannot act on must still be recorded in the changes it returns: nothing is dropped silently.
    func fire(_ due: [DueItem], state: State, now: Date) -> FiredEffect<State.Change>
}

/// Something a timed stage has to do at a given time.
public protocol DueWork: Sendable {
    var dueAt: Date { get }
}

/// What firing due work amounts to: records to produce and changes to the file's state.
public struct FiredEffect<Change: Sendable>: Sendable {
    public var outputs: [OutputRecord]
    public var changes: [Change]

    public init(outputs: [OutputRecord] = [], changes: [Change] = []) {
        self.outputs = outputs
        self.changes = changes
    }
}
