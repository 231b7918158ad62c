import Foundation
import Ingest
import LiaisonSchema
import LiaisonStage
import XCTest

/// One record of the test corpus and how ingest must end it: `accepted`, or a dead-letter reason.
struct Fixture {
    var name: String
    var bytes: [UInt8]
    var expected: String
    /// Whether the JSON Schemas can judge it: the future-timestamp rule depends on the clock.
    var schemaCanJudge = true
}

enum Corpus {
    static let now = Timestamp("2026-11-23T12:00:00Z")!.epochMilliseconds

    static var fixtureDirectory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }

    static func files(in folder: String) throws -> [Fixture] {
        let directory = fixtureDirectory.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { file in
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
            let name = String(file.dropLast(".json".count))
            let expected = folder == "valid" ? "accepted" : String(name.prefix { $0 != "-" })
            return Fixture(name: "\(folder)/\(name)", bytes: bytes, expected: expected)
        }
    }

    static var valid: [Fixture] { get throws { try files(in: "valid") } }

    /// Hand-written bad records plus generated ones: truncations, nesting, sizes, clock skew.
    static var hostile: [Fixture] {
        get throws { try files(in: "invalid") + generated() }
    }

    static func transaction(data extra: String = "", time: String = "2026-11-02T10:15:00Z") -> String {
        #"{"specversion":"1.0","id":"txn-g","source":"core-banking","type":"banking.transaction.posted","time":"\#(time)","#
            + #""subject":"cust-42","data":{"accountId":"chk-42","accountType":"checking","amount":-120.50,"currency":"USD","#
            + #""balanceAfter":18250.00,"description":"Grocery"\#(extra)}}"#
    }

    static func generated() -> [Fixture] {
        var fixtures: [Fixture] = []
        let base = Array(transaction().utf8)
        for cut in stride(from: 1, to: base.count, by: max(1, base.count / 30)) {
            fixtures.append(Fixture(name: "generated/truncated-at-\(cut)", bytes: Array(base.prefix(cut)), expected: "invalid_json"))
        }
        fixtures.append(Fixture(name: "generated/empty", bytes: [], expected: "empty_record"))
        fixtures.append(Fixture(name: "generated/whitespace-only", bytes: Array("  \n\t ".utf8), expected: "invalid_json"))
        let nested63 = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
        fixtures.append(Fixture(name: "generated/nesting-at-the-limit", bytes: Array(transaction(data: #","deep":\#(nested63)"#).utf8), expected: "accepted"))
        let nested64 = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        fixtures.append(Fixture(name: "generated/nesting-one-past-the-limit", bytes: Array(transaction(data: #","deep":\#(nested64)"#).utf8), expected: "too_deep"))
        fixtures.append(Fixture(name: "generated/100k-open-brackets", bytes: Array(repeating: UInt8(ascii: "["), count: 100_000), expected: "too_deep"))
        fixtures.append(Fixture(name: "generated/100k-nested-objects", bytes: Array(String(repeating: #"{"a":"#, count: 100_000).utf8), expected: "too_deep"))
        let tenMB = String(repeating: "x", count: 10 * 1_048_576)
        fixtures.append(Fixture(name: "generated/10mb-string", bytes: Array(transaction(data: #","note":"\#(tenMB)""#).utf8), expected: "too_large"))
        let padding = String(repeating: " ", count: 1_048_577 - base.count)
        fixtures.append(Fixture(name: "generated/one-byte-over-the-limit", bytes: base + Array(padding.utf8), expected: "too_large"))
        fixtures.append(Fixture(name: "generated/exactly-at-the-limit", bytes: base + Array(padding.dropLast().utf8), expected: "accepted"))
        let members = (0..<5000).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        fixtures.append(Fixture(name: "generated/5000-members", bytes: Array(transaction(data: ",\(members)").utf8), expected: "accepted"))
        fixtures.append(Fixture(name: "generated/5000-members-then-a-duplicate", bytes: Array(transaction(data: ",\(members),\"k17\":1").utf8), expected: "duplicate_key"))
        let longNumber = "1" + String(repeating: "0", count: 10_000)
        fixtures.append(Fixture(
            name: "generated/10k-digit-amount",
            bytes: Array(transaction().replacingOccurrences(of: "-120.50", with: longNumber).utf8), expected: "schema_violation"))
        fixtures.append(Fixture(name: "generated/raw-nul-in-string", bytes: Array(transaction(data: ",\"n\":\"a\u{0}b\"").utf8), expected: "invalid_json"))
        fixtures.append(Fixture(name: "generated/escaped-nul-in-string", bytes: Array(transaction(data: #","n":"a\u0000b""#).utf8), expected: "accepted"))
        fixtures.append(Fixture(
            name: "generated/one-day-in-the-future", bytes: Array(transaction(time: "2026-11-24T12:00:00Z").utf8),
            expected: "future_timestamp", schemaCanJudge: false))
        fixtures.append(Fixture(
            name: "generated/year-2099", bytes: Array(transaction(time: "2099-01-01T00:00:00+14:00").utf8),
            expected: "future_timestamp", schemaCanJudge: false))
        fixtures.append(Fixture(
            name: "generated/within-the-skew", bytes: Array(transaction(time: "2026-11-23T12:04:00Z").utf8), expected: "accepted"))
        return fixtures
    }

    /// Runs one record through the stage as the runtime would, returning `accepted`,
    /// `ignored`, or the dead-letter reason, and the outputs.
    static func outcome(_ stage: IngestStage, _ record: InputRecord) -> (String, Effect<Never>?) {
        let reading = stage.read(record)
        do {
            let effect = try stage.process(record, reading: reading, inputID: stage.inputID(of: record, reading: reading), state: NoState())
            return (effect.verdict.rawValue, effect)
        } catch {
            return (error.code, nil)
        }
    }

    static func record(_ bytes: [UInt8], topic: String = "sor.core-banking", offset: Int64 = 7, headers: [RecordHeader] = [], key: String? = "cust-42") -> InputRecord {
        InputRecord(
            position: RecordPosition(topic: topic, partition: 2, offset: offset), key: key.map { Array($0.utf8) }, value: bytes,
            headers: headers, timestampMs: now - 60_000)
    }
}
