import Enrich
import Foundation
import XCTest

final class EnrichConfigurationTests: XCTestCase {
    func testTheShippedExampleHoldsTheDefaults() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../deploy/enrich.example.yaml").standardizedFileURL
        let configuration = try EnrichConfiguration(yaml: String(contentsOf: example, encoding: .utf8))
        XCTAssertEqual(configuration, EnrichConfiguration())
    }

    func testEveryNumberCanBeSet() throws {
        let configuration = try EnrichConfiguration(yaml: """
            cash-need-buffer: 0.25
            churn-weights: {sentiment: 0.5, activity: 0}
            unresolved-case-days: 3
            case-age-saturation-days: 10
            minimum-baseline-days: 14
            sentiment-lexicons: [a.yaml]
            """)
        XCTAssertEqual(configuration.features.cashNeedBuffer, Decimal(string: "0.25"))
        XCTAssertEqual(configuration.features.churnWeights, .init(sentiment: 0.5, cases: 0.35, activity: 0))
        XCTAssertEqual(configuration.features.unresolvedCaseDays, 3)
        XCTAssertEqual(configuration.features.caseAgeSaturationDays, 10)
        XCTAssertEqual(configuration.features.minimumBaselineDays, 14)
        XCTAssertEqual(configuration.sentimentLexicons, ["a.yaml"])
    }

    func testMistakesNameTheKey() {
        let cases = [
            "cash-need-buffer: lots": "cash-need-buffer must be a number from 0 to 10 (0.1 adds 10 %), found lots",
            "churn-weights: {cases: 2}": "churn-weights.cases must be from 0 to 1, found 2.0",
            "minimum-baseline-days: 0": "minimum-baseline-days must be from 1 to 90, found 0",
            "unresolved-case-dayz: 3": "unresolved-case-dayz: unknown key; the keys are case-age-saturation-days, cash-need-buffer, "
                + "churn-weights, minimum-baseline-days, sentiment-lexicons, unresolved-case-days",
        ]
        for (yaml, message) in cases {
            XCTAssertThrowsError(try EnrichConfiguration(yaml: yaml), yaml) { error in
                XCTAssertEqual((error as? EnrichConfigurationError)?.message, message)
            }
        }
    }
}
