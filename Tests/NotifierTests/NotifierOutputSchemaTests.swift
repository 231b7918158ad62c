import Foundation
import LiaisonSchema
import LiaisonStage
import Notifier
import SchemaChecking
import XCTest

/// Every kind of record the notifier writes passes its topic's JSON Schema in schemas/, as
/// the teams reading those topics will check it.
final class NotifierOutputSchemaTests: XCTestCase {
    func testReceiptsAlertsDeadLettersAndEngagementMessagesMatchTheirSchemas() throws {
        let now = NotifierFixtures.noon
        let outputs = NotifierOutputs(topics: NotifierTopics())
        var action = NotifierFixtures.action()
        action.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        action.validUntil = Timestamp(now.addingTimeInterval(3_600))
        let message = OutgoingMessage(
            actionID: action.id, idempotencyKey: "\(action.id)/agent-task", channel: .agentTask, customerID: action.customerId,
            address: action.customerId, subject: "Call back", text: "Ada was unhappy", locale: "en")
        var records: [OutputRecord] = [
            outputs.receipt(action, .sent, channel: .sms, at: now, attempts: 2, providerMessageID: "msg-1"),
            outputs.receipt(action, .deferred, reason: "quiet_hours", at: now, deferredUntil: now.addingTimeInterval(600)),
            outputs.receipt(action, .suppressed, reason: "no_marketing_consent", at: now),
            outputs.receipt(action, .failed, reason: "delivery_failed: sms: 400", channel: .sms, at: now, attempts: 1),
            outputs.receipt(action, .missed, reason: "expired", at: now),
            outputs.alert(action, .missed, reason: "departure passed", at: now),
            outputs.alert(action, .undeliverableInTime, reason: "quiet hours", at: now),
            outputs.deadLetter(action, source: .init(topic: ActionV1.topic, partition: 1, offset: 9), reason: "delivery_failed", message: "all channels refused", at: now),
        ]
        records.append(try XCTUnwrap(outputs.engagementMessage(message, action: action, at: now)))
        let schemaOf = { (record: OutputRecord) -> String in
            switch record.topic {
            case DeliveryReceiptV1.topic: "liaison.deliveries.v1"
            case EngagementAlertV1.topic: "liaison.alerts.v1"
            case DeadLetterV1.topic: "liaison.dlq.v1"
            default: "liaison.engagement-messages.v1"
            }
        }
        let verdicts = try SchemaChecker.check(records.enumerated().map { ("\($0.offset) \($0.element.id)", $0.element.value, schemaOf($0.element)) })
        XCTAssertEqual(verdicts.count, records.count)
        for (name, verdict) in verdicts.sorted(by: { $0.key < $1.key }) {
            XCTAssertTrue(verdict.valid, "\(name): \(verdict.message)")
        }
    }
}
