import Foundation
import LiaisonSchema
import SchemaChecking
import XCTest

import Rules

final class RulePackLoadingTests: XCTestCase {
    static func defaultPackText() throws -> String {
        try String(contentsOf: SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml"), encoding: .utf8)
    }

    /// Small mistakes in the default pack, each of which both the loader and the JSON Schema refuse.
    static func defaultPackMistakes() throws -> [String: String] {
        let pack = try defaultPackText()
        return [
            "unknown-key": pack.replacingOccurrences(of: "    cooldown: 7d", with: "    cooldwn: 7d"),
            "channel-class": pack.replacingOccurrences(of: "channel-class: crm-update", with: "channel-class: crm"),
            "duration": pack.replacingOccurrences(of: "    expiry: 1h", with: "    expiry: 1 hour"),
            "event-type": pack.replacingOccurrences(of: "on: [finance.invoice.paid]", with: "on: [finance.invoice.payed]"),
            "escalate-without-escalation": pack.replacingOccurrences(of: "overdue: fire-late", with: "overdue: escalate"),
            "no-action-or-cancel": pack.replacingOccurrences(of: "    cancel: '\"checkin:\" + event.data.bookingId'\n", with: ""),
            "expiry-with-schedule": pack.replacingOccurrences(of: "    schedule:\n", with: "    expiry: 1d\n    schedule:\n"),
            "param-name": pack.replacingOccurrences(of: "  cd_term_days: 30", with: "  cd-term-days: 30"),
        ]
    }

    func testDefaultPackLoads() throws {
        let pack: RulePack
        do {
            pack = try RulePack(yaml: try Self.defaultPackText(), origin: "default.yaml")
        } catch let errors as RulePackErrors {
            return XCTFail("the default pack does not load:\n\(errors)")
        }
        XCTAssertEqual(pack.name, "liaison-default")
        XCTAssertEqual(pack.version, "2026.11.1")
        XCTAssertEqual(pack.rules.map(\.id), [
            "surplus-to-cd", "check-deposit-confirmation", "open-house-advisor-task", "open-house-advisor-push", "checkin-reminder",
            "checkin-reminder-cancel", "checkin-reminder-withdrawn", "negative-feedback-discount", "negative-feedback-agent-call", "churn-warning-task",
            "churn-retention-offer", "behaviour-changed", "invoice-paid-crm-update", "case-resolved-notice",
        ])
        XCTAssertTrue(pack.rules.allSatisfy { $0.description?.isEmpty == false })
        XCTAssertEqual(pack.params["cd_surplus_threshold"], Fixture.json("5000"))
        XCTAssertEqual(pack.params["negative_sentiment"], Fixture.json("-0.3"))
        XCTAssertEqual(pack.params["checkin_reminder_lead"], .string("24h"))
        XCTAssertEqual(pack.channelCaps, [.marketing: FrequencyCap(count: 3, perSeconds: 604_800)])

        let rules = Dictionary(uniqueKeysWithValues: pack.rules.map { ($0.id, $0) })
        let surplus = try XCTUnwrap(rules["surplus-to-cd"])
        XCTAssertEqual(surplus.eventTypes, ["banking.transaction.posted"])
        XCTAssertEqual(surplus.action?.channelClass, .marketing)
        XCTAssertEqual(surplus.action?.payload.map(\.name), ["amount", "currency", "termDays"])
        XCTAssertEqual(surplus.cooldownSeconds, 30 * 86_400)
        XCTAssertEqual(surplus.expirySeconds, 86_400)
        let reminder = try XCTUnwrap(rules["checkin-reminder"]?.schedule)
        XCTAssertEqual(rules["checkin-reminder"]?.eventTypes, ["travel.booking.confirmed", "travel.flight.rescheduled"])
        XCTAssertEqual(reminder.lateAfterSeconds, 900)
        XCTAssertEqual(reminder.overdue, .fireLate)
        XCTAssertNil(reminder.escalation)
        XCTAssertEqual(rules["checkin-reminder-cancel"]?.cancelKey?.source, reminder.key.source)
        XCTAssertNil(rules["checkin-reminder-cancel"]?.action)
        XCTAssertEqual(rules["negative-feedback-agent-call"]?.action?.channelClass, .agentTask)
        XCTAssertEqual(rules["behaviour-changed"]?.action?.template, "behaviour.changed")
        XCTAssertEqual(rules["behaviour-changed"]?.action?.channelClass, .crmUpdate)
    }

    /// The pack's expressions do what the scenarios ask of them.
    func testDefaultPackScenarios() throws {
        let pack = try RulePack(yaml: try Self.defaultPackText(), origin: "default.yaml")
        let rules = Dictionary(uniqueKeysWithValues: pack.rules.map { ($0.id, $0) })
        func scope(_ event: String, _ context: String, now: String) -> EvaluationScope {
            EvaluationScope(event: Fixture.json(event), context: Fixture.json(context), params: pack.params, now: Timestamp(now) ?? Fixture.now)
        }

        let posted = #"{"type": "banking.transaction.posted", "data": {"accountType": "checking", "currency": "USD"}}"#
        let rich = scope(posted, #"{"surplus": 7450.25, "productsHeld": ["checking"], "recipient": {"marketingConsent": true}}"#, now: "2026-11-02T10:15:00Z")
        let surplus = try XCTUnwrap(rules["surplus-to-cd"])
        XCTAssertEqual(try surplus.condition?.evaluateCondition(rich), true)
        XCTAssertEqual(try surplus.action?.payload[0].expression.evaluate(rich), decimal("7000"))
        let holdsCD = scope(posted, #"{"surplus": 7450.25, "productsHeld": ["cd"], "recipient": {"marketingConsent": true}}"#, now: "2026-11-02T10:15:00Z")
        XCTAssertEqual(try surplus.condition?.evaluateCondition(holdsCD), false)
        let noConsent = scope(posted, #"{"surplus": 7450.25, "recipient": {"marketingConsent": false}}"#, now: "2026-11-02T10:15:00Z")
        XCTAssertEqual(try surplus.condition?.evaluateCondition(noConsent), false)

        let openHouse = #"{"type": "engagement.geo.entered", "data": {"placeType": "open-house", "placeId": "oh-7"}}"#
        let researched = #"{"recentResearch": [{"topic": "cd", "at": "2026-11-01T09:00:00Z"}, {"topic": "mortgage", "at": "2026-10-10T09:00:00Z"}]}"#
        let advisor = try XCTUnwrap(rules["open-house-advisor-task"]?.condition)
        XCTAssertEqual(try advisor.evaluateCondition(scope(openHouse, researched, now: "2026-11-02T10:15:00Z")), true)
        XCTAssertEqual(try advisor.evaluateCondition(scope(openHouse, researched, now: "2026-11-12T10:15:00Z")), false)
        XCTAssertEqual(try advisor.evaluateCondition(scope(openHouse, "{}", now: "2026-11-02T10:15:00Z")), false)

        let rescheduled = #"{"type": "travel.flight.rescheduled", "data": {"bookingId": "bk-9", "departure": "2026-11-20T07:05:00+09:00"}}"#
        let trips = #"{"upcomingTrips": [{"bookingId": "bk-9", "flight": "NH 210", "departure": "2026-11-20T07:05:00+09:00"}]}"#
        let reminder = try XCTUnwrap(rules["checkin-reminder"])
        let travel = scope(rescheduled, trips, now: "2026-11-02T10:15:00Z")
        XCTAssertEqual(try reminder.condition?.evaluateCondition(travel), true)
        XCTAssertEqual(try reminder.schedule?.key.evaluate(travel), .string("checkin:bk-9"))
        XCTAssertEqual(try reminder.schedule?.at.evaluate(travel), timestamp("2026-11-19T07:05:00+09:00"))
        XCTAssertEqual(try reminder.schedule?.validUntil?.evaluate(travel), timestamp("2026-11-20T06:05:00+09:00"))
        let flight = reminder.action?.payload.first { $0.name == "flight" }
        XCTAssertEqual(try flight?.expression.evaluate(travel), .string("NH 210"))
        XCTAssertEqual(try reminder.condition?.evaluateCondition(scope(rescheduled, trips, now: "2026-11-19T21:30:00Z")), false)

        let feedback = #"{"type": "engagement.feedback.received", "data": {"channel": "review", "rating": 2}}"#
        let call = try XCTUnwrap(rules["negative-feedback-agent-call"]?.condition)
        XCTAssertEqual(try call.evaluateCondition(scope(feedback, #"{"segment": {"tier": "gold"}}"#, now: "2026-11-02T10:15:00Z")), true)
        XCTAssertEqual(try call.evaluateCondition(scope(feedback, #"{"segment": {"tier": "standard"}}"#, now: "2026-11-02T10:15:00Z")), false)

        let behaviour = try XCTUnwrap(rules["behaviour-changed"]?.condition)
        XCTAssertEqual(try behaviour.evaluateCondition(scope(posted, #"{"spendZScore": -3.4}"#, now: "2026-11-02T10:15:00Z")), true)
        XCTAssertEqual(try behaviour.evaluateCondition(scope(posted, #"{"spendZScore": 2.9}"#, now: "2026-11-02T10:15:00Z")), false)
    }

    func testLoaderRefusesMistakesInDefaultPack() throws {
        let pack = try Self.defaultPackText()
        for (name, text) in try Self.defaultPackMistakes() {
            XCTAssertNotEqual(text, pack, "\(name) changed nothing")
            XCTAssertThrowsError(try RulePack(yaml: text, origin: "\(name).yaml"), name)
        }
    }

    func testReportsEveryMistake() {
        let yaml = """
            pack: broken-pack
            version: "1"
            params:
              threshold: 100
            rules:
              - id: first
                on: banking.transaction.posted
                conditon: context.surplus > 1
                action:
                  template: offer.x
                  channel-class: marketting
                  priority: normal
                cooldown: 30x
              - id: second
                on: [banking.transaction.postd]
                when: context.surplus + 1
                action: {template: offer.y, channel-class: service, payload: [1]}
                expiry: 0s
              - id: first
                on: [crm.case.resolved]
                when: context.surplus >= params.treshold
                action: {template: offer.z, channel-class: service}
              - id: timed
                on: [travel.booking.confirmed]
                action: {template: service.t, channel-class: service}
                schedule:
                  key: '"t:" + event.data.bookingId'
                  at: 'timestamp(event.data.departure) - 24x'
                  overdue: escalate
              - id: nothing
                on: [crm.case.opened]
            """
        let errors = loadErrors(yaml)
        let expected: [(Int, Int, String, String)] = [
            (8, 5, "rules[0] (first).conditon", "unknown key 'conditon'; did you mean 'when'? expected one of id, description, on, when, action"),
            (11, 22, "rules[0] (first).action.channel-class", "'marketting' is not a channel class; did you mean 'marketing'?"),
            (13, 15, "rules[0] (first).cooldown", "'30x' is not a duration; write it like 30d"),
            (15, 10, "rules[1] (second).on[0]", "unknown event type 'banking.transaction.postd'; did you mean 'banking.transaction.posted'?"),
            (16, 11, "rules[1] (second).when", "the expression gives a decimal, but a bool is needed here; write a condition"),
            (17, 66, "rules[1] (second).action.payload", "expected a map of payload field names to expressions, found a list"),
            (18, 13, "rules[1] (second).expiry", "the duration must be longer than zero"),
            (19, 9, "rules[2] (first).id", "rule id 'first' is already used by rules[0]"),
            (21, 30, "rules[2] (first).when", "unknown parameter 'treshold' (did you mean 'threshold'?); the pack defines: threshold"),
            (28, 46, "rules[3] (timed).schedule.at", "'24x' is not a number or a duration"),
            (29, 16, "rules[3] (timed).schedule.escalation", "overdue: escalate needs an escalation action"),
            (30, 5, "rules[4] (nothing)", "a rule needs an action, a cancel or both"),
        ]
        XCTAssertEqual(errors.count, expected.count, errors.map(\.description).joined(separator: "\n"))
        for (error, (line, column, field, message)) in zip(errors, expected) {
            XCTAssertEqual(error.origin, "broken.yaml")
            XCTAssertEqual(error.line, line, error.description)
            XCTAssertEqual(error.column, column, error.description)
            XCTAssertEqual(error.field, field, error.description)
            XCTAssertTrue(error.message.hasPrefix(message), error.description)
        }
    }

    func testDescriptionNamesFileLineColumnAndField() {
        let yaml = """
            pack: p
            version: "1"
            rules:
              - id: checkin-reminder
                on: travel.booking.confirmed
                action: {template: t, channel-class: service}
                schedule: {key: event.data.bookingId, at: '"soon"'}
            """
        XCTAssertEqual(
            loadErrors(yaml).map(\.description),
            [
                "broken.yaml:7:48: rules[0] (checkin-reminder).schedule.at: the expression gives a string, but a timestamp is needed here; "
                    + "turn a text field into a timestamp with timestamp(...), e.g. timestamp(event.data.departure) - 24h",
            ])
    }

    func testYAMLSyntaxErrorIsOneError() {
        let yaml = """
            pack: p
            version: "1"
            rules:
              - id: a
                when: context.x: 1
            """
        let errors = loadErrors(yaml)
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?.line, 5)
        XCTAssertEqual(errors.first?.column, 20)
        XCTAssertEqual(errors.first?.field, "")
        XCTAssertEqual(errors.first?.message.hasPrefix("the YAML cannot be read: mapping values are not allowed in this context"), true)

        let repeated = loadErrors("pack: p\nversion: \"1\"\npack: q\nrules: []\n")
        XCTAssertEqual(repeated.map(\.line), [1])
        XCTAssertEqual(repeated.first?.message, "the key 'pack' appears twice in the same map; keep one")
        XCTAssertEqual(loadErrors("").map(\.message), ["the file is empty; a rule pack needs pack:, version: and rules:"])
    }

    func testRuleNeedsActionOrCancel() {
        let yaml = """
            pack: p
            version: "1"
            rules:
              - id: silent
                on: [crm.case.opened]
                when: true
                cooldown: 1d
            """
        let errors = loadErrors(yaml)
        XCTAssertEqual(errors.map(\.field), ["rules[0] (silent)", "rules[0] (silent).cooldown"])
        XCTAssertEqual(errors.map(\.line), [4, 7])
        XCTAssertEqual(errors.first?.message.hasPrefix("a rule needs an action, a cancel or both"), true)
        XCTAssertEqual(errors.last?.message.hasPrefix("a cooldown spaces out the rule's actions, but the rule has no action"), true)

        let cancelOnly = """
            pack: p
            version: "1"
            rules:
              - id: forget
                on: travel.booking.cancelled
                cancel: '"checkin:" + event.data.bookingId'
            """
        XCTAssertEqual(loadErrors(cancelOnly, expectFailure: false).count, 0)
    }

    /// An error inside an expression points at its token however the YAML scalar is written.
    func testExpressionErrorsPointIntoTheScalar() {
        func position(_ when: String) -> [String] {
            let yaml = "pack: p\nversion: \"1\"\nrules:\n  - id: a\n    on: crm.case.opened\n    action: {template: t, channel-class: service}\n" + when
            return loadErrors(yaml).map { "\($0.line):\($0.column)" }
        }
        XCTAssertEqual(position("    when: event.type == 'x' and bad(1)\n"), ["7:33"])
        XCTAssertEqual(position(#"    when: "event.type == \"x\" and bad(1)""# + "\n"), ["7:36"])
        XCTAssertEqual(position("    when: 'event.type == ''x'' and bad(1)'\n"), ["7:36"])
        XCTAssertEqual(position("    when: >-\n      event.type == 'x'\n      and bad(1)\n"), ["9:11"])
        XCTAssertEqual(position("    when: |\n      event.type == 'x'\n        and bad(1)\n"), ["9:13"])
        XCTAssertEqual(position("    when: event.type == 'x'\n      and bad(1)\n"), ["8:11"])
        XCTAssertEqual(position("    when: event.type ==   # a comment\n"), ["7:24"])
        XCTAssertEqual(position("    when: params.limit > 1\n"), ["7:11"])
    }

    func testParameterValues() {
        let yaml = """
            pack: p
            version: "1"
            params:
              exact: 0.10
              text: "5000"
              flag: false
              window: 30d
              hex: 0x10
              answer: yes
              empty:
              list: [1, 2]
              and: 1
            rules: []
            """
        let errors = loadErrors(yaml)
        XCTAssertEqual(errors.map(\.field), ["params.hex", "params.answer", "params.empty", "params.list", "params.and"])
        let valid = loadErrors(yaml.split(separator: "\n").prefix(7).joined(separator: "\n") + "\nrules: []\n", expectFailure: false)
        XCTAssertEqual(valid.count, 0)
        let pack = try? RulePack(yaml: yaml.split(separator: "\n").prefix(7).joined(separator: "\n") + "\nrules: []\n", origin: "p.yaml")
        guard case let .number(exact)? = pack?.params["exact"] else { return XCTFail("exact is not a number") }
        XCTAssertEqual(exact.text, "0.10")
        XCTAssertEqual(pack?.params["text"], .string("5000"))
        XCTAssertEqual(pack?.params["flag"], .bool(false))
        XCTAssertEqual(pack?.params["window"], .string("30d"))

        let unreadable = loadErrors("pack: p\nversion: \"1\"\nparams: [1]\nrules:\n  - {id: a, on: crm.case.opened, when: params.x > 1, cancel: '\"k\"'}\n")
        XCTAssertEqual(unreadable.map(\.field), ["params"])
    }

    private func loadErrors(_ yaml: String, expectFailure: Bool = true, file: StaticString = #filePath, line: UInt = #line) -> [RulePackError] {
        do {
            _ = try RulePack(yaml: yaml, origin: "broken.yaml")
            if expectFailure { XCTFail("the pack loaded", file: file, line: line) }
            return []
        } catch {
            return error.errors
        }
    }
}
