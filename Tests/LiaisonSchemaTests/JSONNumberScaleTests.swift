import Foundation
import LiaisonSchema
import XCTest

/// A number with a fixed count of decimals keeps them all (money's two), and is a literal the
/// parser reads back to the same value.
final class JSONNumberScaleTests: XCTestCase {
    func testUnitsAreWrittenWithExactlyTheirDecimals() throws {
        let cases: [(Int64, Int, String)] = [
            (-12_050, 2, "-120.50"), (1_825_000, 2, "18250.00"), (5, 2, "0.05"), (-5, 2, "-0.05"), (0, 2, "0.00"),
            (123, 0, "123"), (-123, 0, "-123"), (1_234_567, 4, "123.4567"), (-7, 4, "-0.0007"), (Int64.min, 2, "-92233720368547758.08"),
        ]
        for (units, scale, text) in cases {
            let number = JSONNumber(units: units, scale: scale)
            XCTAssertEqual(number.text, text, "\(units) at scale \(scale)")
            guard case let .number(parsed) = try JSONParser().parse(Array(number.text.utf8)) else {
                return XCTFail("\(number.text) is not a JSON number")
            }
            XCTAssertEqual(parsed.decimalValue, Decimal(units) / pow(10, scale), text)
        }
    }
}
