import LiaisonAudit
import LiaisonSchema
import XCTest

/// Check 3 on plain values: actions against their final receipts and the notifier's rows.
final class ReceiptOutcomesAuditTests: XCTestCase {
    private func inputs(actions: [PositionedAction], receipts: [PositionedReceipt]) -> ReceiptInputs {
        var inputs = ReceiptInputs()
        inputs.actions = actions
        inputs.receipts = receipts
        inputs.notifierCheckpoints = [0: 100]
        return inputs
    }

    func testOneFinalReceiptPerActionPassesAndDeferredIsNotFinal() {
        let check = AuditReconciler.receiptOutcomes(inputs(
            actions: [
                AuditFixtures.action("a1", offset: 0), AuditFixtures.action("a2", offset: 1), AuditFixtures.action("a1", offset: 2),
                AuditFixtures.action("forget@cust-9", customer: "cust-9", kind: .forget, offset: 3),
            ],
            receipts: [
                AuditFixtures.receipt("a1", .deferred, channel: nil, offset: 0), AuditFixtures.receipt("a1", .sent, offset: 1),
                AuditFixtures.receipt("a2", .suppressed, channel: nil, offset: 2),
            ]))
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("action_records"), 4)
        XCTAssertEqual(check.count("actions"), 2, "a repeated action record is one action; a forget expects no receipt")
        XCTAssertEqual(check.count("erasure_requests"), 1)
        XCTAssertEqual(check.count("final_sent"), 1)
        XCTAssertEqual(check.count("final_suppressed"), 1)
        XCTAssertEqual(check.count("deferred_receipts"), 1)
    }

    func testACopyOfAReceiptIsARedeliveredCopyNotADiscrepancy() {
        let sent = AuditFixtures.receipt("a1", .sent, offset: 1, providerMessageID: "msg-1")
        var rewritten = AuditFixtures.receipt("a1", .sent, offset: 3, atMs: 2_000, providerMessageID: "msg-1")
        rewritten.position.partition = 1
        var copy = sent
        copy.position.offset = 2
        let check = AuditReconciler.receiptOutcomes(inputs(actions: [AuditFixtures.action("a1", offset: 0)], receipts: [sent, copy, rewritten]))
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("redelivered_copies"), 2)
        XCTAssertEqual(check.count("final_sent"), 1)
        XCTAssertTrue(check.notes.contains { $0.contains("2 redelivered copies (1 byte-identical, 0 with another provider message id)") && $0.contains("de-duplicate by id") }, "\(check.notes)")
    }

    /// An email sent again after the notifier died between the relay's answer and its record:
    /// the same message and channel, with the relay's new queue id.
    func testACopyWithAnotherProviderMessageIDIsAMessageSentAgainNotADiscrepancy() {
        let check = AuditReconciler.receiptOutcomes(inputs(
            actions: [AuditFixtures.action("a1", offset: 0)],
            receipts: [
                AuditFixtures.receipt("a1", .sent, channel: "email", offset: 1, providerMessageID: "Q1"),
                AuditFixtures.receipt("a1", .sent, channel: "email", offset: 2, providerMessageID: "Q2"),
            ]))
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("redelivered_copies"), 1)
        XCTAssertEqual(check.count("resent_copies"), 1)
    }

    func testTwoDifferentFinalReceiptsForOneActionConflict() {
        let check = AuditReconciler.receiptOutcomes(inputs(
            actions: [AuditFixtures.action("a1", offset: 7)],
            receipts: [AuditFixtures.receipt("a1", .sent, offset: 1), AuditFixtures.receipt("a1", .failed, offset: 2)]))
        XCTAssertEqual(check.outcome, .failed)
        XCTAssertEqual(check.count("conflicting_final_receipts"), 1)
        let conflict = check.discrepancies[0]
        XCTAssertEqual(conflict.kind, "conflicting-final-receipts")
        XCTAssertEqual(conflict.id, "a1")
        XCTAssertEqual(conflict.position?.description, "actions/0@7")
        XCTAssertTrue(conflict.detail.contains("sent at deliveries/0@1") && conflict.detail.contains("failed at deliveries/0@2"), conflict.detail)
    }

    func testACopyWithAnotherOutcomeUnderTheSameIDConflicts() {
        let check = AuditReconciler.receiptOutcomes(inputs(
            actions: [AuditFixtures.action("a1", offset: 0)],
            receipts: [AuditFixtures.receipt("a1", .sent, channel: "sms", offset: 1), AuditFixtures.receipt("a1", .sent, channel: "email", offset: 2)]))
        XCTAssertEqual(check.discrepancies.map(\.kind), ["conflicting-receipt-copies"])
    }

    func testAnActionWithoutAFinalReceiptIsPendingDroppedOrADiscrepancy() {
        var inputs = inputs(
            actions: [
                AuditFixtures.action("lost", offset: 0), AuditFixtures.action("queued", offset: 1),
                AuditFixtures.action("erased", customer: "cust-5", offset: 2), AuditFixtures.action("refused", offset: 3),
                AuditFixtures.action("forget@cust-5", customer: "cust-5", kind: .forget, offset: 4), AuditFixtures.action("unread", offset: 100),
            ],
            receipts: [AuditFixtures.receipt("queued", .deferred, channel: nil, offset: 0)])
        inputs.heldDeliveries = ["queued": HeldDelivery(status: "queued", dueAtMs: 9_000)]
        inputs.notifierLedger = [
            AuditFixtures.row("notifier", "lost", topic: "actions", offset: 0),
            AuditFixtures.row("notifier", "refused", topic: "actions", offset: 3, verdict: "rejected"),
        ]
        let check = AuditReconciler.receiptOutcomes(inputs)
        XCTAssertEqual(check.count("still_pending"), 1)
        XCTAssertEqual(check.count("not_read_by_notifier_yet"), 1)
        XCTAssertEqual(check.count("dropped_by_erasure"), 1)
        XCTAssertEqual(check.count("without_final_receipt"), 2)
        XCTAssertEqual(check.discrepancies.compactMap(\.id), ["lost", "refused"])
        XCTAssertTrue(check.discrepancies[0].detail.contains("holds no delivery for it any more"), check.discrepancies[0].detail)
        XCTAssertTrue(check.discrepancies[1].detail.contains("dead-lettered it: schema_violation"), check.discrepancies[1].detail)
    }

    func testSentReceiptsAreCountedPerChannelOncePerAction() {
        let inputs = inputs(
            actions: [],
            receipts: [
                AuditFixtures.receipt("a1", .sent, channel: "sms", offset: 0), AuditFixtures.receipt("a1", .sent, channel: "sms", offset: 1),
                AuditFixtures.receipt("a2", .sent, channel: "email", offset: 2), AuditFixtures.receipt("a3", .failed, channel: "push", offset: 3),
            ])
        XCTAssertEqual(inputs.sentByChannel, ["sms": 1, "email": 1])
    }
}
