import Foundation
import LiaisonAudit
import LiaisonStage
import XCTest

/// The report's two forms: the text an operator reads and the JSON a script reads.
final class AuditReportTests: XCTestCase {
    private var report: AuditReport {
        var failed = AuditCheck(name: "upstream-verdicts", title: "every upstream record has exactly one ingest verdict")
        failed.discrepancies = [
            Discrepancy(kind: "lost", stage: "ingest", position: RecordPosition(topic: "sor.bank", partition: 1, offset: 17), id: "bank|17", detail: "no verdict")
        ]
        failed.counts = [AuditCount(name: "upstream_records", value: 40), AuditCount(name: "lost", value: 1)]
        var skipped = AuditCheck(name: "sink-deliveries", title: "no delivery happened twice at the sinks")
        skipped.skippedBecause = "no sink report"
        return AuditReport(checks: [failed, skipped])
    }

    func testTextNamesEachDiscrepancyWithItsStageAndPosition() {
        let text = report.text
        XCTAssertTrue(text.hasPrefix("audit FAILED: 1 discrepancy"), text)
        XCTAssertTrue(text.contains("upstream-verdicts: failed — every upstream record has exactly one ingest verdict"), text)
        XCTAssertTrue(text.contains("  lost [ingest] sor.bank/1@17 bank|17: no verdict"), text)
        XCTAssertTrue(text.contains("sink-deliveries: skipped"), text)
        XCTAssertTrue(text.contains("  skipped: no sink report"), text)
        XCTAssertNotNil(text.range(of: #"upstream records\s+40"#, options: .regularExpression), text)
    }

    func testJSONCarriesCountsByNameAndEveryDiscrepancy() throws {
        let data = try JSONEncoder().encode(report)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["passed"] as? Bool, false)
        XCTAssertEqual(object["discrepancies"] as? Int, 1)
        let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
        XCTAssertEqual(checks[0]["outcome"] as? String, "failed")
        XCTAssertEqual((checks[0]["counts"] as? [String: Int])?["upstream_records"], 40)
        let discrepancy = try XCTUnwrap((checks[0]["discrepancies"] as? [[String: Any]])?.first)
        XCTAssertEqual(discrepancy["topic"] as? String, "sor.bank")
        XCTAssertEqual(discrepancy["partition"] as? Int, 1)
        XCTAssertEqual(discrepancy["offset"] as? Int, 17)
        XCTAssertEqual(checks[1]["skippedBecause"] as? String, "no sink report")
    }
}
