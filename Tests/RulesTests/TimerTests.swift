import Foundation
import LiaisonSchema
import LiaisonStage
import Rules
import XCTest

/// Durable timers through a real partition file in simulated time: scheduling, moving,
/// cancelling, firing once, overdue policies, `missed`, and restarts that span the due time.
final class TimerTests: XCTestCase {
    static func pack(overdue: String = "fire-late", extra: String = "") -> String {
        """
        pack: timer-test
        version: "7"
        rules:
          - id: reminder
            on: [travel.booking.confirmed, travel.flight.rescheduled]
            schedule:
              key: '"checkin:" + event.data.bookingId'
              at: timestamp(event.data.departure) - 24h
              valid-until: timestamp(event.data.departure) - 1h
              late-after: 10m
              overdue: \(overdue)
        \(extra)
            action:
              template: travel.checkin-reminder
              channel-class: service
              priority: high
              payload:
                bookingId: event.data.bookingId
                departure: event.data.departure
          - id: reminder-cancel
            on: [travel.booking.cancelled]
            cancel: '"checkin:" + event.data.bookingId'
        """
    }

    static func booking(_ id: String, departure: String, type: String = "travel.booking.confirmed", at time: String) -> [String: Any] {
        Enriched.record(
            id: id, type: type, time: time, data: ["bookingId": "BK-1", "flight": "LH 400", "departure": departure],
            context: ["recipient": Enriched.recipient])
    }

    func testFiresOnceExactly24HoursBeforeDepartureAcrossTheSpringDSTChange() throws {
        // Frankfurt moves from +01:00 to +02:00 at 01:00Z on 29 March 2026; 24 h before a 10:00+02:00
        // departure is 09:00+01:00 on the 28th (08:00Z), not 10:00 local.
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-03-20T12:00:00Z")
        XCTAssertEqual(try harness.send(Self.booking("e1", departure: "2026-03-29T10:00:00+02:00", at: "2026-03-20T12:00:00Z")), [])
        let timer = try XCTUnwrap(try harness.pendingTimers.first)
        XCTAssertEqual(timer.due.epochMilliseconds, Timestamp("2026-03-28T08:00:00Z")!.epochMilliseconds)
        XCTAssertEqual(try harness.decisions(of: "cust-1").map(\.outcome), [.scheduled])

        XCTAssertEqual(try harness.advance(to: "2026-03-28T07:59:59Z"), [])
        let fired = try harness.advance(to: "2026-03-28T08:00:00Z")
        XCTAssertEqual(fired.count, 1)
        let action = try XCTUnwrap(fired.first)
        XCTAssertEqual(action.kind, .engage)
        XCTAssertEqual(action.template, "travel.checkin-reminder")
        XCTAssertEqual(action.channelClass, .service)
        XCTAssertEqual(action.validUntil?.epochMilliseconds, Timestamp("2026-03-29T07:00:00Z")!.epochMilliseconds)
        XCTAssertEqual(action.payload["bookingId"], .string("BK-1"))
        XCTAssertEqual(action.recipient?.email, "ana@example.com")
        XCTAssertEqual(action.decision.outcome, .fired)
        XCTAssertEqual(action.decision.packVersion, "7")
        XCTAssertEqual(action.decision.inputPositions.first?.offset, 0)
        XCTAssertEqual(action.decision.reads["event.data.departure"], .string("2026-03-29T10:00:00+02:00"))
        XCTAssertEqual(action.id, "reminder@cust-1/checkin:BK-1@\(timer.due.text)")

        XCTAssertEqual(try harness.advance(to: "2026-03-28T09:00:00Z"), [])
        XCTAssertEqual(try harness.pendingTimers, [])
    }

    func testAutumnDSTChangeKeeps24RealHours() throws {
        // New York leaves daylight time at 06:00Z on 1 November 2026.
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-10-20T12:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-11-01T18:30:00-05:00", at: "2026-10-20T12:00:00Z"))
        XCTAssertEqual(try harness.advance(to: "2026-10-31T23:29:59Z"), [])
        XCTAssertEqual(try harness.advance(to: "2026-10-31T23:30:00Z").count, 1)
    }

    func testARescheduleMovesTheTimerAndACancellationRemovesIt() throws {
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-05-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-05-10T12:00:00Z", at: "2026-05-01T00:00:00Z"))
        try harness.send(Self.booking("e2", departure: "2026-05-12T12:00:00Z", type: "travel.flight.rescheduled", at: "2026-05-02T00:00:00Z"))
        XCTAssertEqual(try harness.pendingTimers.map(\.due.text), ["2026-05-11T12:00:00Z"])
        XCTAssertEqual(try harness.advance(to: "2026-05-09T12:00:00Z"), [], "the old due time passes without a reminder")
        XCTAssertTrue(try harness.decisions(of: "cust-1").contains { $0.reason?.contains("moved from") == true })

        try harness.send(Enriched.record(id: "e3", type: "travel.booking.cancelled", time: "2026-05-03T00:00:00Z", data: ["bookingId": "BK-1"]))
        XCTAssertEqual(try harness.pendingTimers, [])
        XCTAssertEqual(try harness.advance(to: "2026-05-12T12:00:00Z"), [])
        let cancelled = try XCTUnwrap(try harness.decisions(of: "cust-1").last)
        XCTAssertEqual(cancelled.outcome, .cancelled)
        XCTAssertEqual(cancelled.ruleId, "reminder-cancel")
    }

    func testARestartSpanningTheDueTimeFiresLateOnceWhileCheckInIsOpen() throws {
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        XCTAssertEqual(try harness.advance(to: "2026-06-04T11:00:00Z"), [])
        // Down from 11:00 to 14:30; the reminder was due at 12:00.
        try harness.restart()
        let fired = try harness.advance(to: "2026-06-04T14:30:00Z")
        XCTAssertEqual(fired.count, 1)
        XCTAssertEqual(fired.first?.kind, .engage)
        XCTAssertEqual(fired.first?.decision.reason, "fired late, 2h30m after its due time 2026-06-04T12:00:00Z (overdue policy fire-late)")
        try harness.restart()
        XCTAssertEqual(try harness.advance(to: "2026-06-04T15:00:00Z"), [])
        XCTAssertEqual(harness.actions.count, 1)
    }

    func testPastItsValidityATimerBecomesOneMissedAction() throws {
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        try harness.restart()
        let fired = try harness.advance(to: "2026-06-05T11:30:00Z")
        XCTAssertEqual(fired.map(\.kind), [.missed])
        XCTAssertEqual(fired.first?.decision.outcome, .missed)
        XCTAssertEqual(fired.first?.id, "reminder@cust-1/checkin:BK-1@2026-06-04T12:00:00Z")
        XCTAssertEqual(try harness.decisions(of: "cust-1").last?.outcome, .missed)
        XCTAssertEqual(try harness.advance(to: "2026-06-06T00:00:00Z"), [])
    }

    func testOverduePolicySkipRecordsWhyNothingWasSent() throws {
        let harness = try RulesHarness(yaml: Self.pack(overdue: "skip"), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        XCTAssertEqual(try harness.advance(to: "2026-06-04T12:11:00Z"), [])
        let skipped = try XCTUnwrap(try harness.decisions(of: "cust-1").last)
        XCTAssertEqual(skipped.outcome, .suppressed)
        XCTAssertEqual(skipped.reason, "skipped: reached 11m after its due time 2026-06-04T12:00:00Z (overdue policy skip)")
        XCTAssertEqual(try harness.pendingTimers, [])
    }

    func testOverdueWithinLateAfterStillCountsAsOnTime() throws {
        let harness = try RulesHarness(yaml: Self.pack(overdue: "skip"), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        let fired = try harness.advance(to: "2026-06-04T12:09:00Z")
        XCTAssertEqual(fired.count, 1)
        XCTAssertNil(fired.first?.decision.reason)
    }

    func testOverduePolicyEscalateSendsTheEscalationInstead() throws {
        let escalation = """
                  escalation:
                    template: agent.checkin-call
                    channel-class: agent-task
                    priority: urgent
                    payload:
                      flight: event.data.flight
            """
        let harness = try RulesHarness(yaml: Self.pack(overdue: "escalate", extra: escalation), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        let fired = try harness.advance(to: "2026-06-04T13:00:00Z")
        XCTAssertEqual(fired.count, 1)
        let action = try XCTUnwrap(fired.first)
        XCTAssertEqual(action.template, "agent.checkin-call")
        XCTAssertEqual(action.channelClass, .agentTask)
        XCTAssertEqual(action.priority, .urgent)
        XCTAssertEqual(action.payload["flight"], .string("LH 400"))
        XCTAssertTrue(action.id.hasSuffix("#escalated"))
    }

    func testABookingConfirmedAgainKeepsOneTimer() throws {
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        try harness.send(Self.booking("e1-again", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:05:00Z"))
        XCTAssertEqual(try harness.pendingTimers.count, 1)
        XCTAssertEqual(try harness.advance(to: "2026-06-05T00:00:00Z").count, 1)
    }

    func testAnErasureRemovesTheCustomersTimersAndDecisions() throws {
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-06-01T00:00:00Z")
        try harness.send(Self.booking("e1", departure: "2026-06-05T12:00:00Z", at: "2026-06-01T00:00:00Z"))
        try harness.send(Enriched.record(
            id: "e2", type: "customer.erasure.requested", time: "2026-06-02T00:00:00Z", context: ["erased": true]))
        XCTAssertEqual(try harness.pendingTimers, [])
        XCTAssertEqual(try harness.decisions(of: "cust-1"), [])
        XCTAssertEqual(try harness.advance(to: "2026-06-06T00:00:00Z"), [])
        XCTAssertEqual(harness.verdicts["e2"]?.1, "customer erased: 1 pending timers removed")
        let forget = try XCTUnwrap(harness.actions.last)
        XCTAssertEqual(forget.kind, .forget, "the notifier is told to drop what it holds for the customer")
        XCTAssertEqual(forget.id, "erasure@enrich:e2", "named after the input id, like every action")
        XCTAssertEqual(forget.customerId, "cust-1")
    }

    func testTimersFireEarliestFirstInBoundedBatches() throws {
        let harness = try RulesHarness(yaml: Self.pack(), start: "2026-06-01T00:00:00Z")
        for index in 0..<25 {
            try harness.send(Enriched.record(
                id: "b\(index)", type: "travel.booking.confirmed", time: "2026-06-01T00:00:00Z", customer: "cust-\(index)",
                data: ["bookingId": "BK-\(index)", "departure": "2026-06-05T12:\(String(format: "%02d", 59 - index)):00Z"]))
        }
        let fired = try harness.advance(to: "2026-06-04T13:00:00Z", limit: 4)
        XCTAssertEqual(fired.count, 25)
        XCTAssertEqual(fired.map(\.customerId), (0..<25).reversed().map { "cust-\($0)" })
    }
}
