import LiaisonAudit
import LiaisonSchema
import LiaisonStage

/// Plain values for the reconciler's tests: ledger rows, actions and receipts at chosen positions.
enum AuditFixtures {
    static func row(
        _ stage: String, _ inputID: String, topic: String = "sor.bank", partition: Int32 = 0, offset: Int64, verdict: String = "accepted",
        outputs: [String] = [], processedAtMs: Int64 = 5_000
    ) -> LedgerRow {
        LedgerRow(
            stage: stage, inputID: inputID, position: RecordPosition(topic: topic, partition: partition, offset: offset), verdict: verdict,
            reason: verdict == "rejected" ? "schema_violation: data.amount" : nil, outputs: outputs, processedAtMs: processedAtMs)
    }

    static func action(_ id: String, customer: String = "cust-1", kind: ActionKind = .engage, partition: Int32 = 0, offset: Int64) -> PositionedAction {
        let decision = DecisionRecordV1(ruleId: "rule", packVersion: "test", inputIds: [], inputPositions: [], reads: JSONObject(), outcome: .fired)
        let action = ActionV1(
            id: id, kind: kind, customerId: customer, ruleId: "rule", template: "service.check-deposit-received", channelClass: .service,
            priority: .high, createdAt: Timestamp(epochMilliseconds: 0), payload: JSONObject(), decision: decision)
        return PositionedAction(position: RecordPosition(topic: "actions", partition: partition, offset: offset), action: action)
    }

    static func receipt(
        _ actionID: String, _ status: DeliveryStatus, channel: String? = "sms", offset: Int64, atMs: Int64 = 1_000, providerMessageID: String? = nil
    ) -> PositionedReceipt {
        var receipt = DeliveryReceiptV1(
            id: "\(actionID):\(status.rawValue)", actionId: actionID, customerId: "cust-1", status: status, at: Timestamp(epochMilliseconds: atMs),
            attempts: 1)
        receipt.channel = channel
        receipt.providerMessageId = providerMessageID
        return PositionedReceipt(
            position: RecordPosition(topic: "deliveries", partition: 0, offset: offset), receipt: receipt,
            bytes: Array("\(receipt.id) \(channel ?? "-") \(atMs) \(providerMessageID ?? "-")".utf8))
    }
}
