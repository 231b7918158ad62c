import Foundation
import Ingest
import LiaisonSchema
import LiaisonStage
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

/// Runs scripts/check-records.py, which validates records with Python's `jsonschema` against
/// the files in schemas/.
enum SchemaChecker {
    struct Verdict: Decodable {
        var valid: Bool
        var category: String?
        var message: String
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func check(_ records: [(name: String, bytes: [UInt8], schema: String)]) throws -> [String: Verdict] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-schema-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var manifest: [[String: String]] = []
        for (index, record) in records.enumerated() {
            let file = directory.appendingPathComponent("\(index).bin")
            try Data(record.bytes).write(to: file)
            manifest.append(["name": record.name, "file": file.path, "schema": record.schema])
        }
        let manifestFile = directory.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.appendingPathComponent("scripts/check-records.py").path,
            "--schemas", repositoryRoot.appendingPathComponent("schemas").path, manifestFile.path,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CheckerFailure(
                "scripts/check-records.py exited with \(process.terminationStatus) (run `scripts/setup --with-test-broker` "
                    + "to install jsonschema): \(errorText)")
        }
        return try JSONDecoder().decode([String: Verdict].self, from: data)
    }

    struct CheckerFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
