import Foundation
import LiaisonRuntime
import XCTest

final class ResidentMemoryCurveTests: XCTestCase {
    private func curve(_ megabytes: [Double]) -> ResidentMemoryCurve {
        var curve = ResidentMemoryCurve()
        for (index, value) in megabytes.enumerated() { curve.add(seconds: Double(index + 1) * 60, megabytes: value) }
        return curve
    }

    func testGrowthDuringWarmUpThenALevelIsFlat() {
        let flat = curve([40, 120, 180, 200, 204, 199, 206, 203, 208])
        XCTAssertEqual(flat.growthAfterWarmUp?.middle, 204)
        XCTAssertEqual(flat.growthAfterWarmUp?.late, 208)
        XCTAssertEqual(flat.isFlat(), true)
    }

    func testSteadyGrowthAfterWarmUpIsNotFlat() {
        let leaking = curve([40, 120, 180, 200, 220, 240, 260, 280, 300])
        XCTAssertEqual(leaking.growthAfterWarmUp?.middle, 240)
        XCTAssertEqual(leaking.growthAfterWarmUp?.late, 300)
        XCTAssertEqual(leaking.isFlat(), false, "300 MB is more than 240 MB + 10 % + 16 MB")
    }

    func testTooFewSamplesGiveNoVerdict() {
        XCTAssertNil(curve([]).isFlat())
        XCTAssertNil(curve([100]).isFlat())
    }

    func testThisProcessHasAResidentSetNoLargerThanItsPeak() throws {
        let memory = try XCTUnwrap(ResidentMemoryCurve.read(processIdentifier: getpid()))
        XCTAssertGreaterThan(memory.resident, 1)
        XCTAssertLessThanOrEqual(memory.resident, memory.peak)
        XCTAssertNil(ResidentMemoryCurve.read(processIdentifier: -1))
    }
}
