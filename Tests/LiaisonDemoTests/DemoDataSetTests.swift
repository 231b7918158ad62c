import Enrich
import Foundation
import Ingest
import LiaisonDemo
import LiaisonSchema
import LiaisonStage
import SchemaChecking
import XCTest
import Yams

/// The demo's data set must do what the report will claim it does: every record ends in ingest
/// as intended, the events are valid against the published schemas, and the features the
/// scenarios' rules read really cross (or stay clear of) the default pack's thresholds, computed
/// by the real ingest and enrich stages with the deployed settings.
final class DemoDataSetTests: XCTestCase {
    /// The demo's default size and the short test mode; built once, they are large.
    static let full = DemoDataSet()
    static let small = DemoDataSet(customers: 60)
    static var both: [DemoDataSet] { [full, small] }

    // MARK: Shape

    func testTheSameSeedGivesTheSameRecordsAndAnotherSeedOtherOnes() {
        XCTAssertEqual(DemoDataSet(customers: 60).records, Self.small.records)
        XCTAssertEqual(DemoDataSet().records, Self.full.records)
        XCTAssertNotEqual(DemoDataSet(customers: 60, seed: 7).records, Self.small.records)
    }

    func testRecordsAreInTimeOrderWithHistoryBeforeAndLiveRecordsInsideTheLiveWindow() {
        for set in Self.both {
            let timeline = set.timeline
            XCTAssertEqual(set.records.map(\.time), set.records.map(\.time).sorted(), "\(set.customerCount)")
            for record in set.records {
                XCTAssertGreaterThanOrEqual(record.time, timeline.historyStart, record.id)
                XCTAssertLessThan(record.time, timeline.liveEnd, record.id)
            }
            let live = set.records.filter { $0.time >= timeline.liveStart }
            XCTAssertGreaterThan(live.count, set.customerCount, "the live phase has plenty to show")
            XCTAssertEqual(Set(set.records.map(\.topic)), Set(set.topics))
            XCTAssertEqual(set.topics, ["sor.booking", "sor.core-banking", "sor.crm.cases", "sor.customer", "sor.engagement", "sor.erp.invoices"])
        }
    }

    func testTheStandardTimelineIsTheOneTheDemoIsBuiltFor() {
        let timeline = DemoTimeline.standard
        XCTAssertEqual(Timestamp(timeline.liveStart).text, "2026-11-16T06:00:00.000Z")
        XCTAssertEqual(timeline.liveStart.timeIntervalSince(timeline.historyStart), 90 * 86_400)
        XCTAssertEqual(timeline.liveEnd.timeIntervalSince(timeline.liveStart), 20 * 3_600)
        XCTAssertEqual(timeline.rulesOutage.lowerBound.timeIntervalSince(timeline.liveStart), 5 * 3_600)
        XCTAssertEqual(timeline.rulesOutage.upperBound.timeIntervalSince(timeline.liveStart), 7.5 * 3_600)
        XCTAssertEqual(timeline.notifierOutage.lowerBound.timeIntervalSince(timeline.liveStart), 12 * 3_600)
        XCTAssertEqual(timeline.notifierOutage.upperBound.timeIntervalSince(timeline.liveStart), 14 * 3_600)
    }

    func testSizeCastAndExpectationsCoverEveryScenario() {
        XCTAssertLessThan(Self.full.records.count, 40_000)
        XCTAssertGreaterThan(Self.full.records.count, 20_000)
        for set in Self.both {
            let size = "\(set.customerCount) customers"
            XCTAssertEqual(Set(set.cast.map(\.role)), Set(DemoRole.allCases), size)
            XCTAssertEqual(Set(set.cast.map(\.id)).count, set.cast.count, "one part per customer")
            XCTAssertTrue((6...10).contains(set.featuredCustomers.count), size)
            XCTAssertEqual(Set(set.featuredCustomers.flatMap(\.scenarios)), Set(1...10), "the featured customers show every scenario")
            XCTAssertEqual(set.expectations.map(\.scenario), Array(1...10), size)
            for expectation in set.expectations {
                XCTAssertFalse(expectation.customers.isEmpty, "\(size): scenario \(expectation.scenario)")
                XCTAssertGreaterThan(expectation.minimumSent, 0, "\(size): scenario \(expectation.scenario)")
                XCTAssertFalse(expectation.description.isEmpty)
            }
            let missed = set.expectations.filter(\.expectsMissed).map(\.scenario)
            XCTAssertEqual(missed, [2, 3, 10], size)
            XCTAssertEqual(set.expectations[0].expectsSuppressed, ["cooldown", "expired", "quiet_hours"], size)
            XCTAssertEqual(set.expectations[9].expectsSuppressed, ["no_marketing_consent", "quiet_hours"], size)
            let broken = set.records.filter { if case .deadLetter = $0.expected { true } else { false } }
            XCTAssertGreaterThanOrEqual(broken.count, 20, size)
        }
        let erasures = Self.full.records.filter { $0.type == "customer.erasure.requested" }
        XCTAssertEqual(erasures.count, 3)
        XCTAssertTrue(erasures.allSatisfy { $0.time >= DemoTimeline.standard.liveStart })
    }

    func testScenariosNameEveryRuleOfTheDefaultPackOnce() throws {
        let pack = try Self.defaultPack()
        let ruleIds = try XCTUnwrap(pack["rules"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        XCTAssertEqual(DemoScenario.all.map(\.number), Array(1...10))
        XCTAssertEqual(DemoScenario.all.flatMap(\.rules).sorted(), ruleIds.sorted())
        for id in ruleIds { XCTAssertNotNil(DemoScenario.scenario(forRule: id), id) }
        XCTAssertTrue(DemoScenario.all[8].rules.isEmpty && DemoScenario.all[9].rules.isEmpty)
        XCTAssertNil(DemoScenario.scenario(forRule: "no-such-rule"))
    }

    // MARK: Ingest and schemas

    func testEveryRecordEndsInIngestAsIntended() throws {
        for set in Self.both {
            var reasons: [String: Int] = [:]
            for (record, outcome) in try Self.ingested(set) {
                switch record.expected {
                case .event:
                    XCTAssertEqual(outcome.verdict, "accepted", "\(record.id): \(outcome.message ?? "")")
                    let output = try XCTUnwrap(outcome.output, record.id)
                    let event = try EventV1(bytes: output.value)
                    XCTAssertEqual(event.type.rawValue, record.type, record.id)
                    XCTAssertEqual(event.subject, record.customer, record.id)
                    XCTAssertEqual(output.key, Array(event.subject.utf8), "keyed by the customer whatever upstream keyed it by")
                    XCTAssertEqual(event.id, record.id, record.id)
                    XCTAssertEqual(event.time.date, record.time, record.id)
                case .ignored:
                    XCTAssertEqual(outcome.verdict, "ignored", record.id)
                    XCTAssertNil(record.type)
                case let .deadLetter(reason):
                    XCTAssertEqual(outcome.verdict, reason, "\(record.id): \(outcome.message ?? "")")
                    XCTAssertNil(record.type)
                    reasons[reason, default: 0] += 1
                }
            }
            XCTAssertEqual(
                Set(reasons.keys),
                [
                    "invalid_json", "invalid_utf8", "duplicate_key", "empty_record", "unknown_type", "schema_violation", "missing_subject",
                    "future_timestamp",
                ])
        }
    }

    func testAcceptedEventsAreValidAgainstTheSchemasAndBrokenOnesAreNot() throws {
        for set in Self.both {
            // Python's validator takes about 10 ms a record, so the bulk of ordinary purchases,
            // research and branch visits is sampled; every other record is checked.
            let bulk: Set<String?> = ["banking.transaction.posted", "engagement.web.researched", "engagement.geo.entered"]
            let outcomes = try Self.ingested(set).enumerated().filter { index, element in
                !bulk.contains(element.0.type) || index % 20 == 0 || element.0.time >= set.timeline.liveStart
            }.map(\.element)
            let accepted = outcomes.compactMap { $0.1.output.map { ($0, "liaison.events.v1") } }
            let broken = outcomes.filter { record, _ in
                guard case let .deadLetter(reason) = record.expected else { return false }
                return reason != "future_timestamp" && ["sor.core-banking", "sor.booking", "sor.customer", "sor.engagement"].contains(record.topic)
            }
            let checked = accepted.enumerated().map { ("event-\($0.offset)", $0.element.0.value, $0.element.1) }
                + broken.map { ($0.0.id, $0.0.value, "cloudevent") }
            let verdicts = try SchemaChecker.check(checked)
            for (name, _, _) in checked where name.hasPrefix("event-") {
                let verdict = try XCTUnwrap(verdicts[name], name)
                XCTAssertTrue(verdict.valid, "\(name): \(verdict.message)")
            }
            let transport: Set = ["invalid_json", "invalid_utf8", "duplicate_key", "empty_record"]
            for (record, _) in broken {
                let verdict = try XCTUnwrap(verdicts[record.id], record.id)
                guard case let .deadLetter(reason) = record.expected else { continue }
                XCTAssertFalse(verdict.valid, record.id)
                XCTAssertEqual(verdict.category, transport.contains(reason) ? reason : "schema", "\(record.id): \(verdict.message)")
            }
        }
    }

    // MARK: Features

    func testTheCastCrossesTheDefaultPacksThresholds() throws {
        let limits = try Thresholds()
        for set in Self.both {
            let size = "\(set.customerCount) customers"
            let live = set.timeline.liveStart
            let observations = try Self.observations(set)
            let roles = Dictionary(uniqueKeysWithValues: set.cast.map { ($0.id, $0.role) })
            func members(_ wanted: DemoRole...) -> [DemoCastMember] { set.cast.filter { wanted.contains($0.role) } }
            func liveTimeline(_ member: DemoCastMember) -> [Observation] { observations[member.id, default: []].filter { $0.time >= live } }

            // 1. A live checking posting leaves a surplus at or above the threshold, without a CD.
            for member in members(.cdOffer, .cdOfferAtNight, .cdSaver, .cdWithoutConsent) {
                let crossing = liveTimeline(member).filter {
                    $0.checking && ($0.context.surplus ?? 0) >= limits.surplus && !($0.context.productsHeld ?? []).contains("cd")
                }
                XCTAssertFalse(crossing.isEmpty, "\(size): \(member.id) \(member.role)")
                XCTAssertEqual(crossing.first?.context.recipient?.marketingConsent, member.role != .cdWithoutConsent, member.id)
            }
            let opener = try XCTUnwrap(members(.cdOffer).first)
            XCTAssertTrue(observations[opener.id]?.last?.context.productsHeld?.contains("cd") ?? false, "the first offer is taken up")

            // 5. Negative texts and ratings reach the thresholds; praise stays positive.
            let complaining = members(
                .negativeFeedback, .negativeFeedbackGerman, .lowRating, .lowRatingChinese, .repeatedComplaint, .complaintWithoutConsent, .churnRisk)
            for member in complaining {
                let feedback = liveTimeline(member).filter { $0.feedback != nil }
                XCTAssertFalse(feedback.isEmpty, "\(size): \(member.id)")
                for observation in feedback {
                    let text = observation.feedback?.text ?? ""
                    XCTAssertLessThanOrEqual(try XCTUnwrap(observation.context.sentiment), limits.sentiment, "\(member.id): \(text)")
                    if let rating = observation.feedback?.rating { XCTAssertLessThanOrEqual(rating, limits.rating) }
                }
                if member.role == .negativeFeedbackGerman { XCTAssertNotEqual(feedback[0].context.segment?.tier, .standard) }
            }
            for member in members(.positiveFeedback) {
                let feedback = liveTimeline(member).filter { $0.feedback != nil }
                XCTAssertGreaterThan(try XCTUnwrap(feedback.first?.context.sentiment), 0, member.id)
            }

            // 6. The churn risk crosses at the live feedback.
            for member in members(.churnRisk) {
                let risk = liveTimeline(member).compactMap(\.context.churnRisk).max() ?? 0
                XCTAssertGreaterThanOrEqual(risk, limits.churn, "\(size): \(member.id)")
            }

            // 7. Spending or activity departs by more than sigma from the baseline.
            for member in set.cast where member.scenarios.contains(7) {
                let departing = liveTimeline(member).filter { $0.behaviourRuleListens && $0.departs(limits.sigma) }
                XCTAssertFalse(departing.isEmpty, "\(size): \(member.id) \(member.role)")
            }

            // 3. Mortgage research within the window exactly for the advisor roles.
            let advised: [DemoRole] = [.openHouseAdvisor, .openHouseWithoutConsent, .openHouseDuringOutage]
            for observation in observations.values.joined() where observation.time >= live && observation.openHouse && !observation.context.erased {
                let research = observation.context.recentResearch?.first { $0.topic == "mortgage" }
                let recent = research.map { observation.time.timeIntervalSince($0.at.date) <= Double(limits.researchDays) * 86_400 } ?? false
                let role = roles[observation.customer]
                XCTAssertEqual(recent, role.map(advised.contains) ?? false, "\(observation.customer) \(String(describing: role))")
            }

            // 10. After the erasure request every event goes out as erased.
            for member in members(.erasure) {
                let timeline = observations[member.id, default: []]
                let erasedAt = try XCTUnwrap(timeline.firstIndex { $0.context.erased }, member.id)
                XCTAssertTrue(timeline[erasedAt...].allSatisfy(\.context.erased), member.id)
                XCTAssertGreaterThan(timeline.count - erasedAt, 1, "events follow the erasure")
            }
        }
    }

    /// No one outside a scenario's cast crosses its threshold while an action would still go out:
    /// within the day (offers) or two days (feedback, churn) before the live start, and ever for
    /// behaviour changes, whose rule has no expiry.
    func testNobodyElseCrossesAThresholdWhileAnActionWouldStillGoOut() throws {
        let limits = try Thresholds()
        for set in Self.both {
            let size = "\(set.customerCount) customers"
            let live = set.timeline.liveStart
            let roles = Dictionary(uniqueKeysWithValues: set.cast.map { ($0.id, $0.role) })
            let scenarios = Dictionary(uniqueKeysWithValues: set.cast.map { ($0.id, Set($0.scenarios)) })
            for (customer, timeline) in try Self.observations(set) {
                let role = roles[customer]
                let cast = scenarios[customer] ?? []
                // The offer roles may cross in the live phase only.
                let offerRole = [.cdOffer, .cdOfferAtNight, .cdSaver, .cdWithoutConsent].contains(role)
                for observation in timeline where !observation.context.erased {
                    let at = "\(size): \(customer) \(String(describing: role)) at \(observation.time)"
                    if observation.checking, observation.time >= live.addingTimeInterval(-86_400), !offerRole || observation.time < live {
                        XCTAssertLessThan(observation.context.surplus ?? 0, limits.surplus, at)
                    }
                    if observation.churnRuleListens, observation.time >= live.addingTimeInterval(-2 * 86_400), role != .churnRisk {
                        XCTAssertLessThan(observation.context.churnRisk ?? 0, limits.churn, at)
                    }
                    if observation.behaviourRuleListens, !cast.contains(7) {
                        XCTAssertFalse(observation.departs(limits.sigma), at)
                    }
                    if let feedback = observation.feedback, observation.time >= live.addingTimeInterval(-2 * 86_400), !cast.contains(5) {
                        XCTAssertGreaterThan(observation.context.sentiment ?? 0, limits.sentiment, "\(at): \(feedback.text ?? "")")
                        XCTAssertGreaterThan(feedback.rating ?? 5, limits.rating, at)
                    }
                }
            }
        }
    }

    // MARK: Timing

    /// Where the script puts short-lived moments relative to outages and quiet hours, checked in
    /// the customers' own zones as the notifier will read them.
    func testShortLivedMomentsFallWhereTheirScenariosNeedThem() throws {
        for set in Self.both {
            let timeline = set.timeline
            let zones = try Self.timeZones(set)
            let roles = Dictionary(uniqueKeysWithValues: set.cast.map { ($0.id, $0.role) })
            for record in set.records where record.time >= timeline.liveStart {
                guard let customer = record.customer, let role = roles[customer], record.expected == .event else { continue }
                // The cast's ordinary branch visits are not the moments under test.
                if record.type == "engagement.geo.entered", case let .engagementGeoEntered(place) = try EventV1(bytes: record.value).data,
                   place.placeType != .openHouse { continue }
                let zone = try XCTUnwrap(zones[customer])
                let quiet = Self.isQuiet(record.time, zone)
                // About ten simulated minutes pass before the notifier has the action: that span
                // must be clear of both outages.
                let handling = record.time..<record.time.addingTimeInterval(20 * 60)
                let clear = !timeline.notifierOutage.overlaps(handling) && !timeline.rulesOutage.overlaps(handling)
                switch (role, record.type) {
                case (.mobileDeposit, "banking.check.deposited"), (.openHouseAdvisor, "engagement.geo.entered"),
                     (.openHouseWithoutConsent, "engagement.geo.entered"):
                    XCTAssertTrue(!quiet && clear, "\(customer) \(role) at \(record.time)")
                case (.depositDuringOutage, "banking.check.deposited"):
                    XCTAssertTrue(timeline.notifierOutage.contains(record.time.addingTimeInterval(3_600)), customer)
                    XCTAssertFalse(quiet, customer)
                case (.openHouseDuringOutage, "engagement.geo.entered"):
                    XCTAssertTrue(timeline.notifierOutage.contains(record.time.addingTimeInterval(15 * 60)), customer)
                case (.depositAtNight, "banking.check.deposited"):
                    XCTAssertTrue(quiet && Self.isQuiet(record.time.addingTimeInterval(3_600), zone), customer)
                case (.cdOfferAtNight, "banking.transaction.posted"), (.caseResolvedAtNight, "crm.case.resolved"):
                    XCTAssertTrue(quiet && Self.quietEnd(after: record.time, zone) < timeline.liveEnd, "\(customer) \(role)")
                default:
                    break
                }
            }
            for (customer, due) in try Self.reminders(set) {
                let zone = try XCTUnwrap(zones[customer])
                switch roles[customer] {
                case .checkinReminder, .checkinRescheduled:
                    XCTAssertTrue(due >= timeline.liveStart && due < timeline.liveEnd, customer)
                    XCTAssertFalse(timeline.rulesOutage.contains(due) || Self.isQuiet(due, zone), customer)
                case .checkinReminderAfterOutage:
                    XCTAssertTrue(timeline.rulesOutage.contains(due), customer)
                    XCTAssertLessThan(timeline.rulesOutage.upperBound, due.addingTimeInterval(23 * 3_600), "check-in still open after the restart")
                case .checkinReminderAtNight:
                    XCTAssertTrue(Self.isQuiet(due, zone) && Self.quietEnd(after: due, zone) < timeline.liveEnd, customer)
                case .erasure:
                    XCTAssertGreaterThan(due, timeline.liveStart, "the erasure comes first and drops the reminder")
                default:
                    XCTAssertTrue(due >= timeline.liveEnd, "\(customer): no other reminder falls due in the demo")
                }
            }
        }
    }

    func testDeparturesAreWrittenInTheAirportsOffset() throws {
        let offsets = [
            "JFK": "-05:00", "LAX": "-08:00", "LHR": "+00:00", "BER": "+01:00", "CDG": "+01:00", "PVG": "+08:00", "NRT": "+09:00",
            "SIN": "+08:00", "SYD": "+11:00",
        ]
        var seen = Set<String>()
        for record in Self.full.records where record.type == "travel.booking.confirmed" {
            guard case let .travelBookingConfirmed(booking) = try EventV1(bytes: record.value).data else { return XCTFail(record.id) }
            guard booking.departure.date < DemoTimeline.standard.liveEnd.addingTimeInterval(2 * 86_400) else { continue }
            XCTAssertTrue(booking.departure.text.hasSuffix(try XCTUnwrap(offsets[booking.origin])), "\(record.id): \(booking.departure.text)")
            seen.insert(String(booking.departure.text.suffix(6)))
        }
        XCTAssertGreaterThanOrEqual(seen.count, 4, "departures in several offsets: \(seen)")
    }

    // MARK: Helpers

    /// The default pack's parameters the scenarios' conditions compare with.
    struct Thresholds {
        var surplus: Decimal
        var sentiment: Double
        var rating: Int
        var churn: Double
        var sigma: Double
        var researchDays: Int

        init() throws {
            let params = try XCTUnwrap(try DemoDataSetTests.defaultPack()["params"] as? [String: Any])
            surplus = Decimal(try XCTUnwrap(params["cd_surplus_threshold"] as? Int))
            sentiment = try XCTUnwrap(params["negative_sentiment"] as? Double)
            rating = try XCTUnwrap(params["negative_rating"] as? Int)
            churn = try XCTUnwrap(params["churn_risk_threshold"] as? Double)
            sigma = Double(try XCTUnwrap(params["behaviour_sigma"] as? Int))
            researchDays = try XCTUnwrap(params["mortgage_research_days"] as? Int)
        }
    }

    /// Enriching a data set takes seconds, so each is enriched once for all tests.
    private static let enrichedSets: [Int: Result<[String: [Observation]], any Error>] = Dictionary(
        uniqueKeysWithValues: both.map { set in (set.customerCount, Result { try enriched(set) }) })

    static func observations(_ set: DemoDataSet) throws -> [String: [Observation]] {
        try XCTUnwrap(enrichedSets[set.customerCount]).get()
    }

    static func defaultPack() throws -> [String: Any] {
        let text = try String(contentsOf: SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml"), encoding: .utf8)
        return try XCTUnwrap(try Yams.load(yaml: text) as? [String: Any])
    }

    struct IngestOutcome {
        var verdict: String
        var message: String?
        var output: OutputRecord?
    }

    /// Every record through the ingest stage as deployed, its clock at the record's publication
    /// time (as the demo's simulated clock is when it publishes it).
    static func ingested(_ set: DemoDataSet) throws -> [(UpstreamRecord, IngestOutcome)] {
        let url = SchemaChecker.repositoryRoot.appendingPathComponent("deploy/ingest.example.yaml")
        let configuration = try IngestConfiguration(yaml: String(contentsOf: url, encoding: .utf8))
        return set.records.enumerated().map { offset, record in
            let now = Int64(record.time.timeIntervalSince1970 * 1_000)
            let stage = IngestStage(configuration: configuration, clock: { now })
            let input = InputRecord(
                position: RecordPosition(topic: record.topic, partition: 0, offset: Int64(offset)), key: record.key, value: record.value,
                timestampMs: now)
            let reading = stage.read(input)
            do throws(StageFailure) {
                let effect = try stage.process(input, reading: reading, inputID: stage.inputID(of: input, reading: reading), state: NoState())
                return (record, IngestOutcome(verdict: effect.verdict.rawValue, message: effect.reason, output: effect.outputs.first))
            } catch {
                return (record, IngestOutcome(verdict: error.code, message: error.message))
            }
        }
    }

    /// What enrich knows about the customer right after one of their events.
    struct Observation: Sendable {
        var customer: String
        var time: Date
        var type: EventType
        var context: CustomerContextV1
        var checking = false
        var feedback: EngagementFeedbackReceivedV1?
        var openHouse = false

        var behaviourRuleListens: Bool {
            [.bankingTransactionPosted, .engagementFeedbackReceived, .engagementWebResearched, .engagementGeoEntered].contains(type)
        }

        var churnRuleListens: Bool { [.engagementFeedbackReceived, .crmCaseOpened, .bankingTransactionPosted].contains(type) }

        func departs(_ sigma: Double) -> Bool {
            abs(context.spendZScore ?? 0) > sigma || abs(context.activityZScore ?? 0) > sigma
        }
    }

    /// Every accepted event through the enrich stage with the deployed settings and the bundled
    /// lexicons, in the order the demo publishes them, by customer.
    static func enriched(_ set: DemoDataSet) throws -> [String: [Observation]] {
        let url = SchemaChecker.repositoryRoot.appendingPathComponent("deploy/enrich.example.yaml")
        let configuration = try EnrichConfiguration(yaml: String(contentsOf: url, encoding: .utf8))
        let stage = EnrichStage(features: configuration.features, sentiment: SentimentScorer(lexicons: try SentimentLexicon.bundled()))
        var state = ProfileState()
        var observations: [String: [Observation]] = [:]
        for (offset, (_, outcome)) in try ingested(set).enumerated() {
            guard let output = outcome.output else { continue }
            let position = RecordPosition(topic: EventV1.topic, partition: 0, offset: Int64(offset))
            let input = InputRecord(position: position, key: output.key, value: output.value)
            let reading = stage.read(input)
            guard case let .event(event, _) = reading else {
                XCTFail("enrich could not read \(output.id)")
                continue
            }
            let effect = try stage.process(input, reading: reading, inputID: output.id, state: state)
            let context: CustomerContextV1
            if case let .put(profile)? = effect.changes.first {
                state.apply(.put(profile))
                context = profile.context(stage.features)
            } else {
                context = try JSONValueDecoder().decode(EnrichedEventV1.self, from: effect.outputs[0].value).context
            }
            var observation = Observation(customer: event.subject, time: event.time.date, type: event.type, context: context)
            switch event.data {
            case let .bankingTransactionPosted(posting): observation.checking = posting.accountType == .checking
            case let .engagementFeedbackReceived(feedback): observation.feedback = feedback
            case let .engagementGeoEntered(place): observation.openHouse = place.placeType == .openHouse
            default: break
            }
            observations[event.subject, default: []].append(observation)
        }
        return observations
    }

    static func timeZones(_ set: DemoDataSet) throws -> [String: TimeZone] {
        var zones: [String: TimeZone] = [:]
        for record in set.records where record.type == "customer.profile.updated" {
            guard case let .customerProfileUpdated(profile) = try EventV1(bytes: record.value).data, let zone = profile.timeZone else { continue }
            zones[record.customer!] = TimeZone(identifier: zone)
        }
        return zones
    }

    /// Due times of the check-in reminders: departure − 24 h of each booking's last departure,
    /// for bookings not cancelled.
    static func reminders(_ set: DemoDataSet) throws -> [(String, Date)] {
        var departures: [String: (customer: String, departure: Date)] = [:]
        for record in set.records where record.type?.hasPrefix("travel.") == true {
            switch try EventV1(bytes: record.value).data {
            case let .travelBookingConfirmed(booking): departures[booking.bookingId] = (record.customer!, booking.departure.date)
            case let .travelFlightRescheduled(change): departures[change.bookingId]?.departure = change.departure.date
            case let .travelBookingCancelled(cancellation): departures[cancellation.bookingId] = nil
            default: break
            }
        }
        return departures.values.map { ($0.customer, $0.departure.addingTimeInterval(-86_400)) }
    }

    /// Inside 22:00–07:00 in the zone: the quiet hours of every cast member.
    static func isQuiet(_ date: Date, _ zone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let hour = calendar.component(.hour, from: date)
        return hour >= 22 || hour < 7
    }

    static func quietEnd(after date: Date, _ zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.nextDate(after: date, matching: DateComponents(hour: 7, minute: 0, second: 0), matchingPolicy: .nextTime)!
    }
}
