import Enrich
import Foundation
import LiaisonSchema
import LiaisonStage
import SchemaChecking
import XCTest

/// The stage as the runtime calls it: a record in, an enriched event and a profile change out.
final class EnrichStageTests: XCTestCase {
    private var stage: EnrichStage!

    override func setUpWithError() throws {
        stage = EnrichStage(features: FeatureSettings(), sentiment: SentimentScorer(lexicons: try SentimentLexicon.bundled()))
    }

    private func run(_ record: InputRecord, state: ProfileState = ProfileState()) throws(StageFailure) -> Effect<ProfileState.Change> {
        try stage.process(record, reading: stage.read(record), inputID: "in-\(record.position.offset)", state: state)
    }

    func testAnEventIsPublishedUntouchedWithItsCustomersContext() throws {
        var factory = EventFactory()
        let event = factory.event(.customerProfileUpdated, day: 0, #"{"tier":"platinum","birthYear":2001,"unknownField":{"kept":true}}"#)
        let record = factory.record(event, offset: 7)
        let effect = try run(record)
        XCTAssertEqual(effect.verdict, .accepted)
        let output = try XCTUnwrap(effect.outputs.first)
        XCTAssertEqual(output.id, "enrich:in-7")
        XCTAssertEqual(output.topic, EnrichedEventV1.topic)
        XCTAssertEqual(output.key, Array("c-1".utf8))
        let enriched = try JSONValueDecoder().decode(EnrichedEventV1.self, from: output.value)
        XCTAssertEqual(enriched.event, event)
        XCTAssertEqual(enriched.context.segment, SegmentV1(tier: .platinum, generation: "gen-z"))
        XCTAssertEqual(enriched.context.asOf, event.time)
        let embedded = String(decoding: output.value, as: UTF8.self)
        XCTAssertTrue(embedded.hasPrefix(#"{"event":"# + String(decoding: record.value, as: UTF8.self)), "the event's bytes pass through")
        guard case let .put(profile) = try XCTUnwrap(effect.changes.first) else { return XCTFail("expected a profile") }
        XCTAssertEqual(profile.tier?.value, .platinum)
    }

    func testTheStoredProfileIsWhatTheEventIsEnrichedWith() throws {
        var factory = EventFactory()
        var known = CustomerProfile(customerId: "c-1")
        known.apply(factory.debit("100.00", day: -1, balance: "2500.00"), sentiment: nil)
        let effect = try run(factory.record(factory.event(.engagementWebResearched, day: 0, #"{"topic":"cd"}"#)), state: ProfileState(profiles: ["c-1": known]))
        let enriched = try JSONValueDecoder().decode(EnrichedEventV1.self, from: effect.outputs[0].value)
        XCTAssertEqual(enriched.context.checkingBalance, Decimal(string: "2500.00"))
        XCTAssertEqual(enriched.context.cashNeed, Decimal(string: "110.00"))
        XCTAssertEqual(enriched.context.surplus, Decimal(string: "2390.00"))
    }

    func testARatingWinsOverTheTextAndTheTextIsScoredWithoutOne() throws {
        var factory = EventFactory()
        let rated = factory.event(.engagementFeedbackReceived, day: 0, #"{"channel":"review","rating":1,"text":"great, excellent, wonderful"}"#)
        guard case let .event(_, ratedScore) = stage.read(factory.record(rated)) else { return XCTFail("not read as an event") }
        XCTAssertEqual(ratedScore, -1)
        let scored = factory.event(.engagementFeedbackReceived, day: 0, #"{"channel":"chat","score":0.3,"text":"terrible"}"#)
        guard case let .event(_, upstreamScore) = stage.read(factory.record(scored)) else { return XCTFail("not read as an event") }
        XCTAssertEqual(upstreamScore, 0.3)
        let text = factory.event(.engagementFeedbackReceived, day: 0, #"{"channel":"chat","text":"Der Service war sehr schlecht","language":"de"}"#)
        guard case let .event(_, textScore) = stage.read(factory.record(text)) else { return XCTFail("not read as an event") }
        XCTAssertLessThan(try XCTUnwrap(textScore), 0)
    }

    func testARecordKeyedByAnotherCustomerIsRejectedBecauseItsProfileLivesElsewhere() {
        var factory = EventFactory()
        let record = factory.record(factory.event(.engagementWebResearched, day: 0, #"{"topic":"cd"}"#), key: "c-2")
        XCTAssertThrowsError(try run(record)) { error in
            XCTAssertEqual((error as? StageFailure)?.code, "key_mismatch")
        }
    }

    func testWhatIsNotAnEventOrAReceiptIsRejectedWithTheReason() {
        let garbage = InputRecord(position: RecordPosition(topic: EventV1.topic, partition: 0, offset: 1), key: Array("c-1".utf8), value: Array("{".utf8))
        XCTAssertThrowsError(try run(garbage)) { error in
            XCTAssertEqual((error as? StageFailure)?.code, "invalid_json")
        }
        let receipt = InputRecord(
            position: RecordPosition(topic: DeliveryReceiptV1.topic, partition: 0, offset: 1), key: Array("c-1".utf8),
            value: Array(#"{"id":"d-1","customerId":"c-1"}"#.utf8))
        XCTAssertThrowsError(try run(receipt)) { error in
            XCTAssertEqual((error as? StageFailure)?.code, "invalid_receipt")
            XCTAssertTrue((error as? StageFailure)?.message.contains("actionId") ?? false, "\(error)")
        }
    }

    func testReceiptsUpdateLastContactAndAnErasedCustomersAreIgnored() throws {
        var receipt = DeliveryReceiptV1(id: "d-1", actionId: "a-1", customerId: "c-1", status: .sent, at: EventFactory.time(day: 0), attempts: 1)
        receipt.channel = "push"
        let record = InputRecord(
            position: RecordPosition(topic: DeliveryReceiptV1.topic, partition: 0, offset: 3), key: Array("c-1".utf8),
            value: try JSONValueEncoder().encodeBytes(receipt))
        let effect = try run(record)
        XCTAssertEqual(effect.verdict, .accepted)
        XCTAssertTrue(effect.outputs.isEmpty)
        guard case let .put(profile) = try XCTUnwrap(effect.changes.first) else { return XCTFail("expected a profile") }
        XCTAssertEqual(profile.lastContactByChannel["push"], EventFactory.time(day: 0).epochMilliseconds)

        var erased = CustomerProfile(customerId: "c-1")
        erased.erasedAtMs = 1
        let ignored = try run(record, state: ProfileState(profiles: ["c-1": erased]))
        XCTAssertEqual(ignored.verdict, .ignored)
        XCTAssertTrue(ignored.changes.isEmpty)
    }

    func testEventsOfAnErasedCustomerSayErasedAndChangeNothing() throws {
        var factory = EventFactory()
        var erased = CustomerProfile(customerId: "c-1")
        erased.erasedAtMs = 1
        let effect = try run(
            factory.record(factory.event(.customerProfileUpdated, day: 0, #"{"contact":{"email":"back@example.com"}}"#)),
            state: ProfileState(profiles: ["c-1": erased]))
        XCTAssertTrue(effect.changes.isEmpty)
        let enriched = try JSONValueDecoder().decode(EnrichedEventV1.self, from: effect.outputs[0].value)
        XCTAssertEqual(enriched.context, CustomerContextV1(customerId: "c-1", erased: true))
    }
}

/// The snapshot's hand-written JSON must say exactly what the generic encoder would.
final class ContextWritingTests: XCTestCase {
    func testAFullSnapshotWrittenByHandReadsBackEqualAndMatchesTheEncoder() throws {
        var context = CustomerContextV1(customerId: "c-\"1\"")
        context.asOf = Timestamp("2026-06-30T12:00:00.000Z")
        var recipient = RecipientV1()
        recipient.name = "Zoë Ünal"
        recipient.locale = "de-DE"
        recipient.timeZone = "Europe/Berlin"
        recipient.email = "zoe@example.com"
        recipient.phone = "+4915112345678"
        recipient.pushToken = "tok"
        recipient.device = .tablet
        recipient.marketingConsent = false
        recipient.serviceConsent = true
        recipient.quietHours = try JSONValueDecoder().decode(
            CustomerProfileUpdatedV1.QuietHours.self, from: Array(#"{"start":"22:00","end":"07:00","note":"x"}"#.utf8))
        context.recipient = recipient
        context.segment = SegmentV1(tier: .platinum, generation: "gen-x")
        context.productsHeld = ["cd", "checking"]
        context.checkingBalance = Decimal(string: "1234.56")
        context.cashNeed = Decimal(string: "99.9")
        context.surplus = 0
        context.sentiment = -0.3333
        context.churnRisk = 0.1
        context.spendZScore = 3.182
        context.activityZScore = -0.0001
        context.openCases = 2
        context.oldestOpenCaseDays = 15
        var trip = TripV1(bookingId: "b-1", departure: Timestamp("2026-07-01T07:05:00+09:00")!)
        trip.flight = "NH10"
        context.upcomingTrips = [trip]
        context.recentResearch = [ResearchV1(topic: "mortgage", at: Timestamp("2026-06-29T10:00:00Z")!)]
        context.lastContactByChannel = ["push": Timestamp("2026-06-28T10:00:00Z")!, "email": Timestamp("2026-06-27T10:00:00Z")!]
        context.lastContactByTemplate = ["welcome": Timestamp("2026-06-27T10:00:00Z")!]
        context.extra["futureField"] = .bool(true)

        let written = context.jsonBytes()
        XCTAssertEqual(try JSONValueDecoder().decode(CustomerContextV1.self, from: written), context)
        let encoded = try JSONValueEncoder().encodeBytes(context)
        XCTAssertEqual(try JSONParser().parse(written), try JSONParser().parse(encoded).sortingDictionaryMembers(of: ["lastContactByChannel"]))
    }
}

extension JSONValue {
    /// The encoder writes a dictionary in hash order; the hand-written JSON sorts it.
    fileprivate func sortingDictionaryMembers(of names: [String]) -> JSONValue {
        guard case var .object(object) = self else { return self }
        for name in names {
            if case let .object(dictionary)? = object[name] {
                object[name] = .object(JSONObject(dictionary.sorted { $0.key < $1.key }))
            }
        }
        return .object(object)
    }
}

/// What enrich publishes must pass the enriched topic's JSON Schema, as downstream teams check it.
final class EnrichedSchemaAgreementTests: XCTestCase {
    func testEveryKindOfEnrichedRecordPassesTheSchema() throws {
        let stage = EnrichStage(features: FeatureSettings(), sentiment: SentimentScorer(lexicons: try SentimentLexicon.bundled()))
        var factory = EventFactory()
        var events = [
            factory.event(.customerProfileUpdated, day: -130, """
                {"name":"Ana","birthYear":2014,"locale":"pt-BR","timeZone":"America/Sao_Paulo","tier":"standard",
                 "contact":{"email":"ana@example.com","phone":"+5511912345678","pushToken":"t","device":"phone"},
                 "consent":{"marketing":true,"service":true},"quietHours":{"start":"21:30","end":"08:00"}}
                """),
            factory.event(.travelBookingConfirmed, day: -2, """
                {"bookingId":"b-1","flight":"LA8084","origin":"GRU","destination":"LHR","departure":"\(EventFactory.time(day: 3).text)"}
                """),
            factory.event(.crmCaseOpened, day: -40, #"{"caseId":"k-1"}"#),
            factory.event(.engagementFeedbackReceived, day: -35, #"{"channel":"review","rating":5}"#),
            factory.event(.engagementFeedbackReceived, day: -1, #"{"channel":"chat","text":"awful, slow and rude"}"#),
            factory.event(.engagementWebResearched, day: 0, #"{"topic":"cd"}"#),
        ]
        for day in stride(from: -120, through: 0, by: 3) { events.append(factory.debit("\(40 + (-day % 7)).25", day: day)) }
        events.append(factory.event(.customerErasureRequested, day: 1))
        events.append(factory.event(.engagementGeoEntered, day: 2, #"{"placeType":"airport","placeId":"GRU","lat":-23.4,"lon":-46.5}"#))

        var state = ProfileState()
        var records: [(name: String, bytes: [UInt8], schema: String)] = []
        var sawFullContext = false
        for (index, event) in events.enumerated() {
            let record = factory.record(event, offset: Int64(index))
            let effect = try stage.process(record, reading: stage.read(record), inputID: "in-\(index)", state: state)
            for change in effect.changes { state.apply(change) }
            let output = try XCTUnwrap(effect.outputs.first)
            let context = try JSONValueDecoder().decode(EnrichedEventV1.self, from: output.value).context
            sawFullContext = sawFullContext || (context.cashNeed != nil && context.spendZScore != nil && context.upcomingTrips != nil)
            records.append(("\(index)-\(event.type.rawValue)", output.value, "liaison.enriched.v1"))
        }
        XCTAssertTrue(sawFullContext, "the run must produce a context with the derived features")
        let verdicts = try SchemaChecker.check(records)
        let invalid = verdicts.filter { !$0.value.valid }.map { "\($0.key): \($0.value.message)" }.sorted()
        XCTAssertEqual(verdicts.count, records.count)
        XCTAssertEqual(invalid, [], invalid.joined(separator: "\n"))
    }
}
