import LiaisonSchema
import LiaisonStage

/// What check 3 reads: the actions and receipts on their topics, and what the notifier's files
/// say about the actions that have no final receipt yet.
public struct ReceiptInputs: Sendable {
    /// Every readable record of the actions topic, in topic order.
    public var actions: [PositionedAction] = []
    /// Every readable record of the receipts topic, in topic order.
    public var receipts: [PositionedReceipt] = []
    public var unreadableActions: [UnreadableRecord] = []
    public var unreadableReceipts: [UnreadableRecord] = []
    /// The offset the notifier resumes at, per partition of the actions topic; a partition
    /// without one has not been read by the notifier yet.
    public var notifierCheckpoints: [Int32: Int64] = [:]
    /// The notifier's delivery rows still holding their delivery (queued, deferred, attempting), by action id.
    public var heldDeliveries: [String: HeldDelivery] = [:]
    /// The notifier's ledger, for the verdict on an action without a receipt.
    public var notifierLedger: [LedgerRow] = []

    public init() {}

    /// Actions with a final `sent` receipt, per channel: what the sinks should hold.
    public var sentByChannel: [String: Int] {
        var actions: [String: Set<String>] = [:]
        for positioned in receipts where positioned.receipt.status == .sent {
            actions[positioned.receipt.channel ?? "unknown", default: []].insert(positioned.receipt.actionId)
        }
        return actions.mapValues(\.count)
    }
}

/// An action record and where it is.
public struct PositionedAction: Sendable {
    public var position: RecordPosition
    public var action: ActionV1

    public init(position: RecordPosition, action: ActionV1) {
        self.position = position
        self.action = action
    }
}

/// A receipt record, with its bytes so that an identical copy can be told from a different receipt.
public struct PositionedReceipt: Sendable {
    public var position: RecordPosition
    public var receipt: DeliveryReceiptV1
    public var bytes: [UInt8]

    public init(position: RecordPosition, receipt: DeliveryReceiptV1, bytes: [UInt8]) {
        self.position = position
        self.receipt = receipt
        self.bytes = bytes
    }
}

/// A record that is not what its topic should carry.
public struct UnreadableRecord: Sendable {
    public var position: RecordPosition
    public var problem: String

    public init(position: RecordPosition, problem: String) {
        self.position = position
        self.problem = problem
    }
}

/// A delivery the notifier still holds.
public struct HeldDelivery: Sendable, Equatable {
    /// `queued` (deferred ones too) or `attempting`.
    public var status: String
    public var dueAtMs: Int64?

    public init(status: String, dueAtMs: Int64?) {
        self.status = status
        self.dueAtMs = dueAtMs
    }
}
