import Foundation
import LiaisonSchema
import LiaisonStage
import Rules
import SchemaChecking
import XCTest

/// The acceptance scenarios 1-8 of /work/shared/SCENARIOS.md against the default rule pack,
/// through a real partition file in simulated time. Every record sent must pass
/// liaison.enriched.v1 and every action produced must pass liaison.actions.v1 (checked after
/// each test).
final class ScenarioTests: XCTestCase {
    static let packVersion = "2026.11.1"
    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    private var harnesses: [RulesHarness] = []
    private var upstreamOffset: Int64 = 4_100

    private func harness(start: String) throws -> RulesHarness {
        let harness = try RulesHarness(pack: try RulesHarness.defaultPack(), start: start)
        harnesses.append(harness)
        return harness
    }

    /// Every input must be what enrich writes and every action what the notifier reads.
    override func tearDownWithError() throws {
        defer { harnesses = [] }
        var records: [(name: String, bytes: [UInt8], schema: String)] = []
        for (number, harness) in harnesses.enumerated() {
            for (index, input) in harness.sent.enumerated() {
                records.append(("harness \(number) input \(index)", input, "liaison.enriched.v1"))
            }
            XCTAssertEqual(harness.outputs.map(\.id), harness.actions.map(\.id))
            for (index, output) in harness.outputs.enumerated() {
                records.append(("harness \(number) action \(index) \(output.id)", output.value, "liaison.actions.v1"))
            }
        }
        guard !records.isEmpty else { return }
        let verdicts = try SchemaChecker.check(records)
        XCTAssertEqual(verdicts.count, records.count)
        let invalid = verdicts.filter { !$0.value.valid }.map { "\($0.key): \($0.value.message)" }.sorted()
        XCTAssertEqual(invalid, [], invalid.joined(separator: "\n"))
    }

    // MARK: 1. Surplus to a 30-day CD

    func testScenario1SurplusToCD() throws {
        let harness = try self.harness(start: "2026-11-02T10:15:00Z")
        let first = try harness.send(transaction(
            "txn-000123", at: "2026-11-02T10:15:00Z", customer: "cust-42", balanceAfter: 18250, cashNeed: 6480.25, surplus: 11769.75))
        XCTAssertEqual(first.map(\.ruleId), ["surplus-to-cd"])
        let offer = try XCTUnwrap(first.first)
        XCTAssertEqual(offer.id, "surplus-to-cd@enrich:txn-000123")
        XCTAssertEqual(offer.kind, .engage)
        XCTAssertEqual(offer.customerId, "cust-42")
        XCTAssertEqual(offer.template, "offer.cd-30-day")
        XCTAssertEqual(offer.channelClass, .marketing)
        XCTAssertEqual(offer.priority, .normal)
        XCTAssertEqual(offer.createdAt.text, "2026-11-02T10:15:00Z")
        XCTAssertEqual(offer.validUntil?.text, "2026-11-03T10:15:00.000Z", "expiry 1d after the event")
        XCTAssertEqual(offer.payload.keys.sorted(), ["amount", "currency", "termDays"])
        XCTAssertEqual(number(offer.payload["amount"]), "11000", "11769.75 rounded down to the 1000 step")
        XCTAssertEqual(offer.payload["currency"], .string("USD"))
        XCTAssertEqual(number(offer.payload["termDays"]), "30")
        XCTAssertEqual(offer.recipient?.pushToken, "fcm-cust-42")
        XCTAssertEqual(offer.recipient?.device, .phone)
        XCTAssertEqual(offer.recipient?.marketingConsent, true)
        XCTAssertEqual(offer.traceparent, Self.traceparent)
        XCTAssertEqual(offer.decision.ruleId, "surplus-to-cd")
        XCTAssertEqual(offer.decision.outcome, .fired)
        XCTAssertNil(offer.decision.reason)
        XCTAssertEqual(offer.decision.packVersion, Self.packVersion)
        XCTAssertEqual(offer.decision.inputIds, ["enrich:txn-000123", "txn-000123"])
        XCTAssertEqual(offer.decision.inputPositions.map(\.offset), [0])
        XCTAssertEqual(offer.decision.inputPositions.map(\.topic), [EnrichedEventV1.topic])
        XCTAssertEqual(number(offer.decision.reads["context.surplus"]), "11769.75")
        XCTAssertEqual(offer.decision.reads["context.recipient.marketingConsent"], .bool(true))
        XCTAssertEqual(offer.decision.reads["event.data.accountType"], .string("checking"))
        XCTAssertEqual(offer.decision.reads["context.productsHeld"], .array([.string("checking"), .string("savings")]))
        XCTAssertEqual(try harness.decisions(of: "cust-42"), [], "a fired decision travels on its action")

        // Ten days later, still a surplus: held back by the 30-day cooldown, and the kept decision says so.
        let cooldown = "cooldown: last sent at 2026-11-02T10:15:00.000Z; not again before 2026-12-02T10:15:00.000Z"
        try harness.advance(to: "2026-11-12T10:15:00Z")
        XCTAssertEqual(try harness.send(transaction(
            "txn-000207", at: "2026-11-12T10:15:00Z", customer: "cust-42", balanceAfter: 18900.5, cashNeed: 6500.25, surplus: 12400.25)), [])
        let held = try XCTUnwrap(try harness.decisions(of: "cust-42").last)
        XCTAssertEqual(try harness.decisions(of: "cust-42").count, 1)
        XCTAssertEqual(held.ruleId, "surplus-to-cd")
        XCTAssertEqual(held.outcome, .suppressed)
        XCTAssertEqual(held.reason, cooldown)
        XCTAssertEqual(held.inputIds, ["enrich:txn-000207", "txn-000207"])
        XCTAssertEqual(number(held.reads["context.surplus"]), "12400.25")
        XCTAssertEqual(harness.verdicts["txn-000207"]?.0, .accepted)
        XCTAssertEqual(harness.verdicts["txn-000207"]?.1, "surplus-to-cd: suppressed (\(cooldown))")

        // 31 days after the first offer it goes out again; exactly the threshold still counts.
        try harness.advance(to: "2026-12-03T10:15:00Z")
        let again = try harness.send(transaction(
            "txn-000311", at: "2026-12-03T10:15:00Z", customer: "cust-42", balanceAfter: 14480.25, cashNeed: 9480.25, surplus: 5000))
        XCTAssertEqual(again.map(\.id), ["surplus-to-cd@enrich:txn-000311"])
        XCTAssertEqual(number(again.first?.payload["amount"]), "5000")
        XCTAssertEqual(again.first?.decision.outcome, .fired)

        // Below the threshold, already holding a CD, without marketing consent, or a savings
        // transaction: nothing, and nothing kept.
        let silent = [
            transaction("txn-000400", at: "2026-12-03T10:15:00Z", customer: "cust-43", balanceAfter: 14480.24, cashNeed: 9480.25, surplus: 4999.99),
            transaction(
                "txn-000401", at: "2026-12-03T10:15:00Z", customer: "cust-44", balanceAfter: 30000, cashNeed: 6000, surplus: 24000,
                productsHeld: ["cd", "checking"]),
            transaction(
                "txn-000402", at: "2026-12-03T10:15:00Z", customer: "cust-45", balanceAfter: 30000, cashNeed: 6000, surplus: 24000,
                marketingConsent: false),
            transaction(
                "txn-000403", at: "2026-12-03T10:15:00Z", customer: "cust-46", balanceAfter: 30000, cashNeed: 6000, surplus: 24000,
                accountType: "savings"),
        ]
        for record in silent { XCTAssertEqual(try harness.send(record), []) }
        for (id, customer) in [("txn-000400", "cust-43"), ("txn-000401", "cust-44"), ("txn-000402", "cust-45"), ("txn-000403", "cust-46")] {
            XCTAssertEqual(harness.verdicts[id]?.0, .ignored, id)
            XCTAssertEqual(
                harness.verdicts[id]?.1, "no rule matched: surplus-to-cd, churn-warning-task, churn-retention-offer, behaviour-changed", id)
            XCTAssertEqual(try harness.decisions(of: customer), [], id)
        }
        XCTAssertEqual(harness.actions.map(\.id), ["surplus-to-cd@enrich:txn-000123", "surplus-to-cd@enrich:txn-000311"])

        // The marketing cap, 3 in 7 days across every marketing rule, holds back the 4th.
        let capped = try self.harness(start: "2026-11-02T10:15:00Z")
        let customer = "cust-50"
        XCTAssertEqual(try capped.send(transaction(
            "cap-1", at: "2026-11-02T10:15:00Z", customer: customer, balanceAfter: 20000, cashNeed: 7000, surplus: 13000)).map(\.ruleId),
            ["surplus-to-cd"])
        try capped.advance(to: "2026-11-03T18:20:00Z")
        XCTAssertEqual(try capped.send(openHouse("cap-2", at: "2026-11-03T18:20:00Z", customer: customer, researchedAt: "2026-10-30T20:00:00Z")).map(\.ruleId),
            ["open-house-advisor-task", "open-house-advisor-push"])
        try capped.advance(to: "2026-11-04T12:00:00Z")
        XCTAssertEqual(try capped.send(feedback("cap-3", at: "2026-11-04T12:00:00Z", customer: customer, rating: 1, sentiment: -0.1)).map(\.ruleId),
            ["negative-feedback-discount"])
        try capped.advance(to: "2026-11-05T09:00:00Z")
        let fourth = try capped.send(caseOpened("cap-4", at: "2026-11-05T09:00:00Z", customer: customer, churnRisk: 0.78))
        XCTAssertEqual(fourth.map(\.ruleId), ["churn-warning-task"], "the agent task is not marketing; the retention offer is the 4th")
        let capDecision = try XCTUnwrap(try capped.decisions(of: customer).last)
        XCTAssertEqual(capDecision.ruleId, "churn-retention-offer")
        XCTAssertEqual(capDecision.outcome, .suppressed)
        XCTAssertEqual(capDecision.reason, "cap: 3 marketing actions in the last 7d, at most 3")
        // Once the first offer is more than 7 days old, there is room for one again.
        try capped.advance(to: "2026-11-09T11:00:00Z")
        let later = try capped.send(caseOpened("cap-5", at: "2026-11-09T11:00:00Z", customer: customer, churnRisk: 0.81))
        XCTAssertEqual(later.map(\.ruleId), ["churn-retention-offer"])
        let decisions = try capped.decisions(of: customer)
        XCTAssertEqual(decisions.map(\.ruleId), ["churn-retention-offer", "churn-warning-task"])
        XCTAssertEqual(decisions.last?.reason, "cooldown: last sent at 2026-11-05T09:00:00.000Z; not again before 2026-12-05T09:00:00.000Z")
        XCTAssertEqual(capped.actions.filter { $0.channelClass == .marketing }.count, 4)
    }

    // MARK: 2. Mobile check deposit

    func testScenario2MobileCheckDeposit() throws {
        let harness = try self.harness(start: "2026-11-02T10:00:00Z")
        // Service: no marketing consent needed.
        let fired = try harness.send(deposit("dep-evt-1", at: "2026-11-02T10:00:00Z", customer: "cust-20", depositId: "dep-981", via: "mobile"))
        XCTAssertEqual(fired.count, 1)
        let action = try XCTUnwrap(fired.first)
        XCTAssertEqual(action.id, "check-deposit-confirmation@enrich:dep-evt-1")
        XCTAssertEqual(action.kind, .engage)
        XCTAssertEqual(action.ruleId, "check-deposit-confirmation")
        XCTAssertEqual(action.template, "service.check-deposit-received")
        XCTAssertEqual(action.channelClass, .service)
        XCTAssertEqual(action.priority, .high)
        XCTAssertEqual(action.validUntil?.text, "2026-11-02T11:00:00.000Z")
        XCTAssertEqual(action.payload.keys.sorted(), ["accountId", "amount", "currency", "depositId"])
        XCTAssertEqual(action.payload["depositId"], .string("dep-981"))
        XCTAssertEqual(action.payload["accountId"], .string("chk-cust-20"))
        XCTAssertEqual(number(action.payload["amount"]), "1250.75")
        XCTAssertEqual(action.payload["currency"], .string("USD"))
        XCTAssertEqual(action.recipient?.marketingConsent, false)
        XCTAssertEqual(action.decision.reads["event.data.via"], .string("mobile"))

        // At the branch: nothing, and the ledger says why.
        XCTAssertEqual(try harness.send(deposit("dep-evt-2", at: "2026-11-02T10:00:00Z", customer: "cust-20", depositId: "dep-982", via: "branch")), [])
        XCTAssertEqual(harness.verdicts["dep-evt-2"]?.0, .ignored)
        XCTAssertEqual(harness.verdicts["dep-evt-2"]?.1, "no rule matched: check-deposit-confirmation")
        XCTAssertEqual(try harness.decisions(of: "cust-20"), [])

        // Expiry is against the wall clock: still worth it exactly at event time + 1h, not a second later.
        try harness.advance(to: "2026-11-02T11:00:00Z")
        XCTAssertEqual(try harness.send(deposit("dep-evt-3", at: "2026-11-02T10:00:00Z", customer: "cust-21", depositId: "dep-983", via: "mobile")).count, 1)
        try harness.advance(to: "2026-11-02T11:00:01Z")
        XCTAssertEqual(try harness.send(deposit("dep-evt-4", at: "2026-11-02T10:00:00Z", customer: "cust-22", depositId: "dep-984", via: "mobile")), [])
        let expired = try XCTUnwrap(try harness.decisions(of: "cust-22").first)
        XCTAssertEqual(try harness.decisions(of: "cust-22").count, 1)
        XCTAssertEqual(expired.outcome, .suppressed)
        XCTAssertEqual(
            expired.reason,
            "expired: the event of 2026-11-02T10:00:00Z was worth acting on until 2026-11-02T11:00:00.000Z, and it is 2026-11-02T11:00:01.000Z now")
        XCTAssertEqual(harness.actions.map(\.id), ["check-deposit-confirmation@enrich:dep-evt-1", "check-deposit-confirmation@enrich:dep-evt-3"])
    }

    // MARK: 3. Advisor at the open house

    func testScenario3AdvisorAtTheOpenHouse() throws {
        let harness = try self.harness(start: "2026-12-01T14:05:00Z")
        let fired = try harness.send(openHouse("geo-1", at: "2026-12-01T14:05:00Z", customer: "cust-30", researchedAt: "2026-11-21T09:40:00Z"))
        XCTAssertEqual(fired.map(\.id), ["open-house-advisor-task@enrich:geo-1", "open-house-advisor-push@enrich:geo-1"])
        let task = try XCTUnwrap(fired.first)
        XCTAssertEqual(task.template, "agent.mortgage-advisor-open-house")
        XCTAssertEqual(task.channelClass, .agentTask)
        XCTAssertEqual(task.priority, .urgent)
        XCTAssertEqual(task.validUntil?.text, "2026-12-01T14:20:00.000Z")
        XCTAssertEqual(task.payload.keys.sorted(), ["lat", "lon", "mortgageResearchedAt", "placeId"])
        XCTAssertEqual(task.payload["placeId"], .string("oh-1187"))
        XCTAssertEqual(number(task.payload["lat"]), "40.7411")
        XCTAssertEqual(number(task.payload["lon"]), "-73.9897")
        XCTAssertEqual(task.payload["mortgageResearchedAt"], .string("2026-11-21T09:40:00Z"))
        XCTAssertEqual(task.decision.reads["event.data.placeType"], .string("open-house"))
        let push = try XCTUnwrap(fired.last)
        XCTAssertEqual(push.template, "offer.mortgage-advisor-nearby")
        XCTAssertEqual(push.channelClass, .marketing)
        XCTAssertEqual(push.priority, .high)
        XCTAssertEqual(push.validUntil?.text, "2026-12-01T14:20:00.000Z")
        XCTAssertEqual(push.payload, JSONObject(["placeId": .string("oh-1187")]))

        // Mortgage research 40 days ago is too old; a branch visit is not an open house.
        XCTAssertEqual(try harness.send(openHouse("geo-2", at: "2026-12-01T14:05:00Z", customer: "cust-31", researchedAt: "2026-10-22T09:40:00Z")), [])
        XCTAssertEqual(
            try harness.send(openHouse("geo-3", at: "2026-12-01T14:05:00Z", customer: "cust-32", researchedAt: "2026-11-21T09:40:00Z", placeType: "branch")),
            [])
        // Research of another topic only does not count either.
        XCTAssertEqual(
            try harness.send(openHouse("geo-4", at: "2026-12-01T14:05:00Z", customer: "cust-33", researchedAt: "2026-11-21T09:40:00Z", topic: "cd")),
            [])
        for id in ["geo-2", "geo-3", "geo-4"] {
            XCTAssertEqual(harness.verdicts[id]?.0, .ignored, id)
            XCTAssertEqual(harness.verdicts[id]?.1, "no rule matched: open-house-advisor-task, open-house-advisor-push, behaviour-changed", id)
        }
        // The same customer at another open house an hour later: both rules are in their 1-day cooldown.
        try harness.advance(to: "2026-12-01T15:05:00Z")
        XCTAssertEqual(try harness.send(openHouse("geo-5", at: "2026-12-01T15:05:00Z", customer: "cust-30", researchedAt: "2026-11-21T09:40:00Z")), [])
        XCTAssertEqual(try harness.decisions(of: "cust-30").map(\.ruleId), ["open-house-advisor-task", "open-house-advisor-push"])
        XCTAssertEqual(try harness.decisions(of: "cust-30").map(\.outcome), [.suppressed, .suppressed])
        XCTAssertEqual(harness.actions.count, 2)
    }

    // MARK: 4. The 24-hour check-in reminder

    func testScenario4CheckInReminder() throws {
        // Frankfurt moves from +01:00 to +02:00 at 01:00Z on 29 March 2026: 24 h before a
        // 10:00+02:00 departure is 08:00Z (09:00 local on the 28th), not 10:00 local.
        let dst = try self.harness(start: "2026-03-20T12:00:00Z")
        XCTAssertEqual(try dst.send(booking("bk-1", at: "2026-03-20T12:00:00Z", bookingId: "BK-7Q2X", departure: "2026-03-29T10:00:00+02:00")), [])
        let timer = try XCTUnwrap(try dst.pendingTimers.first)
        XCTAssertEqual(try dst.pendingTimers.count, 1)
        XCTAssertEqual(timer.due.epochMilliseconds, Timestamp("2026-03-28T08:00:00Z")!.epochMilliseconds)
        XCTAssertEqual(timer.due.text, "2026-03-28T10:00:00+02:00", "written in the departure's offset")
        XCTAssertEqual(timer.validUntil?.epochMilliseconds, Timestamp("2026-03-29T07:00:00Z")!.epochMilliseconds)
        XCTAssertEqual(timer.key, "checkin:BK-7Q2X")
        let scheduled = try dst.decisions(of: "cust-7")
        XCTAssertEqual(scheduled.map(\.outcome), [.scheduled])
        XCTAssertEqual(scheduled.first?.reason, "timer checkin:BK-7Q2X due at 2026-03-28T10:00:00+02:00")
        XCTAssertEqual(dst.verdicts["bk-1"]?.0, .accepted)

        XCTAssertEqual(try dst.advance(to: "2026-03-28T07:59:59.999Z"), [])
        let fired = try dst.advance(to: "2026-03-28T08:00:00Z")
        XCTAssertEqual(fired.count, 1)
        let reminder = try XCTUnwrap(fired.first)
        XCTAssertEqual(reminder.id, "checkin-reminder@cust-7/checkin:BK-7Q2X@2026-03-28T10:00:00+02:00")
        XCTAssertEqual(reminder.kind, .engage)
        XCTAssertEqual(reminder.ruleId, "checkin-reminder")
        XCTAssertEqual(reminder.template, "service.checkin-reminder")
        XCTAssertEqual(reminder.channelClass, .service)
        XCTAssertEqual(reminder.priority, .high)
        XCTAssertEqual(reminder.createdAt.text, "2026-03-28T08:00:00.000Z")
        XCTAssertEqual(reminder.validUntil?.text, "2026-03-29T09:00:00+02:00")
        XCTAssertEqual(reminder.payload, JSONObject([
            "bookingId": .string("BK-7Q2X"), "flight": .string("LH 400"), "origin": .string("FRA"), "destination": .string("JFK"),
            "departure": .string("2026-03-29T10:00:00+02:00"),
        ]))
        XCTAssertEqual(reminder.recipient?.email, "cust-7@example.com")
        XCTAssertEqual(reminder.traceparent, Self.traceparent)
        XCTAssertEqual(reminder.decision.outcome, .fired)
        XCTAssertNil(reminder.decision.reason)
        XCTAssertEqual(reminder.decision.inputIds, ["enrich:bk-1", "bk-1"])
        XCTAssertEqual(reminder.decision.reads["event.data.departure"], .string("2026-03-29T10:00:00+02:00"))
        XCTAssertEqual(try dst.advance(to: "2026-03-29T12:00:00Z"), [])
        XCTAssertEqual(try dst.pendingTimers, [])
        XCTAssertEqual(dst.actions.count, 1)

        // A reschedule moves the timer (the flight comes from the trip in the context); a
        // cancellation removes the other booking's.
        let moved = try self.harness(start: "2026-05-01T08:00:00Z")
        try moved.send(booking("bk-2", at: "2026-05-01T08:00:00Z", bookingId: "BK-2", departure: "2026-05-10T14:00:00+02:00", flight: "LH 1166"))
        try moved.send(booking("bk-3", at: "2026-05-01T08:05:00Z", bookingId: "BK-3", departure: "2026-05-12T18:00:00+02:00", flight: "LH 1172"))
        try moved.advance(to: "2026-05-03T08:00:00Z")
        let trips: [[String: Any]] = [
            ["bookingId": "BK-2", "flight": "LH 1166", "origin": "FRA", "destination": "LIS", "departure": "2026-05-11T09:30:00+02:00"],
            ["bookingId": "BK-3", "flight": "LH 1172", "origin": "FRA", "destination": "LIS", "departure": "2026-05-12T18:00:00+02:00"],
        ]
        XCTAssertEqual(try moved.send(record(
            id: "bk-2-moved", type: "travel.flight.rescheduled", time: "2026-05-03T08:00:00Z", customer: "cust-7",
            data: ["bookingId": "BK-2", "departure": "2026-05-11T09:30:00+02:00"], context: ["upcomingTrips": trips])), [])
        XCTAssertEqual(try moved.send(record(
            id: "bk-3-cancel", type: "travel.booking.cancelled", time: "2026-05-03T08:10:00Z", customer: "cust-7",
            data: ["bookingId": "BK-3"], context: ["upcomingTrips": [trips[0]]])), [])
        XCTAssertEqual(try moved.pendingTimers.map(\.due.text), ["2026-05-10T09:30:00+02:00"])
        let movedDecisions = try moved.decisions(of: "cust-7")
        XCTAssertEqual(movedDecisions.map(\.outcome), [.scheduled, .scheduled, .scheduled, .cancelled])
        XCTAssertEqual(movedDecisions[2].reason, "timer checkin:BK-2 moved from 2026-05-09T14:00:00+02:00 to 2026-05-10T09:30:00+02:00")
        XCTAssertEqual(movedDecisions[3].ruleId, "checkin-reminder-cancel")
        XCTAssertEqual(movedDecisions[3].reason, "timer checkin:BK-3 due at 2026-05-11T18:00:00+02:00 cancelled by travel.booking.cancelled bk-3-cancel")
        XCTAssertEqual(try moved.advance(to: "2026-05-09T13:00:00Z"), [], "the old due time passes without a reminder")
        XCTAssertEqual(try moved.advance(to: "2026-05-10T07:29:59Z"), [])
        let movedFired = try moved.advance(to: "2026-05-10T07:30:00Z")
        XCTAssertEqual(movedFired.map(\.id), ["checkin-reminder@cust-7/checkin:BK-2@2026-05-10T09:30:00+02:00"])
        XCTAssertEqual(movedFired.first?.payload["flight"], .string("LH 1166"))
        XCTAssertEqual(movedFired.first?.payload["destination"], .string("LIS"))
        XCTAssertEqual(movedFired.first?.payload["departure"], .string("2026-05-11T09:30:00+02:00"))
        XCTAssertEqual(movedFired.first?.decision.inputIds, ["enrich:bk-2-moved", "bk-2-moved"])
        XCTAssertEqual(try moved.advance(to: "2026-05-13T00:00:00Z"), [], "the cancelled booking never reminds")
        XCTAssertEqual(moved.actions.count, 1)

        // Down across the due time: fires late once while check-in is still open.
        let restarted = try self.harness(start: "2026-06-01T00:00:00Z")
        try restarted.send(booking("bk-4", at: "2026-06-01T00:00:00Z", bookingId: "BK-4", departure: "2026-06-05T14:00:00+02:00"))
        XCTAssertEqual(try restarted.advance(to: "2026-06-04T11:00:00Z"), [])
        try restarted.restart()
        let late = try restarted.advance(to: "2026-06-04T14:30:00Z")
        XCTAssertEqual(late.map(\.id), ["checkin-reminder@cust-7/checkin:BK-4@2026-06-04T14:00:00+02:00"])
        XCTAssertEqual(late.first?.kind, .engage)
        XCTAssertEqual(late.first?.decision.outcome, .fired)
        XCTAssertEqual(late.first?.decision.reason, "fired late, 2h30m after its due time 2026-06-04T14:00:00+02:00 (overdue policy fire-late)")
        try restarted.restart()
        XCTAssertEqual(try restarted.advance(to: "2026-06-05T11:00:00Z"), [])
        XCTAssertEqual(restarted.actions.count, 1)
        XCTAssertEqual(try restarted.pendingTimers, [])

        // Down until after check-in closed: one `missed` action, recorded, never an engagement.
        let missed = try self.harness(start: "2026-06-01T00:00:00Z")
        try missed.send(booking("bk-5", at: "2026-06-01T00:00:00Z", bookingId: "BK-5", departure: "2026-06-05T12:00:00Z"))
        try missed.restart()
        let missedActions = try missed.advance(to: "2026-06-05T11:30:00Z")
        XCTAssertEqual(missedActions.map(\.kind), [.missed])
        let missedAction = try XCTUnwrap(missedActions.first)
        XCTAssertEqual(missedAction.id, "checkin-reminder@cust-7/checkin:BK-5@2026-06-04T12:00:00Z")
        XCTAssertEqual(missedAction.template, "service.checkin-reminder")
        XCTAssertEqual(missedAction.decision.outcome, .missed)
        XCTAssertEqual(
            missedAction.decision.reason, "reached 23h30m after its due time 2026-06-04T12:00:00Z, but it was valid only until 2026-06-05T11:00:00Z")
        XCTAssertEqual(try missed.decisions(of: "cust-7").map(\.outcome), [.scheduled, .missed])
        XCTAssertEqual(try missed.advance(to: "2026-06-06T00:00:00Z"), [])
        XCTAssertEqual(missed.actions.count, 1)

        // Booked after check-in closed: nothing scheduled. Booked with check-in still open but
        // less than 24 h ahead: reminded at once, marked late.
        let lastMinute = try self.harness(start: "2026-07-01T07:30:00Z")
        XCTAssertEqual(try lastMinute.send(booking("bk-6", at: "2026-07-01T07:30:00Z", bookingId: "BK-6", departure: "2026-07-01T08:15:00Z")), [])
        XCTAssertEqual(try lastMinute.pendingTimers, [])
        XCTAssertEqual(lastMinute.verdicts["bk-6"]?.0, .ignored)
        XCTAssertEqual(lastMinute.verdicts["bk-6"]?.1, "no rule matched: checkin-reminder")
        XCTAssertEqual(try lastMinute.decisions(of: "cust-7"), [])
        XCTAssertEqual(try lastMinute.send(booking("bk-7", at: "2026-07-01T09:00:00Z", bookingId: "BK-7", departure: "2026-07-01T15:00:00Z")), [])
        let soon = try lastMinute.advance(to: "2026-07-01T09:00:00Z")
        XCTAssertEqual(soon.map(\.id), ["checkin-reminder@cust-7/checkin:BK-7@2026-06-30T15:00:00Z"])
        XCTAssertEqual(soon.first?.kind, .engage)
        XCTAssertEqual(soon.first?.decision.reason, "fired late, 18h after its due time 2026-06-30T15:00:00Z (overdue policy fire-late)")
        XCTAssertEqual(try lastMinute.pendingTimers, [])
    }

    // MARK: 5. Sense and respond

    func testARescheduleIntoClosedCheckInWithdrawsTheOldReminder() throws {
        let harness = try self.harness(start: "2026-07-01T08:00:00Z")
        try harness.send(booking("bk-9", at: "2026-07-01T08:00:00Z", bookingId: "BK-9", departure: "2026-07-03T10:00:00+02:00"))
        XCTAssertEqual(try harness.pendingTimers.count, 1)
        // Moved to 40 minutes after the reschedule: check-in (closing an hour before) is already shut.
        XCTAssertEqual(try harness.send(record(
            id: "bk-9-moved", type: "travel.flight.rescheduled", time: "2026-07-01T09:00:00Z", customer: "cust-7",
            data: ["bookingId": "BK-9", "departure": "2026-07-01T11:40:00+02:00"])), [])
        XCTAssertEqual(try harness.pendingTimers, [])
        let withdrawn = try XCTUnwrap(try harness.decisions(of: "cust-7").last)
        XCTAssertEqual(withdrawn.ruleId, "checkin-reminder-withdrawn")
        XCTAssertEqual(withdrawn.outcome, .cancelled)
        XCTAssertEqual(try harness.advance(to: "2026-07-03T12:00:00Z"), [])
    }

    func testScenario5NegativeFeedback() throws {
        let harness = try self.harness(start: "2026-11-10T16:00:00Z")
        let standard = try harness.send(feedback("fb-1", at: "2026-11-10T16:00:00Z", customer: "cust-51", rating: 1, sentiment: -0.1))
        XCTAssertEqual(standard.map(\.id), ["negative-feedback-discount@enrich:fb-1"])
        let discount = try XCTUnwrap(standard.first)
        XCTAssertEqual(discount.template, "offer.feedback-discount")
        XCTAssertEqual(discount.channelClass, .marketing)
        XCTAssertEqual(discount.priority, .normal)
        XCTAssertEqual(discount.validUntil?.text, "2026-11-12T16:00:00.000Z")
        XCTAssertEqual(discount.payload.keys.sorted(), ["discountPercent", "feedbackChannel"])
        XCTAssertEqual(number(discount.payload["discountPercent"]), "10")
        XCTAssertEqual(discount.payload["feedbackChannel"], .string("survey"))
        XCTAssertEqual(number(discount.decision.reads["event.data.rating"]), "1")

        let gold = try harness.send(feedback(
            "fb-2", at: "2026-11-10T16:00:00Z", customer: "cust-52", tier: "gold", channel: "review", rating: 1, sentiment: -0.1,
            text: "Card declined twice abroad and nobody helped."))
        XCTAssertEqual(gold.map(\.id), ["negative-feedback-discount@enrich:fb-2", "negative-feedback-agent-call@enrich:fb-2"])
        let call = try XCTUnwrap(gold.last)
        XCTAssertEqual(call.template, "agent.feedback-callback")
        XCTAssertEqual(call.channelClass, .agentTask)
        XCTAssertEqual(call.priority, .high)
        XCTAssertEqual(call.payload.keys.sorted(), ["feedbackChannel", "rating", "sentiment", "text", "tier"])
        XCTAssertEqual(call.payload["tier"], .string("gold"))
        XCTAssertEqual(call.payload["feedbackChannel"], .string("review"))
        XCTAssertEqual(call.payload["text"], .string("Card declined twice abroad and nobody helped."))
        XCTAssertEqual(number(call.payload["rating"]), "1")
        XCTAssertEqual(number(call.payload["sentiment"]), "-0.1")
        XCTAssertEqual(call.decision.reads["context.segment.tier"], .string("gold"))

        // Negative text without a rating.
        let sentiment = try harness.send(feedback(
            "fb-3", at: "2026-11-10T16:00:00Z", customer: "cust-53", channel: "chat", rating: nil, sentiment: -0.6,
            text: "This is the worst banking app I have ever used."))
        XCTAssertEqual(sentiment.map(\.id), ["negative-feedback-discount@enrich:fb-3"])
        XCTAssertEqual(sentiment.first?.payload["feedbackChannel"], .string("chat"))
        let platinum = try harness.send(feedback(
            "fb-4", at: "2026-11-10T16:00:00Z", customer: "cust-54", tier: "platinum", channel: "social", rating: nil, sentiment: -0.6,
            text: "Three weeks and my dispute is still open. Terrible."))
        XCTAssertEqual(platinum.map(\.ruleId), ["negative-feedback-discount", "negative-feedback-agent-call"])
        XCTAssertEqual(platinum.last?.payload["rating"], .null, "no rating given")
        XCTAssertEqual(number(platinum.last?.payload["sentiment"]), "-0.6")
        // A rating of 2 is still negative.
        XCTAssertEqual(
            try harness.send(feedback("fb-5", at: "2026-11-10T16:00:00Z", customer: "cust-55", rating: 2, sentiment: 0)).map(\.ruleId),
            ["negative-feedback-discount"])

        // Neutral or positive feedback: nothing, for any tier.
        XCTAssertEqual(try harness.send(feedback(
            "fb-6", at: "2026-11-10T16:00:00Z", customer: "cust-56", tier: "gold", rating: 3, sentiment: 0, text: "It was fine.")), [])
        XCTAssertEqual(try harness.send(feedback(
            "fb-7", at: "2026-11-10T16:00:00Z", customer: "cust-57", rating: 5, sentiment: 0.7, text: "Quick and friendly, thank you!")), [])
        XCTAssertEqual(try harness.send(feedback(
            "fb-8", at: "2026-11-10T16:00:00Z", customer: "cust-58", rating: nil, sentiment: -0.29, text: "Not great, not terrible.")), [])
        for id in ["fb-6", "fb-7", "fb-8"] {
            XCTAssertEqual(harness.verdicts[id]?.0, .ignored, id)
            XCTAssertEqual(
                harness.verdicts[id]?.1,
                "no rule matched: negative-feedback-discount, negative-feedback-agent-call, churn-warning-task, churn-retention-offer, behaviour-changed",
                id)
        }
        XCTAssertEqual(harness.actions.count, 7)
    }

    // MARK: 6. Churn warning

    func testScenario6ChurnWarning() throws {
        let harness = try self.harness(start: "2026-11-05T09:00:00Z")
        let fired = try harness.send(caseOpened("case-evt-1", at: "2026-11-05T09:00:00Z", customer: "cust-61", churnRisk: 0.8, tier: "platinum"))
        XCTAssertEqual(fired.map(\.id), ["churn-warning-task@enrich:case-evt-1", "churn-retention-offer@enrich:case-evt-1"])
        let task = try XCTUnwrap(fired.first)
        XCTAssertEqual(task.template, "agent.churn-warning")
        XCTAssertEqual(task.channelClass, .agentTask)
        XCTAssertEqual(task.priority, .high)
        XCTAssertEqual(task.validUntil?.text, "2026-11-07T09:00:00.000Z")
        XCTAssertEqual(task.payload.keys.sorted(), ["activityZScore", "churnRisk", "oldestOpenCaseDays", "openCases", "sentiment", "tier"])
        XCTAssertEqual(number(task.payload["churnRisk"]), "0.8")
        XCTAssertEqual(number(task.payload["sentiment"]), "-0.4")
        XCTAssertEqual(number(task.payload["openCases"]), "3")
        XCTAssertEqual(number(task.payload["oldestOpenCaseDays"]), "21")
        XCTAssertEqual(number(task.payload["activityZScore"]), "-1.8")
        XCTAssertEqual(task.payload["tier"], .string("platinum"))
        XCTAssertEqual(number(task.decision.reads["context.churnRisk"]), "0.8")
        let offer = try XCTUnwrap(fired.last)
        XCTAssertEqual(offer.template, "offer.retention")
        XCTAssertEqual(offer.channelClass, .marketing)
        XCTAssertEqual(offer.priority, .normal)
        XCTAssertEqual(offer.payload, JSONObject(["tier": .string("platinum")]))

        // Twelve days later the risk is still high: both held back by their 30-day cooldowns.
        try harness.advance(to: "2026-11-17T12:00:00Z")
        let again = try harness.send(transaction(
            "txn-churn", at: "2026-11-17T12:00:00Z", customer: "cust-61", balanceAfter: 812.4, cashNeed: nil, surplus: nil,
            tier: "platinum", churnRisk: 0.82))
        XCTAssertEqual(again, [])
        let cooldown = "cooldown: last sent at 2026-11-05T09:00:00.000Z; not again before 2026-12-05T09:00:00.000Z"
        let decisions = try harness.decisions(of: "cust-61")
        XCTAssertEqual(decisions.map(\.ruleId), ["churn-warning-task", "churn-retention-offer"])
        XCTAssertEqual(decisions.map(\.outcome), [.suppressed, .suppressed])
        XCTAssertEqual(decisions.map(\.reason), [cooldown, cooldown])
        XCTAssertEqual(decisions.map { number($0.reads["context.churnRisk"]) }, ["0.82", "0.82"])
        XCTAssertEqual(harness.verdicts["txn-churn"]?.1, "churn-warning-task: suppressed (\(cooldown)); churn-retention-offer: suppressed (\(cooldown))")

        // Below the threshold: nothing; at it: both.
        XCTAssertEqual(try harness.send(caseOpened("case-evt-2", at: "2026-11-17T12:00:00Z", customer: "cust-62", churnRisk: 0.5)), [])
        XCTAssertEqual(harness.verdicts["case-evt-2"]?.0, .ignored)
        XCTAssertEqual(harness.verdicts["case-evt-2"]?.1, "no rule matched: churn-warning-task, churn-retention-offer")
        XCTAssertEqual(try harness.decisions(of: "cust-62"), [])
        XCTAssertEqual(
            try harness.send(caseOpened("case-evt-3", at: "2026-11-17T12:00:00Z", customer: "cust-63", churnRisk: 0.7)).map(\.ruleId),
            ["churn-warning-task", "churn-retention-offer"])
        XCTAssertEqual(harness.actions.count, 4)
    }

    // MARK: 7. Behaviour change

    func testScenario7BehaviourChange() throws {
        let harness = try self.harness(start: "2026-11-20T08:00:00Z")
        let spend = try harness.send(transaction(
            "txn-b1", at: "2026-11-20T08:00:00Z", customer: "cust-71", balanceAfter: 2310.15, cashNeed: nil, surplus: nil,
            spendZScore: 3.5, activityZScore: 0.4))
        XCTAssertEqual(spend.map(\.id), ["behaviour-changed@enrich:txn-b1"])
        let update = try XCTUnwrap(spend.first)
        XCTAssertEqual(update.template, "behaviour.changed")
        XCTAssertEqual(update.channelClass, .crmUpdate)
        XCTAssertEqual(update.priority, .normal)
        XCTAssertEqual(update.validUntil?.text, "2026-11-22T08:00:00.000Z", "two days")
        XCTAssertEqual(update.payload.keys.sorted(), ["activityZScore", "spendZScore"])
        XCTAssertEqual(number(update.payload["spendZScore"]), "3.5")
        XCTAssertEqual(number(update.payload["activityZScore"]), "0.4")

        // Falling activity counts too, on any event the rule listens to.
        let activity = try harness.send(record(
            id: "web-b2", type: "engagement.web.researched", time: "2026-11-20T08:00:00Z", customer: "cust-72", data: ["topic": "travel-insurance"],
            context: ["spendZScore": 0.1, "activityZScore": -3.2]))
        XCTAssertEqual(activity.map(\.id), ["behaviour-changed@enrich:web-b2"])
        XCTAssertEqual(number(activity.first?.payload["activityZScore"]), "-3.2")

        // Within k = 3 standard deviations: nothing.
        for (id, score) in [("txn-b3", 2.9), ("txn-b4", 3.0), ("txn-b5", -3.0)] {
            XCTAssertEqual(try harness.send(transaction(
                id, at: "2026-11-20T08:00:00Z", customer: "cust-73", balanceAfter: 500, cashNeed: nil, surplus: nil,
                spendZScore: score, activityZScore: 0)), [], id)
            XCTAssertEqual(harness.verdicts[id]?.1, "no rule matched: surplus-to-cd, churn-warning-task, churn-retention-offer, behaviour-changed", id)
        }

        // Once a week: 3 days later held back, 7 days later again.
        try harness.advance(to: "2026-11-23T08:00:00Z")
        XCTAssertEqual(try harness.send(transaction(
            "txn-b6", at: "2026-11-23T08:00:00Z", customer: "cust-71", balanceAfter: 1980, cashNeed: nil, surplus: nil,
            spendZScore: 3.8, activityZScore: 0.2)), [])
        let held = try XCTUnwrap(try harness.decisions(of: "cust-71").last)
        XCTAssertEqual(held.ruleId, "behaviour-changed")
        XCTAssertEqual(held.outcome, .suppressed)
        XCTAssertEqual(held.reason, "cooldown: last sent at 2026-11-20T08:00:00.000Z; not again before 2026-11-27T08:00:00.000Z")
        try harness.advance(to: "2026-11-27T08:00:00Z")
        XCTAssertEqual(try harness.send(transaction(
            "txn-b7", at: "2026-11-27T08:00:00Z", customer: "cust-71", balanceAfter: 1700, cashNeed: nil, surplus: nil,
            spendZScore: 3.6, activityZScore: 0.1)).map(\.id), ["behaviour-changed@enrich:txn-b7"])
        XCTAssertEqual(harness.actions.count, 3)

        // A departure reported three days late is suppressed here, not missed at the notifier.
        XCTAssertEqual(try harness.send(transaction(
            "txn-b8", at: "2026-11-24T08:00:00Z", customer: "cust-74", balanceAfter: 900, cashNeed: nil, surplus: nil,
            spendZScore: 4.1, activityZScore: 0)), [])
        let late = try XCTUnwrap(try harness.decisions(of: "cust-74").last)
        XCTAssertEqual(late.outcome, .suppressed)
        XCTAssertEqual(
            late.reason,
            "expired: the event of 2026-11-24T08:00:00Z was worth acting on until 2026-11-26T08:00:00.000Z, and it is 2026-11-27T08:00:00.000Z now")
    }

    // MARK: 8. Records kept in sync

    func testScenario8RecordsKeptInSync() throws {
        let harness = try self.harness(start: "2026-11-18T13:45:10Z")
        let invoice = try harness.send(record(
            id: "inv-evt-1", type: "finance.invoice.paid", time: "2026-11-18T13:45:10Z", customer: "cust-81",
            data: ["invoiceId": "INV-2026-0117", "orderId": "ORD-5531", "amount": 249.9, "currency": "EUR"]))
        XCTAssertEqual(invoice.map(\.id), ["invoice-paid-crm-update@enrich:inv-evt-1"])
        let update = try XCTUnwrap(invoice.first)
        XCTAssertEqual(update.template, "crm.invoice-paid")
        XCTAssertEqual(update.channelClass, .crmUpdate)
        XCTAssertEqual(update.priority, .normal)
        XCTAssertEqual(update.validUntil?.text, "2027-11-18T13:45:10.000Z", "a late update still makes the record right")
        XCTAssertEqual(update.payload.keys.sorted(), ["amount", "currency", "invoiceId", "orderId", "paidAt"])
        XCTAssertEqual(update.payload["invoiceId"], .string("INV-2026-0117"))
        XCTAssertEqual(update.payload["orderId"], .string("ORD-5531"))
        XCTAssertEqual(number(update.payload["amount"]), "249.9")
        XCTAssertEqual(update.payload["currency"], .string("EUR"))
        XCTAssertEqual(update.payload["paidAt"], .string("2026-11-18T13:45:10Z"))
        XCTAssertEqual(update.decision.reads, JSONObject(), "an unconditional rule reads nothing")

        let resolved = try harness.send(record(
            id: "case-evt-9", type: "crm.case.resolved", time: "2026-11-18T13:45:10Z", customer: "cust-81",
            data: ["caseId": "CASE-881", "topic": "card-replacement", "severity": "low"]))
        XCTAssertEqual(resolved.map(\.id), ["case-resolved-notice@enrich:case-evt-9"])
        let notice = try XCTUnwrap(resolved.first)
        XCTAssertEqual(notice.template, "service.case-resolved")
        XCTAssertEqual(notice.channelClass, .service)
        XCTAssertEqual(notice.priority, .normal)
        XCTAssertEqual(notice.validUntil?.text, "2026-11-19T13:45:10.000Z")
        XCTAssertEqual(notice.payload, JSONObject(["caseId": .string("CASE-881"), "topic": .string("card-replacement")]))
        XCTAssertEqual(notice.recipient?.email, "cust-81@example.com")
        XCTAssertEqual(try harness.decisions(of: "cust-81"), [])

        // A backlog of two months is still synced.
        let backlog = try harness.send(record(
            id: "inv-evt-2", type: "finance.invoice.paid", time: "2026-09-18T09:00:00Z", customer: "cust-82",
            data: ["invoiceId": "INV-2026-0042", "orderId": "ORD-4410", "amount": 80, "currency": "EUR"]))
        XCTAssertEqual(backlog.map(\.id), ["invoice-paid-crm-update@enrich:inv-evt-2"])
    }

    // MARK: Exactly once and deterministic

    func testTheSameRecordTwiceYieldsOneActionAndOneTimer() throws {
        let harness = try self.harness(start: "2026-11-02T10:00:00Z")
        let confirmation = deposit("dep-evt-1", at: "2026-11-02T10:00:00Z", customer: "cust-20", depositId: "dep-981", via: "mobile")
        XCTAssertEqual(try harness.send(confirmation).count, 1)
        XCTAssertEqual(try harness.send(confirmation), [], "the ledger knows the input id")
        XCTAssertEqual(harness.actions.map(\.id), ["check-deposit-confirmation@enrich:dep-evt-1"])

        let surplus = transaction("txn-1", at: "2026-11-02T10:00:00Z", customer: "cust-42", balanceAfter: 20000, cashNeed: 7000, surplus: 13000)
        XCTAssertEqual(try harness.send(surplus).count, 1)
        XCTAssertEqual(try harness.send(surplus), [])
        XCTAssertEqual(try harness.decisions(of: "cust-42"), [], "the replay did not even reach the cooldown")

        let confirmed = booking("bk-1", at: "2026-11-02T10:00:00Z", bookingId: "BK-9", departure: "2026-11-09T06:40:00+01:00")
        try harness.send(confirmed)
        try harness.send(confirmed)
        XCTAssertEqual(try harness.pendingTimers.count, 1)
        XCTAssertEqual(try harness.decisions(of: "cust-7").map(\.reason), ["timer checkin:BK-9 due at 2026-11-08T06:40:00+01:00"])
        XCTAssertEqual(try harness.advance(to: "2026-11-08T05:40:00Z").count, 1)
        XCTAssertEqual(harness.actions.count, 3)
    }

    func testReprocessingOnAFreshHarnessGivesTheSameActions() throws {
        let records = [
            transaction("txn-1", at: "2026-11-02T10:00:00Z", customer: "cust-42", balanceAfter: 20000, cashNeed: 7000, surplus: 13000),
            feedback("fb-1", at: "2026-11-02T10:00:00Z", customer: "cust-52", tier: "gold", rating: 1, sentiment: -0.5),
            booking("bk-1", at: "2026-11-02T10:00:00Z", bookingId: "BK-9", departure: "2026-11-09T06:40:00+01:00"),
        ]
        var runs: [[OutputRecord]] = []
        for run in 0..<2 {
            let harness = try self.harness(start: "2026-11-02T10:00:00Z")
            for record in records { try harness.send(record) }
            if run == 1 { try harness.restart() }
            try harness.advance(to: "2026-11-08T05:40:00Z")
            runs.append(harness.outputs)
        }
        XCTAssertEqual(runs[0].map(\.id), [
            "surplus-to-cd@enrich:txn-1", "negative-feedback-discount@enrich:fb-1", "negative-feedback-agent-call@enrich:fb-1",
            "checkin-reminder@cust-7/checkin:BK-9@2026-11-08T06:40:00+01:00",
        ])
        XCTAssertEqual(runs[1].map(\.id), runs[0].map(\.id))
        // The timer's payload and reads come back from the partition file; they must not come
        // back in a different member order on another run.
        XCTAssertEqual(runs[1].map(\.value), runs[0].map(\.value), "the same bytes, not only the same ids")
    }

    // MARK: Evaluation errors

    func testARunTimeEvaluationErrorFailsTheRecordNamingTheRule() throws {
        let pack = try RulePack(yaml: """
            pack: split-test
            version: "3"
            rules:
              - id: split-invoice
                on: [finance.invoice.paid]
                action:
                  template: crm.invoice-split
                  channel-class: crm-update
                  priority: normal
                  payload:
                    share: event.data.amount / context.payers
            """, origin: "split.yaml")
        let stage = RulesStage(pack: pack, clock: { Date(timeIntervalSince1970: 1_795_000_000) })
        let enriched = record(
            id: "inv-evt-1", type: "finance.invoice.paid", time: "2026-11-18T13:45:10Z", customer: "cust-81",
            data: ["invoiceId": "INV-1", "orderId": "ORD-1", "amount": 249.9, "currency": "EUR"], context: ["payers": 0])
        let input = InputRecord(
            position: RecordPosition(topic: EnrichedEventV1.topic, partition: 0, offset: 0), key: Array("cust-81".utf8),
            value: Array(try JSONSerialization.data(withJSONObject: enriched, options: [.sortedKeys])),
            headers: [RecordHeader(name: recordIDHeader, string: "enrich:inv-evt-1")])
        let reading = stage.read(input)
        let inputID = stage.inputID(of: input, reading: reading)
        XCTAssertEqual(inputID, "enrich:inv-evt-1")
        do {
            let effect = try stage.process(input, reading: reading, inputID: inputID, state: RulesState())
            XCTFail("expected rule_evaluation_failed, got \(effect.verdict) \(effect.reason ?? "")")
        } catch let failure as StageFailure {
            XCTAssertEqual(failure.code, "rule_evaluation_failed")
            XCTAssertEqual(
                failure.message, "rule split-invoice (pack split-test 3), action.payload.share: in 'event.data.amount / context.payers': division by zero")
        } catch {
            XCTFail("expected a StageFailure, got \(error)")
        }
        // With a non-zero divisor the same rule works, so the failure was the data's.
        let fine = record(
            id: "inv-evt-2", type: "finance.invoice.paid", time: "2026-11-18T13:45:10Z", customer: "cust-81",
            data: ["invoiceId": "INV-1", "orderId": "ORD-1", "amount": 249.9, "currency": "EUR"], context: ["payers": 3])
        let fineInput = InputRecord(
            position: RecordPosition(topic: EnrichedEventV1.topic, partition: 0, offset: 1), key: Array("cust-81".utf8),
            value: Array(try JSONSerialization.data(withJSONObject: fine, options: [.sortedKeys])),
            headers: [RecordHeader(name: recordIDHeader, string: "enrich:inv-evt-2")])
        let effect = try stage.process(fineInput, reading: stage.read(fineInput), inputID: "enrich:inv-evt-2", state: RulesState())
        XCTAssertEqual(try effect.outputs.map(RulesHarness.action).map { number($0.payload["share"]) }, ["83.3"])
    }

    // MARK: Records

    private func number(_ value: JSONValue?) -> String? {
        if case let .number(number)? = value { return number.text }
        return nil
    }

    /// An enriched record as enrich writes it: the event as ingest canonicalized it (with its
    /// trace and source attributes) and the customer's context with the features every
    /// non-erased context has.
    private func record(
        id: String, type: String, time: String, customer: String, data: [String: Any], context: [String: Any] = [:],
        tier: String = "standard", marketingConsent: Bool = true
    ) -> [String: Any] {
        var full: [String: Any] = [
            "asOf": Timestamp(epochMilliseconds: Timestamp(time)!.epochMilliseconds).text,
            "recipient": [
                "name": "Ana Souza", "locale": "en-US", "timeZone": "America/New_York", "email": "\(customer)@example.com",
                "phone": "+12125550142", "pushToken": "fcm-\(customer)", "device": "phone", "marketingConsent": marketingConsent,
                "serviceConsent": true, "quietHours": ["start": "22:00", "end": "07:00"],
            ] as [String: Any],
            "segment": ["tier": tier, "generation": "millennial"],
            "productsHeld": ["checking", "savings"],
            "sentiment": 0.2,
            "churnRisk": 0.1,
            "spendZScore": 0.3,
            "activityZScore": -0.2,
            "openCases": 0,
            "lastContactByChannel": ["push": "2026-10-01T09:00:00.000Z"],
        ]
        full.merge(context) { _, new in new }
        var enriched = Enriched.record(id: id, type: type, time: time, customer: customer, data: data, context: full)
        var event = enriched["event"] as! [String: Any]
        let source = String(type.split(separator: ".").first!)
        upstreamOffset += 1
        event["source"] = "urn:liaison:test:\(source)"
        event["datacontenttype"] = "application/json"
        event["traceparent"] = Self.traceparent
        event["ingesttime"] = time
        event["sourcetopic"] = "upstream.\(source)"
        event["sourcepartition"] = 3
        event["sourceoffset"] = upstreamOffset
        enriched["event"] = event
        return enriched
    }

    private func transaction(
        _ id: String, at time: String, customer: String, balanceAfter: Double, cashNeed: Double?, surplus: Double?,
        accountType: String = "checking", productsHeld: [String] = ["checking", "savings"], marketingConsent: Bool = true,
        tier: String = "standard", churnRisk: Double = 0.1, spendZScore: Double = 0.3, activityZScore: Double = -0.2
    ) -> [String: Any] {
        var context: [String: Any] = [
            "productsHeld": productsHeld, "checkingBalance": balanceAfter, "churnRisk": churnRisk, "spendZScore": spendZScore,
            "activityZScore": activityZScore,
        ]
        if let cashNeed { context["cashNeed"] = cashNeed }
        if let surplus { context["surplus"] = surplus }
        return record(
            id: id, type: "banking.transaction.posted", time: time, customer: customer,
            data: [
                "accountId": "\(accountType == "checking" ? "chk" : "sav")-\(customer)", "accountType": accountType, "amount": -120.5,
                "currency": "USD", "balanceAfter": balanceAfter, "description": "Grocery",
            ],
            context: context, tier: tier, marketingConsent: marketingConsent)
    }

    private func deposit(_ id: String, at time: String, customer: String, depositId: String, via: String) -> [String: Any] {
        record(
            id: id, type: "banking.check.deposited", time: time, customer: customer,
            data: ["accountId": "chk-\(customer)", "depositId": depositId, "amount": 1250.75, "currency": "USD", "via": via],
            marketingConsent: false)
    }

    private func openHouse(
        _ id: String, at time: String, customer: String, researchedAt: String, placeType: String = "open-house", topic: String = "mortgage"
    ) -> [String: Any] {
        record(
            id: id, type: "engagement.geo.entered", time: time, customer: customer,
            data: ["placeType": placeType, "placeId": "oh-1187", "lat": 40.7411, "lon": -73.9897],
            context: ["recentResearch": [["topic": "cd", "at": "2026-09-02T08:00:00Z"], ["topic": topic, "at": researchedAt]]])
    }

    private func booking(
        _ id: String, at time: String, bookingId: String, departure: String, flight: String = "LH 400", destination: String? = nil
    ) -> [String: Any] {
        let destination = destination ?? (flight == "LH 400" ? "JFK" : "LIS")
        let trip: [String: Any] = ["bookingId": bookingId, "flight": flight, "origin": "FRA", "destination": destination, "departure": departure]
        return record(
            id: id, type: "travel.booking.confirmed", time: time, customer: "cust-7", data: trip, context: ["upcomingTrips": [trip]])
    }

    private func feedback(
        _ id: String, at time: String, customer: String, tier: String = "standard", channel: String = "survey", rating: Int?,
        sentiment: Double, text: String = "Waited forty minutes on hold."
    ) -> [String: Any] {
        var data: [String: Any] = ["channel": channel, "text": text, "language": "en"]
        if let rating { data["rating"] = rating }
        return record(
            id: id, type: "engagement.feedback.received", time: time, customer: customer, data: data, context: ["sentiment": sentiment],
            tier: tier)
    }

    private func caseOpened(_ id: String, at time: String, customer: String, churnRisk: Double, tier: String = "standard") -> [String: Any] {
        record(
            id: id, type: "crm.case.opened", time: time, customer: customer,
            data: ["caseId": "CASE-\(id)", "topic": "card-dispute", "severity": "high"],
            context: ["churnRisk": churnRisk, "sentiment": -0.4, "openCases": 3, "oldestOpenCaseDays": 21, "activityZScore": -1.8], tier: tier)
    }
}
