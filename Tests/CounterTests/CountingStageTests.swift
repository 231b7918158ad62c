import Counter
import Foundation
import LiaisonStage
import XCTest

final class CountingStageTests: XCTestCase {
    private let stage = CountingStage(name: "counter", outputTopic: "counts")

    private func record(key: String?, offset: Int64, id: String? = nil) -> InputRecord {
        InputRecord(
            position: RecordPosition(topic: "in", partition: 1, offset: offset),
            key: key.map { Array($0.utf8) }, value: Array("{}".utf8),
            headers: id.map { [RecordHeader(name: recordIDHeader, string: $0)] } ?? [])
    }

    func testCountsRunPerKeyOnTopOfTheLoadedState() throws {
        var state = CountState(counts: ["alice": 4])
        var emitted: [String] = []
        for (offset, key) in ["alice", "bob", "alice"].enumerated() {
            let input = record(key: key, offset: Int64(offset))
            let effect = try stage.process(input, reading: (), inputID: stage.inputID(of: input, reading: ()), state: state)
            effect.changes.forEach { state.apply($0) }
            emitted += effect.outputs.map { String(decoding: $0.value, as: UTF8.self) }
        }
        XCTAssertEqual(state.counts, ["alice": 6, "bob": 1])
        XCTAssertEqual(emitted, [
            #"{"key":"alice","count":5,"input":"in-1-0"}"#,
            #"{"key":"bob","count":1,"input":"in-1-1"}"#,
            #"{"key":"alice","count":6,"input":"in-1-2"}"#,
        ])
    }

    func testOutputIDsDeriveFromTheInputSoReprocessingRepeatsThem() throws {
        let input = record(key: "k", offset: 7, id: "upstream-9")
        XCTAssertEqual(stage.inputID(of: input, reading: ()), "upstream-9")
        let first = try stage.process(input, reading: (), inputID: "upstream-9", state: CountState())
        let again = try stage.process(input, reading: (), inputID: "upstream-9", state: CountState())
        XCTAssertEqual(first.outputs.map(\.id), ["counter:upstream-9"])
        XCTAssertEqual(first.outputs.map(\.id), again.outputs.map(\.id))
        XCTAssertEqual(first.outputs.first?.topic, "counts")
        XCTAssertEqual(first.outputs.first?.key, Array("k".utf8))
    }

    func testARecordWithoutKeyIsRejectedWithItsPosition() {
        XCTAssertThrowsError(try stage.process(record(key: nil, offset: 3), reading: (), inputID: "x", state: CountState())) { error in
            let failure = error as? StageFailure
            XCTAssertEqual(failure?.code, "missing_key")
            XCTAssertTrue(failure?.message.contains("in/1@3") ?? false)
        }
    }

    func testKeysNeedingEscapesStayValidJSON() throws {
        let effect = try stage.process(record(key: "a\"b\\c\n", offset: 0), reading: (), inputID: "i", state: CountState())
        let value = try JSONSerialization.jsonObject(with: Data(effect.outputs[0].value)) as? [String: Any]
        XCTAssertEqual(value?["key"] as? String, "a\"b\\c\n")
    }
}
