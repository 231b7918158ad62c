import Foundation
import LiaisonSchema
import SchemaChecking
import XCTest
import Yams

/// schemas/rule-pack.v1.schema.json accepts the default pack and refuses what the loader refuses.
final class RulePackSchemaTests: XCTestCase {
    func testSchemaAcceptsDefaultPackAndRefusesMistakes() throws {
        let pack = try RulePackLoadingTests.defaultPackText()
        let mistakes = try RulePackLoadingTests.defaultPackMistakes()
        var records = [(name: "default", bytes: try Self.json(pack), schema: "rule-pack.v1.schema.json")]
        for (name, text) in mistakes {
            records.append((name, try Self.json(text), "rule-pack.v1.schema.json"))
        }
        let verdicts = try SchemaChecker.check(records)
        XCTAssertEqual(verdicts["default"]?.valid, true, verdicts["default"]?.message ?? "no verdict")
        for name in mistakes.keys {
            XCTAssertEqual(verdicts[name]?.valid, false, "\(name): \(verdicts[name]?.message ?? "no verdict")")
        }
    }

    /// The pack as JSON, reading scalars as the loader does (YAML 1.2 core schema).
    private static func json(_ yaml: String) throws -> [UInt8] {
        guard let root = try Yams.compose(yaml: yaml) else { throw CocoaError(.fileReadCorruptFile) }
        return JSONWriter.encode(value(root))
    }

    private static func value(_ node: Yams.Node) -> JSONValue {
        switch node {
        case let .mapping(mapping):
            var object = JSONObject()
            for (key, member) in mapping { object[key.scalar?.string ?? ""] = value(member) }
            return .object(object)
        case let .sequence(sequence):
            return .array(sequence.map(value))
        case .alias:
            return .null
        case let .scalar(scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            switch scalar.string {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: return (try? JSONParser().parse(Array(scalar.string.utf8))) ?? .string(scalar.string)
            }
        }
    }
}
