import Foundation
import Ingest
import LiaisonSchema
import LiaisonStage
import SchemaChecking
import XCTest

final class CorpusTests: XCTestCase {
    let stage = IngestStage(configuration: IngestConfiguration(), clock: { Corpus.now })

    func testTheCorpusHoldsAtLeastAHundredHostileRecords() throws {
        XCTAssertGreaterThanOrEqual(try Corpus.hostile.filter { $0.expected != "accepted" }.count, 100)
    }

    func testEveryValidFixtureBecomesOneCanonicalEvent() throws {
        for fixture in try Corpus.valid {
            let (verdict, effect) = Corpus.outcome(stage, Corpus.record(fixture.bytes))
            XCTAssertEqual(verdict, "accepted", fixture.name)
            XCTAssertEqual(effect?.outputs.count, 1, fixture.name)
            let output = try XCTUnwrap(effect?.outputs.first, fixture.name)
            let event = try EventV1(bytes: output.value)
            XCTAssertEqual(output.key, Array(event.subject.utf8), fixture.name)
            XCTAssertEqual(output.id, NormalizedEvent.ledgerID(source: event.source, id: event.id), fixture.name)
        }
    }

    func testEveryHostileFixtureEndsWithItsReason() throws {
        for fixture in try Corpus.hostile {
            let (verdict, _) = Corpus.outcome(stage, Corpus.record(fixture.bytes))
            XCTAssertEqual(verdict, fixture.expected, fixture.name)
        }
    }

    /// Rejections name what is wrong, so whoever owns the upstream system can fix it.
    func testRejectionMessagesNameTheField() throws {
        let cases: [(String, String)] = [
            ("invalid/schema_violation--amount-string", "data.amount"),
            ("invalid/schema_violation--email-no-at", "data.contact.email"),
            ("invalid/schema_violation--quiet-hours-missing-end", "data.quietHours.end"),
            ("invalid/schema_violation--time-feb-30", "time"),
            ("invalid/duplicate_key--in-data", "\"amount\""),
            ("invalid/missing_subject--absent", "subject"),
            ("invalid/schema_violation--rating-two-point-oh", "data.rating"),
        ]
        let all = try Corpus.hostile
        for (name, field) in cases {
            let fixture = try XCTUnwrap(all.first { $0.name == name }, name)
            let reading = stage.read(Corpus.record(fixture.bytes))
            guard case let .rejected(failure) = reading else { return XCTFail("\(name) was not rejected") }
            XCTAssertTrue(failure.message.contains(field), "\(name): \(failure.message)")
        }
    }

    /// The JSON Schemas in schemas/ (run through Python's jsonschema) and the Codable types must
    /// agree on every fixture: what one accepts the other accepts.
    func testSchemasAndCodableTypesAgreeOnEveryFixture() throws {
        let fixtures = try (Corpus.valid + Corpus.hostile).filter(\.schemaCanJudge)
        let verdicts = try SchemaChecker.check(fixtures.map { ($0.name, $0.bytes, "cloudevent") })
        var disagreements: [String] = []
        for fixture in fixtures {
            let (swift, _) = Corpus.outcome(stage, Corpus.record(fixture.bytes))
            guard let python = verdicts[fixture.name] else {
                disagreements.append("\(fixture.name): the schema checker gave no verdict")
                continue
            }
            if (swift == "accepted") != python.valid {
                disagreements.append("\(fixture.name): Swift says \(swift), the schema says \(python.valid ? "valid" : "invalid: \(python.message)")")
            } else if !python.valid {
                let transportReasons: Set = ["invalid_json", "invalid_utf8", "too_deep", "duplicate_key", "too_large", "empty_record"]
                let expected = transportReasons.contains(swift) ? swift : "schema"
                if python.category != expected {
                    disagreements.append("\(fixture.name): Swift says \(swift), the checker says \(python.category ?? "?"): \(python.message)")
                }
            }
        }
        XCTAssertEqual(disagreements, [], disagreements.joined(separator: "\n"))
    }
}
