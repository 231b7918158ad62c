import LiaisonSchema
import LiaisonStage

extension AuditReconciler {
    /// Check 3: every action ends with exactly one final receipt (`sent`, `suppressed`, `failed`
    /// or `missed`; `deferred` only says when delivery will be tried). A receipt is known by its
    /// id (`<action>:<status>`), and consumers de-duplicate by it, so a second record with the same
    /// id and outcome is a redelivered copy (a crash between produce and checkpoint writes one),
    /// not a second receipt. An action without a final receipt is still pending while the notifier
    /// holds its delivery or has not read it yet, and is settled by an erasure (`forget`) of its
    /// customer, which drops queued deliveries; otherwise it is a discrepancy.
    public static func receiptOutcomes(_ inputs: ReceiptInputs) -> AuditCheck {
        var check = AuditCheck(name: "receipts", title: "every action has exactly one final receipt")
        let receiptsByAction = Dictionary(grouping: inputs.receipts, by: \.receipt.actionId)
        var firstRecord: [String: PositionedAction] = [:]
        var order: [String] = []
        for positioned in inputs.actions where firstRecord[positioned.action.id] == nil {
            firstRecord[positioned.action.id] = positioned
            order.append(positioned.action.id)
        }
        let erased = Set(inputs.actions.filter { $0.action.kind == .forget }.map(\.action.customerId))
        let rejections = Dictionary(
            inputs.notifierLedger.filter { $0.verdict == "rejected" }.map { ($0.inputID, $0.reason ?? "no reason recorded") }) { first, _ in first }
        let ledgered = Set(inputs.notifierLedger.map(\.inputID))

        var tally = ReceiptTally()
        for id in order {
            let positioned = firstRecord[id]!
            guard positioned.action.kind != .forget else {
                tally.erasureRequests += 1
                continue
            }
            tally.actions += 1
            let finals = (receiptsByAction[id] ?? []).filter(\.receipt.status.isFinal)
            let distinct = distinctReceipts(finals, tally: &tally, check: &check)
            switch distinct.count {
            case 1:
                tally.settled[distinct[0].receipt.status, default: 0] += 1
            case 0:
                if inputs.heldDeliveries[id] != nil {
                    tally.stillPending += 1
                } else if inputs.notifierCheckpoints[positioned.position.partition].map({ $0 <= positioned.position.offset }) ?? true {
                    tally.notReadYet += 1
                } else if erased.contains(positioned.action.customerId) {
                    tally.droppedByErasure += 1
                } else {
                    let taken = ledgered.contains(id)
                        ? "the notifier took it and holds no delivery for it any more" : "the notifier's ledger has no row for it"
                    let why = rejections[id].map { "the notifier dead-lettered it: \($0)" } ?? taken
                    check.discrepancies.append(Discrepancy(
                        kind: "no-final-receipt", stage: "notifier", position: positioned.position, id: id,
                        detail: "no final receipt for this action; \(why)"))
                }
            default:
                check.discrepancies.append(Discrepancy(
                    kind: "conflicting-final-receipts", stage: "notifier", position: positioned.position, id: id,
                    detail: "\(distinct.count) different final receipts: "
                        + distinct.map { "\($0.receipt.status.rawValue) at \($0.position)" }.joined(separator: ", ")))
            }
        }
        for unreadable in inputs.unreadableActions {
            check.discrepancies.append(
                Discrepancy(kind: "unreadable-action", stage: "rules", position: unreadable.position, detail: unreadable.problem))
        }
        for unreadable in inputs.unreadableReceipts {
            check.discrepancies.append(
                Discrepancy(kind: "unreadable-receipt", stage: "notifier", position: unreadable.position, detail: unreadable.problem))
        }
        tally.report(
            into: &check, actionRecords: inputs.actions.count, deferred: inputs.receipts.filter { $0.receipt.status == .deferred }.count,
            orphans: inputs.receipts.filter { firstRecord[$0.receipt.actionId] == nil }.count)
        return check
    }

    /// The final receipts of one action, one per receipt id; further records with an id already
    /// seen are counted as redelivered copies when they name the same channel, else reported. A
    /// copy with another provider message id is the same message sent again after an attempt
    /// whose outcome the notifier could not know (an SMTP relay gives each copy its own id).
    private static func distinctReceipts(_ finals: [PositionedReceipt], tally: inout ReceiptTally, check: inout AuditCheck) -> [PositionedReceipt] {
        var distinct: [PositionedReceipt] = []
        for receipt in finals {
            guard let first = distinct.first(where: { $0.receipt.id == receipt.receipt.id }) else {
                distinct.append(receipt)
                continue
            }
            if first.receipt.channel == receipt.receipt.channel {
                tally.copies += 1
                if first.bytes == receipt.bytes { tally.identicalCopies += 1 }
                if first.receipt.providerMessageId != receipt.receipt.providerMessageId { tally.resentCopies += 1 }
            } else {
                check.discrepancies.append(Discrepancy(
                    kind: "conflicting-receipt-copies", stage: "notifier", position: receipt.position, id: receipt.receipt.id,
                    detail: "the same receipt id as at \(first.position) with another outcome: channel \(receipt.receipt.channel ?? "none"), "
                        + "provider message \(receipt.receipt.providerMessageId ?? "none") against \(first.receipt.channel ?? "none"), "
                        + "\(first.receipt.providerMessageId ?? "none")"))
            }
        }
        return distinct
    }
}

/// Check 3's figures while it runs.
private struct ReceiptTally {
    var actions = 0
    var erasureRequests = 0
    var settled: [DeliveryStatus: Int] = [:]
    var copies = 0
    var identicalCopies = 0
    var resentCopies = 0
    var stillPending = 0
    var notReadYet = 0
    var droppedByErasure = 0

    func report(into check: inout AuditCheck, actionRecords: Int, deferred: Int, orphans: Int) {
        check.add("action_records", actionRecords)
        check.add("actions", actions)
        check.add("erasure_requests", erasureRequests)
        for status in [DeliveryStatus.sent, .suppressed, .failed, .missed] { check.add("final_\(status.rawValue)", settled[status, default: 0]) }
        check.add("deferred_receipts", deferred)
        check.add("redelivered_copies", copies)
        check.add("resent_copies", resentCopies)
        check.add("still_pending", stillPending)
        check.add("not_read_by_notifier_yet", notReadYet)
        check.add("dropped_by_erasure", droppedByErasure)
        check.add("without_final_receipt", check.discrepancies.filter { $0.kind == "no-final-receipt" }.count)
        check.add("conflicting_final_receipts", check.discrepancies.filter { $0.kind == "conflicting-final-receipts" }.count)
        check.add("receipts_for_unknown_actions", orphans)
        if copies > 0 {
            check.notes.append(
                "\(copies) redelivered copies (\(identicalCopies) byte-identical, \(resentCopies) with another provider message id): "
                    + "a receipt written again with the same id, as after a crash between produce and checkpoint, or after the "
                    + "message was sent again under the same key; consumers de-duplicate by id, so they are not discrepancies")
        }
        if stillPending + notReadYet > 0 {
            check.notes.append("\(stillPending + notReadYet) actions are still pending in the notifier (queued, deferred, being attempted, or not read yet)")
        }
        if orphans > 0 {
            check.notes.append("\(orphans) receipts name actions that are not on the actions topic (deleted by its retention, or written by something else)")
        }
    }
}
