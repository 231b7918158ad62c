import Foundation
import LiaisonSchema
import LiaisonStage
import Notifier
import XCTest

/// The intake's decisions, as pure functions of an action, the customer's recent contacts and
/// the clock.
final class NotifierStageTests: XCTestCase {
    private func stage(_ policy: DeliveryPolicy = DeliveryPolicy(), at now: Date = NotifierFixtures.noon) -> NotifierStage {
        NotifierStage(policy: policy, clock: { now })
    }

    private func process(_ action: ActionV1, stage: NotifierStage? = nil, state: NotifierState = NotifierState()) throws -> Effect<NotifierChange> {
        let stage = stage ?? self.stage()
        let record = NotifierFixtures.record(action)
        let reading = stage.read(record)
        return try stage.process(record, reading: reading, inputID: stage.inputID(of: record, reading: reading), state: state)
    }

    private func queued(_ effect: Effect<NotifierChange>) -> QueuedDelivery? {
        effect.changes.lazy.compactMap { if case let .enqueue(delivery) = $0 { delivery } else { nil } }.first
    }

    func testServiceMessageIsQueuedOnTheLadderOfChannelsTheCustomerHas() throws {
        let effect = try process(NotifierFixtures.action(recipient: NotifierFixtures.recipient(marketingConsent: false, pushToken: nil)))
        let delivery = try XCTUnwrap(queued(effect))
        XCTAssertEqual(delivery.ladder, [.sms, .email, .inbox], "push is skipped without a push token")
        XCTAssertEqual(delivery.dueAt, NotifierFixtures.noon)
        XCTAssertEqual(delivery.deadline, NotifierFixtures.noon.addingTimeInterval(6 * 3_600), "a high-priority action is worth 6 h by default")
        XCTAssertTrue(effect.outputs.isEmpty, "the receipt comes when the delivery ends")
        XCTAssertEqual(effect.changes.count, 2, "queued, and counted as a contact")
    }

    func testMarketingNeedsConsentServiceDoesNot() throws {
        let offer = NotifierFixtures.action(
            id: "surplus-to-cd@evt-2", template: "offer.cd-30-day", channelClass: .marketing, priority: .normal,
            recipient: NotifierFixtures.recipient(marketingConsent: false), payload: NotifierFixtures.offerPayload)
        let suppressed = try process(offer)
        XCTAssertNil(queued(suppressed))
        let receipt = try XCTUnwrap(NotifierFixtures.receipts(suppressed.outputs).first)
        XCTAssertEqual(receipt.status, .suppressed)
        XCTAssertEqual(receipt.reason, "no_marketing_consent")
        XCTAssertEqual(receipt.id, "surplus-to-cd@evt-2:suppressed")

        var unknownConsent = offer
        unknownConsent.recipient?.marketingConsent = nil
        XCTAssertEqual(try NotifierFixtures.receipts(process(unknownConsent).outputs).first?.reason, "no_marketing_consent")

        var consenting = offer
        consenting.recipient?.marketingConsent = true
        XCTAssertNotNil(queued(try process(consenting)))

        let service = NotifierFixtures.action(recipient: NotifierFixtures.recipient(marketingConsent: false))
        XCTAssertNotNil(queued(try process(service)), "service messages need no marketing consent")
    }

    func testQuietHoursDeferNonUrgentMessagesToTheWindowsEndInTheCustomersTimeZone() throws {
        // 12:00 UTC is 21:00 in Tokyo; quiet from 20:00 to 07:30 there, so due at 07:30 JST = 22:30 UTC.
        let action = NotifierFixtures.action(
            priority: .normal, recipient: NotifierFixtures.recipient(timeZone: "Asia/Tokyo", quietHours: ("20:00", "07:30")))
        let effect = try process(action)
        let delivery = try XCTUnwrap(queued(effect))
        XCTAssertTrue(delivery.deferred)
        XCTAssertEqual(delivery.dueAt, NotifierFixtures.noon.addingTimeInterval(10.5 * 3_600))
        let receipt = try XCTUnwrap(NotifierFixtures.receipts(effect.outputs).first)
        XCTAssertEqual(receipt.status, .deferred)
        XCTAssertEqual(receipt.reason, "quiet_hours")
        XCTAssertEqual(receipt.deferredUntil?.date, delivery.dueAt)

        var urgent = action
        urgent.priority = .urgent
        let now = try XCTUnwrap(queued(try process(urgent)))
        XCTAssertFalse(now.deferred, "urgent messages are not held back")
        XCTAssertEqual(now.dueAt, NotifierFixtures.noon)

        var outside = action
        outside.recipient?.timeZone = "Europe/Berlin"
        XCTAssertFalse(try XCTUnwrap(queued(try process(outside))).deferred, "13:00 in Berlin is outside the window")
    }

    func testQuietHoursEndIsRightAcrossADaylightSavingChange() throws {
        // Saturday 2026-10-24 23:30 in Berlin (CEST, UTC+2): the window ends Sunday 07:00 CET (UTC+1), after the change.
        let lateSaturday = Date(timeIntervalSince1970: 1_792_877_400)
        let window = try XCTUnwrap(DailyWindow(start: "22:00", end: "07:00"))
        let end = try XCTUnwrap(window.end(ofWindowContaining: lateSaturday, in: XCTUnwrap(TimeZone(identifier: "Europe/Berlin"))))
        XCTAssertEqual(Timestamp(end).text, Timestamp(Date(timeIntervalSince1970: 1_792_908_000)).text, "07:00 CET is 06:00 UTC")
        XCTAssertNil(window.end(ofWindowContaining: NotifierFixtures.noon, in: try XCTUnwrap(TimeZone(identifier: "Europe/Berlin"))))
        XCTAssertNil(DailyWindow(start: "25:00", end: "07:00"))
        XCTAssertNil(DailyWindow(start: "07:00", end: "07:00"))
    }

    func testADeferralPastTheDeadlineIsAMissedEngagementAndAlerted() throws {
        let action = NotifierFixtures.action(
            priority: .normal, validUntil: NotifierFixtures.noon.addingTimeInterval(3_600),
            recipient: NotifierFixtures.recipient(timeZone: "Asia/Tokyo", quietHours: ("20:00", "07:30")))
        let effect = try process(action)
        XCTAssertNil(queued(effect))
        XCTAssertEqual(try NotifierFixtures.receipts(effect.outputs).map(\.status), [.missed])
        let alert = try XCTUnwrap(NotifierFixtures.alerts(effect.outputs).first)
        XCTAssertEqual(alert.kind, .undeliverableInTime)
        XCTAssertTrue(alert.reason.hasPrefix("quiet_hours"), alert.reason)
    }

    func testTheDefaultQuietHoursApplyToCustomersWithoutTheirOwn() throws {
        let policy = DeliveryPolicy(defaultQuietHours: DailyWindow(start: "12:00", end: "13:00"))
        let action = NotifierFixtures.action(priority: .normal, recipient: NotifierFixtures.recipient(timeZone: "UTC"))
        XCTAssertEqual(try XCTUnwrap(queued(try process(action, stage: stage(policy)))).dueAt, NotifierFixtures.noon.addingTimeInterval(3_600))
    }

    func testMissedAndExpiredActionsAreReceiptedAndAlerted() throws {
        var missed = NotifierFixtures.action(id: "checkin-reminder@cust-1/bk-1@2026-11-23T10:00:00Z", kind: .missed)
        missed.decision.reason = "departure passed while the stage was down"
        let effect = try process(missed)
        XCTAssertEqual(try NotifierFixtures.receipts(effect.outputs).map(\.status), [.missed])
        let alert = try XCTUnwrap(NotifierFixtures.alerts(effect.outputs).first)
        XCTAssertEqual(alert.kind, .missed)
        XCTAssertEqual(alert.reason, "departure passed while the stage was down")

        let expired = NotifierFixtures.action(validUntil: NotifierFixtures.noon.addingTimeInterval(-1))
        let late = try process(expired)
        XCTAssertNil(queued(late))
        XCTAssertEqual(try NotifierFixtures.receipts(late.outputs).first?.status, .missed)
        XCTAssertEqual(try NotifierFixtures.alerts(late.outputs).first?.kind, .undeliverableInTime)
    }

    func testFrequencyCapCountsTheCustomersRecentContactsOfTheClass() throws {
        let policy = DeliveryPolicy(frequencyCaps: [.marketing: FrequencyLimit(count: 2, windowSeconds: 7 * 86_400)])
        let nowMs = NotifierFixtures.noon.epochMilliseconds
        let state = NotifierState(contacts: ["cust-1": [
            ContactMark(channelClass: .marketing, atMs: nowMs - 86_400_000),
            ContactMark(channelClass: .marketing, atMs: nowMs - 2 * 86_400_000),
            ContactMark(channelClass: .service, atMs: nowMs - 1_000),
        ]])
        let offer = NotifierFixtures.action(
            id: "surplus-to-cd@evt-3", template: "offer.cd-30-day", channelClass: .marketing, priority: .normal,
            payload: NotifierFixtures.offerPayload)
        let capped = try process(offer, stage: stage(policy), state: state)
        XCTAssertEqual(try NotifierFixtures.receipts(capped.outputs).first?.reason, "frequency_cap: 2 marketing messages within 168 h")

        var older = state
        older.contacts["cust-1"]![1].atMs = nowMs - 8 * 86_400_000
        XCTAssertNotNil(queued(try process(offer, stage: stage(policy), state: older)), "a contact older than the window no longer counts")
        XCTAssertNotNil(queued(try process(NotifierFixtures.action(), stage: stage(policy), state: state)), "service has no cap here")
    }

    func testErasureDropsEverythingAndStopsFutureMessages() throws {
        var erased = NotifierFixtures.action()
        erased.erased = true
        let effect = try process(erased)
        XCTAssertEqual(try NotifierFixtures.receipts(effect.outputs).first?.reason, "customer_erased")
        XCTAssertEqual(effect.changes, [.forget(customerID: "cust-1")])

        let forget = NotifierFixtures.action(id: "erasure@evt-9", kind: .forget, template: "none")
        let forgotten = try process(forget)
        XCTAssertTrue(forgotten.outputs.isEmpty)
        XCTAssertEqual(forgotten.changes, [.forget(customerID: "cust-1")])
    }

    func testNoReachableChannelFailsWithAReceiptAndADeadLetter() throws {
        let action = NotifierFixtures.action(
            channelClass: .marketing, priority: .normal,
            recipient: NotifierFixtures.recipient(email: nil, phone: nil, pushToken: nil))
        let policy = DeliveryPolicy(ladders: [.marketing: [.push, .email]])
        let effect = try process(action, stage: stage(policy))
        XCTAssertNil(queued(effect))
        let receipt = try XCTUnwrap(NotifierFixtures.receipts(effect.outputs).first)
        XCTAssertEqual(receipt.status, .failed)
        XCTAssertEqual(receipt.reason, "no_reachable_channel: the customer has no address for any of [push, email]")
        let letter = try XCTUnwrap(NotifierFixtures.deadLetters(effect.outputs).first)
        XCTAssertEqual(letter.reason, "no_reachable_channel")
        XCTAssertEqual(letter.source.offset, 0)
        XCTAssertEqual(try JSONValueDecoder().decode(ActionV1.self, from: Array(XCTUnwrap(Data(base64Encoded: letter.valueBase64)))), action)
    }

    func testThePreferredChannelGoesFirst() throws {
        var recipient = NotifierFixtures.recipient()
        recipient.extra["preferredChannel"] = .string("email")
        let delivery = try XCTUnwrap(queued(try process(NotifierFixtures.action(recipient: recipient))))
        XCTAssertEqual(delivery.ladder, [.email, .push, .sms, .inbox])
    }

    func testBadRecordsAreRejectedWithAReason() throws {
        let stage = stage()
        let garbage = InputRecord(position: RecordPosition(topic: ActionV1.topic, partition: 0, offset: 3), key: Array("cust-1".utf8), value: Array("{".utf8))
        XCTAssertThrowsError(try stage.process(garbage, reading: stage.read(garbage), inputID: "x", state: NotifierState())) { error in
            XCTAssertEqual((error as? StageFailure)?.code, "invalid_action")
        }
        let action = NotifierFixtures.action()
        let misfiled = NotifierFixtures.record(action, key: "cust-2")
        XCTAssertThrowsError(try stage.process(misfiled, reading: stage.read(misfiled), inputID: action.id, state: NotifierState())) { error in
            XCTAssertEqual((error as? StageFailure)?.code, "key_mismatch")
        }
        XCTAssertEqual(stage.inputID(of: misfiled, reading: stage.read(misfiled)), action.id, "the ledger de-duplicates on the action id")
    }
}
