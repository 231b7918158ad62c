import Foundation
import LiaisonSchema
import LiaisonStage
import Notifier
import XCTest

/// What each attempt is and what its outcome means, against the real template catalog.
final class DeliveryPlannerTests: XCTestCase {
    private let now = NotifierFixtures.noon

    private func planner(_ policy: DeliveryPolicy = DeliveryPolicy()) throws -> DeliveryPlanner {
        DeliveryPlanner(
            policy: policy, outputs: NotifierOutputs(topics: NotifierTopics()),
            renderer: TemplateRenderer(catalog: try NotifierFixtures.catalog, maxSMSSegments: policy.maxSMSSegments))
    }

    private func delivery(_ action: ActionV1 = NotifierFixtures.action(), ladder: [Channel] = [.push, .sms, .email], deadlineIn: TimeInterval = 6 * 3_600) -> QueuedDelivery {
        QueuedDelivery(
            action: action, source: .init(topic: ActionV1.topic, partition: 0, offset: 5), ladder: ladder, dueAt: now,
            deadline: now.addingTimeInterval(deadlineIn))
    }

    private func send(_ planner: DeliveryPlanner, _ delivery: QueuedDelivery, at time: Date? = nil) throws -> (QueuedDelivery, OutgoingMessage) {
        guard case let .send(next, message) = planner.nextStep(delivery, now: time ?? now) else {
            XCTFail("expected a message to send")
            throw CancellationError()
        }
        return (next, message)
    }

    func testTheFirstChannelIsRenderedInTheCustomersLocaleWithAStableKey() throws {
        let planner = try planner()
        let action = NotifierFixtures.action(recipient: NotifierFixtures.recipient(locale: "de-DE"))
        let (_, message) = try send(planner, delivery(action))
        XCTAssertEqual(message.channel, .push)
        XCTAssertEqual(message.address, "push-token-ada")
        XCTAssertEqual(message.idempotencyKey, "check-deposit-confirmation@evt-1/push")
        XCTAssertEqual(message.locale, "de", "the language the text is in")
        XCTAssertFalse(message.text.isEmpty)
        XCTAssertFalse(message.text.contains("{{"))
        XCTAssertEqual(message.metadata["template"], "service.check-deposit-received")
        let (_, again) = try send(planner, delivery(action))
        XCTAssertEqual(again, message, "rendering is deterministic: a retry sends the same message")
    }

    func testAcceptedEndsWithASentReceipt() throws {
        let planner = try planner()
        let (claimed, message) = try send(planner, delivery())
        let settlement = planner.settle(claimed, message: message, outcome: .accepted(providerMessageID: "msg-1"), now: now)
        XCTAssertEqual(settlement.status, .sent)
        XCTAssertEqual(settlement.providerMessageID, "msg-1")
        let receipt = try XCTUnwrap(NotifierFixtures.receipts(settlement.outputs).first)
        XCTAssertEqual(receipt.id, "check-deposit-confirmation@evt-1:sent")
        XCTAssertEqual(receipt.status, .sent)
        XCTAssertEqual(receipt.channel, "push")
        XCTAssertEqual(receipt.attempts, 1)
        XCTAssertEqual(receipt.providerMessageId, "msg-1")
    }

    func testRetryableOutcomesBackOffExponentiallyWithJitterThenFallBack() throws {
        let policy = DeliveryPolicy(retry: RetryPolicy(initialDelay: 2, multiplier: 2, maxDelay: 60, maxAttemptsPerChannel: 3, jitter: 0.2))
        let planner = try planner(policy)
        var current = delivery()
        var delays: [TimeInterval] = []
        for attempt in 1...3 {
            let (claimed, message) = try send(planner, current, at: current.dueAt)
            XCTAssertEqual(message.channel, .push)
            let settlement = planner.settle(claimed, message: message, outcome: .retryable(reason: "push answered 503", retryAfter: nil), now: current.dueAt)
            XCTAssertNil(settlement.status)
            XCTAssertTrue(settlement.outputs.isEmpty)
            if attempt < 3 {
                delays.append(settlement.delivery.dueAt.timeIntervalSince(current.dueAt))
                XCTAssertEqual(settlement.delivery.rung, 0)
            } else {
                XCTAssertEqual(settlement.delivery.rung, 1, "after 3 attempts the next channel is tried")
                XCTAssertEqual(settlement.delivery.dueAt, current.dueAt, "at once")
            }
            current = settlement.delivery
        }
        XCTAssertEqual(delays[0], 2, accuracy: 0.4)
        XCTAssertEqual(delays[1], 4, accuracy: 0.8)
        XCTAssertEqual(current.totalAttempts, 3)
        XCTAssertEqual(current.failures.count, 3)
        let (_, sms) = try send(planner, current, at: current.dueAt)
        XCTAssertEqual(sms.channel, .sms)
        XCTAssertEqual(sms.idempotencyKey, "check-deposit-confirmation@evt-1/sms")
        XCTAssertEqual(
            policy.retry.delay(afterAttempt: 2, key: "k"), policy.retry.delay(afterAttempt: 2, key: "k"),
            "the jitter is a function of key and attempt, so the stored schedule is reproducible")
    }

    func testRetryAfterIsHonouredWhenLongerThanTheBackOff() throws {
        let planner = try planner()
        let (claimed, message) = try send(planner, delivery())
        let settlement = planner.settle(claimed, message: message, outcome: .retryable(reason: "429", retryAfter: .seconds(120)), now: now)
        XCTAssertEqual(settlement.delivery.dueAt, now.addingTimeInterval(120))
    }

    func testRejectedFallsBackAtOnceAndTheLastRejectionFailsWithADeadLetter() throws {
        let planner = try planner()
        var current = delivery(ladder: [.push, .email])
        let (claimed, push) = try send(planner, current)
        let fallBack = planner.settle(claimed, message: push, outcome: .rejected(reason: "unregistered token"), now: now)
        XCTAssertNil(fallBack.status)
        XCTAssertEqual(fallBack.delivery.channel, .email)
        current = fallBack.delivery
        let (claimedAgain, email) = try send(planner, current)
        XCTAssertEqual(email.channel, .email)
        XCTAssertNotNil(email.html)
        let failed = planner.settle(claimedAgain, message: email, outcome: .rejected(reason: "smtp 550 mailbox unavailable"), now: now)
        XCTAssertEqual(failed.status, .failed)
        let receipt = try XCTUnwrap(NotifierFixtures.receipts(failed.outputs).first)
        XCTAssertEqual(receipt.status, .failed)
        XCTAssertEqual(receipt.attempts, 2)
        XCTAssertEqual(receipt.reason, "delivery_failed: push: unregistered token; email: smtp 550 mailbox unavailable")
        let letter = try XCTUnwrap(NotifierFixtures.deadLetters(failed.outputs).first)
        XCTAssertEqual(letter.reason, "delivery_failed")
        XCTAssertEqual(letter.inputID, "check-deposit-confirmation@evt-1")
        XCTAssertEqual(letter.source.offset, 5)
    }

    func testAnOpenCircuitMovesDownTheLadderWithoutCountingAnAttempt() throws {
        let planner = try planner()
        let (claimed, push) = try send(planner, delivery())
        let reopen = now.addingTimeInterval(30)
        let moved = planner.settle(claimed, message: push, outcome: .retryable(reason: "circuit open", retryAfter: nil), circuitOpenUntil: reopen, now: now)
        XCTAssertEqual(moved.delivery.channel, .sms)
        XCTAssertEqual(moved.delivery.totalAttempts, 0)

        let lastRung = delivery(ladder: [.push])
        let (claimedLast, message) = try send(planner, lastRung)
        let waiting = planner.settle(claimedLast, message: message, outcome: .retryable(reason: "circuit open", retryAfter: nil), circuitOpenUntil: reopen, now: now)
        XCTAssertNil(waiting.status)
        XCTAssertEqual(waiting.delivery.dueAt, reopen, "with no other channel it waits for the breaker")
    }

    func testRunningOutOfTimeFailsAndAlerts() throws {
        let planner = try planner()
        let (claimed, message) = try send(planner, delivery(ladder: [.push], deadlineIn: 5))
        let settlement = planner.settle(claimed, message: message, outcome: .retryable(reason: "timeout", retryAfter: .seconds(60)), now: now)
        XCTAssertEqual(settlement.status, .failed)
        XCTAssertEqual(try NotifierFixtures.alerts(settlement.outputs).first?.kind, .undeliverableInTime)
        XCTAssertEqual(try NotifierFixtures.deadLetters(settlement.outputs).first?.reason, "delivery_deadline_passed")

        var deferred = delivery(deadlineIn: 60)
        deferred.deferred = true
        guard case let .finish(missed) = planner.nextStep(deferred, now: now.addingTimeInterval(61)) else {
            return XCTFail("a deferred delivery past its deadline is not sent")
        }
        XCTAssertEqual(missed.status, .missed)
        XCTAssertEqual(try NotifierFixtures.receipts(missed.outputs).first?.status, .missed)
        XCTAssertEqual(try NotifierFixtures.alerts(missed.outputs).first?.kind, .undeliverableInTime)
    }

    func testChannelsThatCannotCarryTheMessageAreSkipped() throws {
        let long = String(repeating: "Zahlung eingegangen ", count: 40)
        var payload = NotifierFixtures.depositPayload
        payload["depositId"] = .string(long)
        let planner = try planner(DeliveryPolicy(maxSMSSegments: 1))
        let action = NotifierFixtures.action(payload: payload)
        let (skipped, message) = try send(planner, delivery(action, ladder: [.sms, .email]))
        XCTAssertEqual(message.channel, .email, "an SMS over the segment limit is not sent")
        XCTAssertEqual(skipped.rung, 1)
        XCTAssertEqual(skipped.failures.count, 1)
        XCTAssertTrue(skipped.failures[0].hasPrefix("sms: "), skipped.failures[0])

        let agentOnly = NotifierFixtures.action(template: "agent.feedback-callback", channelClass: .agentTask)
        guard case let .finish(failed) = planner.nextStep(delivery(agentOnly, ladder: [.sms]), now: now) else {
            return XCTFail("a template without an SMS variant cannot go out by SMS")
        }
        XCTAssertEqual(failed.status, .failed)
    }

    func testAgentTasksRenderForTheirTopic() throws {
        let planner = try planner()
        let action = NotifierFixtures.action(
            id: "negative-feedback-agent-call@evt-4", template: "agent.feedback-callback", channelClass: .agentTask,
            payload: JSONObject(["tier": .string("gold"), "feedbackChannel": .string("survey"), "text": .string("Terrible <b>service</b>")]))
        let (claimed, message) = try send(planner, delivery(action, ladder: [.agentTask]))
        XCTAssertEqual(message.channel, .agentTask)
        XCTAssertEqual(message.address, "cust-1")
        let record = try XCTUnwrap(planner.outputs.engagementMessage(message, action: claimed.action, at: now))
        XCTAssertEqual(record.topic, LiaisonTopics.agentTasks)
        let task = try JSONValueDecoder().decode(EngagementMessageV1.self, from: record.value)
        XCTAssertEqual(task.channel, "agent-task")
        XCTAssertEqual(task.payload["tier"], .string("gold"))
        XCTAssertEqual(task.id, "negative-feedback-agent-call@evt-4/agent-task")
    }
}
