import Enrich
import Foundation
import LiaisonSchema
import XCTest

/// The stored form of a profile: every piece reads back exactly, and a damaged row says where.
final class ProfileCodingTests: XCTestCase {
    func testEveryPartOfAProfileReadsBackExactly() throws {
        var factory = EventFactory()
        var profile = CustomerProfile(customerId: "c-\"1\"")
        let events = [
            factory.event(.customerProfileUpdated, day: -30, """
                {"name":"Zoë Ünal","birthYear":1988,"locale":"de-DE","timeZone":"Europe/Berlin","tier":"platinum",
                 "contact":{"email":"zoe@example.com","phone":"+4915112345678","pushToken":"tok-1","device":"tablet"},
                 "consent":{"marketing":false,"service":true},"quietHours":{"start":"22:00","end":"07:00"}}
                """),
            factory.debit("1234.567891", day: -20, balance: "98765.432109"),
            factory.event(.bankingProductOpened, day: -19, #"{"accountId":"cd-1","productType":"cd","termDays":30}"#),
            factory.event(.crmCaseOpened, day: -18, #"{"caseId":"k-1","topic":"fees"}"#),
            factory.event(.crmCaseResolved, day: -17, #"{"caseId":"k-2"}"#),
            factory.event(.travelBookingConfirmed, day: -16, """
                {"bookingId":"b-1","flight":"NH10","origin":"HND","destination":"FRA","departure":"2026-07-03T07:05:00+09:00"}
                """),
            factory.event(.travelBookingCancelled, day: -15, #"{"bookingId":"b-2"}"#),
            factory.event(.engagementWebResearched, day: -14, #"{"topic":"mortgage"}"#),
            factory.event(.engagementFeedbackReceived, day: -13, #"{"channel":"chat","score":-0.123456789}"#),
        ]
        for event in events {
            guard case let .engagementFeedbackReceived(feedback) = event.data else {
                profile.apply(event, sentiment: nil)
                continue
            }
            profile.apply(event, sentiment: feedback.score)
        }
        var receipt = DeliveryReceiptV1(id: "d", actionId: "a", customerId: profile.customerId, status: .sent, at: EventFactory.time(day: -1), attempts: 1)
        receipt.channel = "push"
        receipt.template = "cd-offer"
        profile.apply(receipt)

        let stored = profile.jsonBytes()
        XCTAssertEqual(try CustomerProfile(json: stored), profile)
        XCTAssertEqual(try CustomerProfile(json: stored).jsonBytes(), stored, "the same profile is always the same bytes")

        var erased = profile
        erased.apply(factory.event(.customerErasureRequested, day: 0), sentiment: nil)
        XCTAssertEqual(try CustomerProfile(json: erased.jsonBytes()), erased)
    }

    func testADamagedStoredProfileNamesTheMember() {
        let damaged = Array(#"{"id":"c-1","tier":["diamond",1],"activity":{"folded":[0,0,0],"days":[]}}"#.utf8)
        XCTAssertThrowsError(try CustomerProfile(json: damaged)) { error in
            XCTAssertEqual((error as? ProfileDecodingError)?.member, "tier[0]")
            XCTAssertTrue("\(error)".contains("standard"), "\(error)")
        }
        XCTAssertThrowsError(try CustomerProfile(json: Array(#"{"id":"c-1"}"#.utf8))) { error in
            XCTAssertEqual("\(error)", "activity: is missing")
        }
    }
}
