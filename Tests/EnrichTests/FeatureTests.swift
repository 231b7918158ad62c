import Enrich
import Foundation
import LiaisonSchema
import XCTest

/// Each derived feature against numbers worked out by hand in the comments.
final class FeatureTests: XCTestCase {
    private let settings = FeatureSettings()

    private func profile(_ events: [EventV1], sentiment: (EventV1) -> Double? = { _ in nil }) -> CustomerProfile {
        var profile = CustomerProfile(customerId: "c-1")
        for event in events { profile.apply(event, sentiment: sentiment(event)) }
        return profile
    }

    func testCashNeedIsTheLargest30DayCheckingOutflowInTheLast90DaysPlusTheBuffer() {
        var factory = EventFactory()
        let events = [
            factory.debit("7000.00", day: -95),  // before the 90 days
            factory.debit("500.00", day: -80),
            factory.debit("1000.00", day: -50),
            factory.debit("300.00", day: -45),
            factory.debit("9999.00", day: -20, account: "savings"),  // not checking
            factory.debit("200.00", day: -10, balance: "5000.00"),
            factory.event(.engagementWebResearched, day: 0, #"{"topic":"cd"}"#),
        ]
        // Windows (d-30, d] for d in [-60, 0]: d=-60 → 500; d=-50 → 1000 (day -80 has left);
        // d=-45 → 1000 + 300 = 1300; d=-10 → 200. Largest 1300, plus 10 % → 1430.00.
        let context = profile(events).context(settings)
        XCTAssertEqual(context.cashNeed, Decimal(string: "1430.00"))
        XCTAssertEqual(context.checkingBalance, Decimal(string: "5000.00"))
        XCTAssertEqual(context.surplus, Decimal(string: "3570.00"))
        XCTAssertEqual(context.productsHeld, ["checking", "savings"])
    }

    func testNoCheckingDebitsMeansNoCashNeedAndNoSurplus() {
        var factory = EventFactory()
        let context = profile([factory.debit("50.00", day: 0, account: "savings")]).context(settings)
        XCTAssertNil(context.cashNeed)
        XCTAssertNil(context.surplus)
        XCTAssertNil(context.checkingBalance)
    }

    func testSpendAndActivityZScoresCompareTheLast14DaysWithThe90DaysBefore() throws {
        var factory = EventFactory()
        var events = [factory.event(.engagementGeoEntered, day: -120, #"{"placeType":"branch","placeId":"b-1","lat":48.1,"lon":11.5}"#)]
        for day in [-100, -90, -80, -70, -60, -50, -40, -30, -20, -15] { events.append(factory.debit("90.00", day: day)) }
        events.append(factory.debit("700.00", day: -5))
        events.append(factory.debit("700.00", day: 0))
        let context = profile(events).context(settings)
        // Spend: baseline days -103…-14 (90 days), ten of them 90.00: μ = 10,
        // σ² = (10·80² + 80·10²) / 90 = 800; recent mean 1400 / 14 = 100; z = 90 / √800 = 3.18198…
        XCTAssertEqual(try XCTUnwrap(context.spendZScore), 3.182, accuracy: 1e-9)
        // Activity: one event on ten baseline days: μ = 1/9, σ² = (10·(8/9)² + 80·(1/9)²) / 90 = 0.098765…;
        // recent mean 2/14; z = (2/14 − 1/9) / 0.3142697 = 0.10101…
        XCTAssertEqual(try XCTUnwrap(context.activityZScore), 0.101, accuracy: 1e-9)
    }

    func testANewCustomerHasNoBaselineYet() {
        var factory = EventFactory()
        let events = (0..<20).map { factory.debit("10.00", day: -$0) }
        let context = profile(events).context(settings)
        XCTAssertNil(context.spendZScore, "six baseline days are fewer than the 28 required")
        XCTAssertNil(context.activityZScore)
    }

    func testChurnRiskWeighsSentimentTrendOldOpenCasesAndFallingActivity() throws {
        var factory = EventFactory()
        let events = [
            factory.event(.engagementFeedbackReceived, day: -60, #"{"channel":"survey","score":0.25}"#),
            factory.event(.crmCaseOpened, day: -15, #"{"caseId":"case-1","topic":"fees"}"#),
            factory.event(.crmCaseOpened, day: -4, #"{"caseId":"case-2"}"#),
            factory.event(.engagementFeedbackReceived, day: -3, #"{"channel":"chat","score":-0.25}"#),
            factory.event(.engagementGeoEntered, day: 0, #"{"placeType":"branch","placeId":"b-1","lat":48.1,"lon":11.5}"#),
        ]
        let context = profile(events) { event in
            guard case let .engagementFeedbackReceived(feedback) = event.data else { return nil }
            return feedback.score
        }.context(settings)
        // Sentiment: recent r = −0.25, prior p = 0.25: S = 0.25 + (0.25 + 0.25) / 2 = 0.5.
        // Cases: the oldest open one is 15 days old (≥ 7): C = 15 / 30 = 0.5.
        // Activity rose (the baseline has one event in 47 days), so A = 0.
        // Risk = 0.4 · 0.5 + 0.35 · 0.5 + 0.25 · 0 = 0.375.
        XCTAssertEqual(try XCTUnwrap(context.churnRisk), 0.375, accuracy: 1e-9)
        XCTAssertEqual(context.sentiment, -0.25)
        XCTAssertEqual(context.openCases, 2)
        XCTAssertEqual(context.oldestOpenCaseDays, 15)
    }

    func testChurnRiskIgnoresYoungCasesAndSaturatesAtOne() {
        var young = FeatureSettings()
        young.churnWeights = .init(sentiment: 0, cases: 1, activity: 0)
        XCTAssertEqual(Features.churnRisk(sentimentRecent: nil, sentimentPrior: nil, oldestOpenCaseDays: 6, activityZ: nil, settings: young), 0)
        XCTAssertEqual(Features.churnRisk(sentimentRecent: nil, sentimentPrior: nil, oldestOpenCaseDays: 90, activityZ: nil, settings: young), 1)
        // Activity alone: z = −1.5 → A = 0.5, weighted 0.25 → 0.125.
        XCTAssertEqual(
            Features.churnRisk(sentimentRecent: nil, sentimentPrior: nil, oldestOpenCaseDays: nil, activityZ: -1.5, settings: settings),
            0.125, accuracy: 1e-12)
        // Sentiment alone: r = −1, p = 1: S = 1 + 1 = 2, clamped to 1, weighted 0.4.
        XCTAssertEqual(
            Features.churnRisk(sentimentRecent: -1, sentimentPrior: 1, oldestOpenCaseDays: nil, activityZ: nil, settings: settings),
            0.4, accuracy: 1e-12)
    }

    func testSegmentIsTierAndGenerationFromBirthYear() {
        var factory = EventFactory()
        let context = profile([factory.event(.customerProfileUpdated, day: 0, #"{"tier":"gold","birthYear":1990}"#)]).context(settings)
        XCTAssertEqual(context.segment, SegmentV1(tier: .gold, generation: "millennial"))
        let bands = [1930: "silent", 1950: "boomer", 1970: "gen-x", 1996: "millennial", 1997: "gen-z", 2015: "gen-alpha"]
        for (year, band) in bands { XCTAssertEqual(Features.generation(birthYear: year), band, "\(year)") }
    }

    func testDailySeriesStayBoundedHoweverLongTheCustomerLives() throws {
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-1")
        for day in -399...0 { profile.apply(factory.debit("1.00", day: day), sentiment: nil) }
        XCTAssertEqual(profile.activity.days.count, DailyActivity.retainedDays)
        XCTAssertEqual(profile.activity.folded.days, 280)
        XCTAssertEqual(profile.activity.folded.events, 280)
        XCTAssertEqual(profile.activity.folded.spend, 280, accuracy: 1e-9)
        XCTAssertEqual(profile.activity.firstDay, EventFactory.today - 399)
        let stored = profile.jsonBytes()
        XCTAssertLessThan(stored.count, 6_000, "a profile stays small")
        XCTAssertEqual(try CustomerProfile(json: stored), profile)
    }
}
