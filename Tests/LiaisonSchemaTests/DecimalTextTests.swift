import Foundation
import LiaisonSchema
import XCTest

/// `plainText` must say exactly what `description` says, only faster, and read back to the same value.
final class DecimalTextTests: XCTestCase {
    func testPlainTextMatchesDescriptionForEveryShapeOfValue() throws {
        var generator = SplitMix64(seed: 20_261_123)
        var literals = [
            "0", "-0", "1", "-1", "0.000001", "-0.000001", "100", "1e15", "1.50", "0.10", "18446744073709551615",
            "18446744073709551616", "123456789012345678901234", "1e-20", "98765.432109",
        ]
        for _ in 0..<2_000 {
            let digits = String(UInt64.random(in: 0...999_999_999_999, using: &generator))
            let places = Int.random(in: 0...8, using: &generator)
            let sign = Bool.random(using: &generator) ? "-" : ""
            literals.append(places == 0 ? sign + digits : "\(sign)\(digits)e-\(places)")
        }
        for literal in literals {
            let value = try XCTUnwrap(Decimal(string: literal, locale: nil), literal)
            XCTAssertEqual(value.plainText, value.description, literal)
            guard case let .number(number) = try JSONParser().parse(Array(value.plainText.utf8)) else {
                return XCTFail("\(value.plainText) is not a JSON number")
            }
            XCTAssertEqual(number.decimalValue, value, literal)
        }
    }
}
