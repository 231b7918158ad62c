import LiaisonAudit
import LiaisonSinks
import XCTest

/// Check 4 on plain values: the sinks' report against the sent receipts.
final class SinkDeliveriesAuditTests: XCTestCase {
    private func report(smsDeliveries: Int, duplicateKeys: [String] = [], mail: SinkReport.Mail?) -> SinkReport {
        var sms = SinkReport.HTTPPath(path: "/sms")
        sms.requests = smsDeliveries + duplicateKeys.count
        sms.deliveries = smsDeliveries
        sms.duplicates = duplicateKeys.count
        sms.duplicateKeys = duplicateKeys
        var webhook = SinkReport.HTTPPath(path: "/hooks/crm")
        webhook.requests = 1
        webhook.deliveries = 1
        return SinkReport(http: [sms, webhook], mail: mail)
    }

    func testWithoutAReportTheCheckIsSkipped() {
        let check = AuditReconciler.sinkDeliveries(nil, sentByChannel: ["sms": 3])
        XCTAssertEqual(check.outcome, .skipped)
        XCTAssertTrue(check.skippedBecause?.contains("--sinks") == true)
    }

    func testSinksHoldingWhatWasSentOnceEachPass() {
        let mail = SinkReport.Mail(taken: 2, distinct: 2, duplicates: 0, duplicateMessageIDs: [])
        let check = AuditReconciler.sinkDeliveries(report(smsDeliveries: 3, mail: mail), sentByChannel: ["sms": 3, "email": 2, "webhook": 1])
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("sink_deliveries_sms"), 3)
        XCTAssertEqual(check.count("sink_deliveries_webhook"), 1)
        XCTAssertEqual(check.count("sink_deliveries_push"), 0)
    }

    func testResendsUnderTheSameKeyOrMessageIDAreCountedNotDiscrepancies() {
        let mail = SinkReport.Mail(taken: 3, distinct: 2, duplicates: 1, duplicateMessageIDs: ["<abc@liaison.test>"])
        let check = AuditReconciler.sinkDeliveries(
            report(smsDeliveries: 3, duplicateKeys: ["a1/sms"], mail: mail), sentByChannel: ["sms": 3, "email": 2, "webhook": 1])
        XCTAssertEqual(check.outcome, .passed, "\(check.discrepancies)")
        XCTAssertEqual(check.count("http_resent_same_key"), 1)
        XCTAssertEqual(check.count("email_resent_same_message_id"), 1)
        XCTAssertTrue(check.notes.contains { $0.contains("1 messages were sent again under the same idempotency key and 1 under the same Message-ID")
            && $0.contains("a1/sms, <abc@liaison.test>") }, "\(check.notes)")
    }

    func testMoreOrFewerMessagesThanSentReceiptsAreDiscrepancies() {
        let mail = SinkReport.Mail(taken: 3, distinct: 3, duplicates: 0, duplicateMessageIDs: [])
        let check = AuditReconciler.sinkDeliveries(
            report(smsDeliveries: 3, mail: mail), sentByChannel: ["sms": 3, "email": 2, "push": 1, "webhook": 1])
        XCTAssertEqual(check.outcome, .failed)
        let mismatch = check.discrepancies.filter { $0.kind == "channel-count-mismatch" }
        XCTAssertEqual(mismatch.map(\.id), ["email", "push"])
        XCTAssertTrue(mismatch[0].detail.contains("2 actions have a sent receipt for email, but the sinks hold 3"), mismatch[0].detail)
        XCTAssertTrue(mismatch[1].detail.contains("1 actions have a sent receipt for push, but the sinks hold 0"), mismatch[1].detail)
    }
}
