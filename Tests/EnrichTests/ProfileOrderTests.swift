import Enrich
import Foundation
import LiaisonSchema
import XCTest

/// Events arrive late and out of order; the profile ends up as if they had come in time.
final class ProfileOrderTests: XCTestCase {
    private let settings = FeatureSettings()

    func testAnOlderProfileUpdateDoesNotOverwriteANewerFieldButFillsTheOthers() {
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-1")
        profile.apply(factory.event(.customerProfileUpdated, day: -1, #"{"contact":{"email":"new@example.com"}}"#), sentiment: nil)
        profile.apply(
            factory.event(.customerProfileUpdated, day: -5, #"{"contact":{"email":"old@example.com","phone":"+4915112345678"}}"#),
            sentiment: nil)
        let recipient = profile.context(settings).recipient
        XCTAssertEqual(recipient?.email, "new@example.com")
        XCTAssertEqual(recipient?.phone, "+4915112345678")
    }

    func testALateTransactionLandsOnItsDayWithoutRollingTheBalanceBack() {
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-1")
        profile.apply(factory.debit("100.00", day: 0, balance: "800.00"), sentiment: nil)
        profile.apply(factory.debit("50.00", day: -3, balance: "900.00"), sentiment: nil)
        XCTAssertEqual(profile.context(settings).checkingBalance, Decimal(string: "800.00"))
        XCTAssertEqual(profile.activity.days.map(\.day), [EventFactory.today - 3, EventFactory.today])
        XCTAssertEqual(profile.activity.days.map(\.checkingDebitMicros), [50_000_000, 100_000_000])
        // Both debits fall in the window ending today: (100 + 50) · 1.1.
        XCTAssertEqual(profile.context(settings).cashNeed, Decimal(string: "165.00"))
    }

    func testTheSameEventsInAnyOrderGiveTheSameProfile() {
        var factory = EventFactory()
        let events = [
            factory.event(.customerProfileUpdated, day: -9, #"{"tier":"standard","locale":"de-DE"}"#),
            factory.debit("20.00", day: -8, balance: "980.00"),
            factory.event(.travelBookingConfirmed, day: -7, """
                {"bookingId":"b-1","flight":"LH400","origin":"FRA","destination":"JFK","departure":"\(EventFactory.time(day: 10).text)"}
                """),
            factory.event(.travelFlightRescheduled, day: -6, #"{"bookingId":"b-1","departure":"\#(EventFactory.time(day: 11).text)"}"#),
            factory.event(.crmCaseOpened, day: -5, #"{"caseId":"k-1"}"#),
            factory.event(.crmCaseResolved, day: -4, #"{"caseId":"k-1"}"#),
            factory.event(.customerProfileUpdated, day: -3, #"{"tier":"gold"}"#),
            factory.debit("30.00", day: -2, balance: "950.00"),
            factory.event(.engagementWebResearched, day: -1, #"{"topic":"mortgage"}"#),
        ]
        var inOrder = CustomerProfile(customerId: "c-1")
        for event in events { inOrder.apply(event, sentiment: nil) }
        var reversed = CustomerProfile(customerId: "c-1")
        for event in events.reversed() { reversed.apply(event, sentiment: nil) }
        XCTAssertEqual(reversed.context(settings), inOrder.context(settings))
        let context = inOrder.context(settings)
        XCTAssertEqual(context.segment?.tier, .gold)
        XCTAssertEqual(context.checkingBalance, Decimal(string: "950.00"))
        XCTAssertEqual(context.upcomingTrips?.map(\.departure), [EventFactory.time(day: 11)])
        XCTAssertEqual(context.upcomingTrips?.first?.flight, "LH400")
        XCTAssertEqual(context.openCases, 0, "the case was resolved, whatever order the two arrived in")
        XCTAssertEqual(context.recentResearch?.map(\.topic), ["mortgage"])
    }

    func testACancelledTripStaysCancelledWhenItsConfirmationArrivesLate() {
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-1")
        profile.apply(factory.event(.travelBookingCancelled, day: -1, #"{"bookingId":"b-9"}"#), sentiment: nil)
        profile.apply(factory.event(.travelBookingConfirmed, day: -3, """
            {"bookingId":"b-9","flight":"BA1","origin":"LHR","destination":"FRA","departure":"\(EventFactory.time(day: 5).text)"}
            """), sentiment: nil)
        XCTAssertNil(profile.context(settings).upcomingTrips)
    }

    func testLastContactComesFromSentDeliveryReceipts() throws {
        var profile = CustomerProfile(customerId: "c-1")
        var factory = EventFactory()
        profile.apply(factory.event(.engagementWebResearched, day: 0, #"{"topic":"cd"}"#), sentiment: nil)
        var sent = DeliveryReceiptV1(id: "d-1", actionId: "a-1", customerId: "c-1", status: .sent, at: EventFactory.time(day: -2), attempts: 1)
        sent.channel = "email"
        sent.template = "cd-offer"
        profile.apply(sent)
        var failed = DeliveryReceiptV1(id: "d-2", actionId: "a-2", customerId: "c-1", status: .failed, at: EventFactory.time(day: -1), attempts: 3)
        failed.channel = "sms"
        profile.apply(failed)
        var older = sent
        older.at = EventFactory.time(day: -9)
        profile.apply(older)
        let context = profile.context(settings)
        XCTAssertEqual(context.lastContactByChannel, ["email": EventFactory.time(day: -2)])
        XCTAssertEqual(context.lastContactByTemplate, ["cd-offer": EventFactory.time(day: -2)])
    }
}
