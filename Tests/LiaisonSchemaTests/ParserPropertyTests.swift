import Foundation
import LiaisonSchema
import XCTest

/// Property-based tests of the parser, bounded in time (LIAISON_FUZZ_SECONDS, default 10) and
/// repeatable (LIAISON_FUZZ_SEED): generated documents round-trip exactly, and no mutation of
/// one crashes the parser or makes it accept what Foundation's parser refuses. (The converse is
/// not a property: Foundation accepts trailing commas and content after a top-level scalar.)
final class ParserPropertyTests: XCTestCase {
    var seconds: Double { ProcessInfo.processInfo.environment["LIAISON_FUZZ_SECONDS"].flatMap(Double.init) ?? 10 }
    var seed: UInt64 {
        ProcessInfo.processInfo.environment["LIAISON_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970 * 1000)
    }

    func testGeneratedDocumentsRoundTripAndMutationsAreJudgedLikeAConformingParser() throws {
        let seed = self.seed
        var generator = SplitMix64(seed: seed)
        let deadline = Date().addingTimeInterval(seconds)
        var documents = 0
        var mutations = 0
        var acceptedMutations = 0
        while Date() < deadline {
            let value = Self.value(&generator, depth: 0)
            let bytes = JSONWriter.encode(value)
            let parsed = try JSONParser().parse(bytes)
            guard parsed == value, JSONWriter.encode(parsed) == bytes else {
                return XCTFail("seed \(seed): round trip changed \(String(decoding: bytes, as: UTF8.self))")
            }
            documents += 1
            for _ in 0..<8 {
                let mutated = Self.mutate(bytes, &generator)
                mutations += 1
                let ours = try? JSONParser().parse(mutated)
                let foundation = (try? JSONSerialization.jsonObject(with: Data(mutated), options: .fragmentsAllowed)) != nil
                if let ours {
                    acceptedMutations += 1
                    guard foundation || Self.hasNumberBeyondDouble(ours) else {
                        return XCTFail("seed \(seed): accepted what Foundation refuses: \(String(decoding: mutated, as: UTF8.self))")
                    }
                    guard try JSONParser().parse(JSONWriter.encode(ours)) == ours else {
                        return XCTFail("seed \(seed): re-encoding changed \(String(decoding: mutated, as: UTF8.self))")
                    }
                }
            }
        }
        print("parser properties: seed \(seed), \(documents) documents, \(mutations) mutations (\(acceptedMutations) still valid)")
        XCTAssertGreaterThan(documents, 100)
    }

    /// Foundation refuses numbers a Double cannot hold; JSON itself does not.
    static func hasNumberBeyondDouble(_ value: JSONValue) -> Bool {
        switch value {
        case let .number(number): !(Double(number.text)?.isFinite ?? false)
        case let .array(elements): elements.contains(where: hasNumberBeyondDouble)
        case let .object(object): object.contains { hasNumberBeyondDouble($0.value) }
        default: false
        }
    }

    static func value(_ generator: inout SplitMix64, depth: Int) -> JSONValue {
        let pick = generator.next() % (depth >= 4 ? 4 : 6)
        switch pick {
        case 0: return generator.next() % 2 == 0 ? .null : .bool(generator.next() % 2 == 0)
        case 1: return number(&generator)
        case 2, 3: return .string(string(&generator))
        case 4:
            return .array((0..<Int(generator.next() % 5)).map { _ in value(&generator, depth: depth + 1) })
        default:
            var object = JSONObject()
            for _ in 0..<Int(generator.next() % 6) {
                object[string(&generator)] = value(&generator, depth: depth + 1)
            }
            return .object(object)
        }
    }

    static func number(_ generator: inout SplitMix64) -> JSONValue {
        var text = generator.next() % 3 == 0 ? "-" : ""
        let integer = generator.next() % 4 == 0 ? "0" : String(generator.next() % 1_000_000_007)
        text += integer
        if generator.next() % 2 == 0 { text += "." + String(generator.next() % 100_000) }
        if generator.next() % 4 == 0 { text += ["e", "E"][Int(generator.next() % 2)] + ["", "+", "-"][Int(generator.next() % 3)] + String(generator.next() % 300) }
        let parsed = try? JSONParser().parse(Array(text.utf8))
        return parsed ?? .null
    }

    static let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "é", "服", "😀", "\u{2028}", "{", "}", "[", ":", ","]

    static func string(_ generator: inout SplitMix64) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int(generator.next() % 10) {
            scalars.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
        }
        return String(scalars)
    }

    static let interestingBytes: [UInt8] = Array("{}[]\":,\\-+.eE0123456789tfnu \t\n".utf8) + [0x00, 0x80, 0xC0, 0xED, 0xF4, 0xFF]

    static func mutate(_ bytes: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        var mutated = bytes
        for _ in 0...Int(generator.next() % 3) {
            let position = mutated.isEmpty ? 0 : Int(generator.next() % UInt64(mutated.count))
            let byte = interestingBytes[Int(generator.next() % UInt64(interestingBytes.count))]
            switch generator.next() % 5 {
            case 0 where !mutated.isEmpty: mutated[position] = byte
            case 1: mutated.insert(byte, at: position)
            case 2 where !mutated.isEmpty: mutated.remove(at: position)
            case 3: mutated = Array(mutated.prefix(position))
            default:
                let end = min(mutated.count, position + Int(generator.next() % 8))
                mutated.insert(contentsOf: mutated[position..<end], at: position)
            }
        }
        return mutated
    }
}
