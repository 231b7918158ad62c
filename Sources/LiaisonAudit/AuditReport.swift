import LiaisonStage

/// What `liaison audit` found after a run: per check, its counts, notes an operator should
/// know (what was not audited and why) and every discrepancy, each naming where to look.
public struct AuditReport: Encodable, Sendable {
    public var checks: [AuditCheck]

    public init(checks: [AuditCheck]) {
        self.checks = checks
    }

    public var discrepancyCount: Int { checks.reduce(0) { $0 + $1.discrepancies.count } }

    /// No check found a discrepancy (skipped checks found none).
    public var passed: Bool { discrepancyCount == 0 }

    public func check(_ name: String) -> AuditCheck? {
        checks.first { $0.name == name }
    }

    private enum CodingKeys: String, CodingKey {
        case passed, discrepancies, checks
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(passed, forKey: .passed)
        try container.encode(discrepancyCount, forKey: .discrepancies)
        try container.encode(checks, forKey: .checks)
    }
}

/// One reconciliation: what it counted and what did not add up.
public struct AuditCheck: Encodable, Sendable {
    public enum Outcome: String, Encodable, Sendable {
        case passed, failed, skipped
    }

    /// A short name, e.g. `upstream-verdicts`.
    public var name: String
    /// What the check holds the fleet to.
    public var title: String
    /// In the order they are printed.
    public var counts: [AuditCount] = []
    public var notes: [String] = []
    public var discrepancies: [Discrepancy] = []
    /// Why the check did not run, when it did not.
    public var skippedBecause: String?

    public init(name: String, title: String) {
        self.name = name
        self.title = title
    }

    public var outcome: Outcome {
        if skippedBecause != nil { return .skipped }
        return discrepancies.isEmpty ? .passed : .failed
    }

    /// The value of a count, or nil when the check has no count of that name.
    public func count(_ name: String) -> Int? {
        counts.first { $0.name == name }?.value
    }

    mutating func add(_ name: String, _ value: Int) {
        counts.append(AuditCount(name: name, value: value))
    }

    private enum CodingKeys: String, CodingKey {
        case name, title, outcome, counts, notes, discrepancies, skippedBecause
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(title, forKey: .title)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(Dictionary(counts.map { ($0.name, $0.value) }, uniquingKeysWith: +), forKey: .counts)
        try container.encode(notes, forKey: .notes)
        try container.encode(discrepancies, forKey: .discrepancies)
        try container.encodeIfPresent(skippedBecause, forKey: .skippedBecause)
    }
}

/// A named figure of a check, e.g. `lost: 0`.
public struct AuditCount: Sendable, Equatable {
    public var name: String
    public var value: Int

    public init(name: String, value: Int) {
        self.name = name
        self.value = value
    }
}

/// Something that does not add up, with the stage where it went wrong and the record or id to
/// start from (`liaison trace ID` follows it further).
public struct Discrepancy: Encodable, Sendable, Equatable {
    /// What kind, e.g. `lost`, `conflicting-final-receipts`, `channel-count-mismatch`.
    public var kind: String
    /// The stage that should have done something and did not, or did it twice.
    public var stage: String
    /// The record concerned, when there is one.
    public var position: RecordPosition?
    /// The id concerned: an input id, an action id, an idempotency key or a Message-ID.
    public var id: String?
    /// What is wrong, said so that the operator can act on it.
    public var detail: String

    public init(kind: String, stage: String, position: RecordPosition? = nil, id: String? = nil, detail: String) {
        self.kind = kind
        self.stage = stage
        self.position = position
        self.id = id
        self.detail = detail
    }

    private enum CodingKeys: String, CodingKey {
        case kind, stage, topic, partition, offset, id, detail
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(stage, forKey: .stage)
        try container.encodeIfPresent(position?.topic, forKey: .topic)
        try container.encodeIfPresent(position?.partition, forKey: .partition)
        try container.encodeIfPresent(position?.offset, forKey: .offset)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encode(detail, forKey: .detail)
    }
}
