import Foundation
import NotifierChannels
import XCTest

final class RetryAfterTests: XCTestCase {
    func testDeltaSecondsAreTakenAsTheyAre() {
        XCTAssertEqual(RetryAfter.parse("2", now: fixedNow), .seconds(2))
        XCTAssertEqual(RetryAfter.parse(" 120 ", now: fixedNow), .seconds(120))
        XCTAssertEqual(RetryAfter.parse("0", now: fixedNow), .zero)
    }

    func testAllThreeHTTPDateFormsCountFromNow() {
        XCTAssertEqual(RetryAfter.parse("Sun, 06 Nov 1994 08:50:07 GMT", now: fixedNow), .seconds(30))
        XCTAssertEqual(RetryAfter.parse("Sunday, 06-Nov-94 08:51:37 GMT", now: fixedNow), .seconds(120))
        XCTAssertEqual(RetryAfter.parse("Sun Nov  6 08:49:47 1994", now: fixedNow), .seconds(10))
        XCTAssertEqual(RetryAfter.parse("Mon, 07 Nov 1994 08:49:37 GMT", now: fixedNow), .seconds(3_600), "a day, capped")
    }

    func testAPartSecondLeftRoundsUp() {
        XCTAssertEqual(RetryAfter.parse("Sun, 06 Nov 1994 08:49:40 GMT", now: fixedNow.addingTimeInterval(0.25)), .seconds(3))
    }

    func testLeapDaysAndCenturiesLandOnTheRightInstant() {
        let leapDay = Date(timeIntervalSince1970: 1_709_164_800)  // 2024-02-29T00:00:00Z
        XCTAssertEqual(RetryAfter.parse("Thu, 29 Feb 2024 00:00:05 GMT", now: leapDay), .seconds(5))
        let newCentury = Date(timeIntervalSince1970: 951_782_400)  // 2000-02-29T00:00:00Z
        XCTAssertEqual(RetryAfter.parse("Tue, 29 Feb 2000 00:01:00 GMT", now: newCentury), .seconds(60))
        XCTAssertNil(RetryAfter.parse("Mon, 29 Feb 2100 00:00:00 GMT", now: newCentury), "2100 is no leap year")
    }

    func testATwoDigitYearIsTheNearestOneNotFiftyYearsAhead() {
        let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        XCTAssertEqual(RetryAfter.parse("Thursday, 01-Jan-26 00:00:09 GMT", now: now), .seconds(9))
        XCTAssertNil(RetryAfter.parse("Friday, 01-Jan-99 00:00:00 GMT", now: now), "1999, in the past")
    }

    func testDatesAlreadyPastGiveNoAdvice() {
        XCTAssertNil(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: fixedNow))
        XCTAssertNil(RetryAfter.parse("Sat, 05 Nov 1994 08:49:37 GMT", now: fixedNow))
    }

    func testValuesThatAreNeitherFormAreIgnored() {
        for value in [
            "", "-5", "2.5", "1e3", "soon", "5 s", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            XCTAssertNil(RetryAfter.parse(value, now: fixedNow), value)
        }
    }

    func testAbsurdDelaysAreCapped() {
        XCTAssertEqual(RetryAfter.parse("86400", now: fixedNow), RetryAfter.maximum)
        XCTAssertEqual(RetryAfter.parse("99999999999999999999999999", now: fixedNow), RetryAfter.maximum)
        XCTAssertEqual(RetryAfter.maximum, .seconds(3_600))
    }
}
