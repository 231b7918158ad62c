import LiaisonStage

/// One row of a stage's ledger as its partition file holds it: the record read, the verdict and
/// the ids it produced. Each stage's output ids are the next stage's input ids, which is how
/// `liaison trace` follows one record and `liaison audit` follows all of them.
public struct LedgerRow: Sendable, Equatable {
    public var stage: String
    public var inputID: String
    public var position: RecordPosition
    /// `accepted`, `ignored` or `rejected`.
    public var verdict: String
    public var reason: String?
    public var outputs: [String]
    public var processedAtMs: Int64

    public init(
        stage: String, inputID: String, position: RecordPosition, verdict: String, reason: String? = nil, outputs: [String] = [],
        processedAtMs: Int64
    ) {
        self.stage = stage
        self.inputID = inputID
        self.position = position
        self.verdict = verdict
        self.reason = reason
        self.outputs = outputs
        self.processedAtMs = processedAtMs
    }
}
