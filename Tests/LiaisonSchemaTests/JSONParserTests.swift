import Foundation
import LiaisonSchema
import XCTest

final class JSONParserTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONParser().parse(Array(text.utf8)) }

    func kind(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONParseError.Kind? {
        do {
            _ = try JSONParser(maxDepth: maxDepth).parse(bytes)
            return nil
        } catch {
            return error.kind
        }
    }

    func testNumbersKeepTheirLiteralText() throws {
        let value = try parse(#"{"a":-120.50,"b":1E+2,"c":0,"d":18250.00}"#)
        XCTAssertEqual(value["a"], .number(try XCTUnwrap(numberLiteral("-120.50"))))
        XCTAssertEqual(JSONWriter.encode(value), Array(#"{"a":-120.50,"b":1E+2,"c":0,"d":18250.00}"#.utf8))
    }

    func numberLiteral(_ text: String) -> JSONNumber? {
        if case let .number(number)? = try? JSONParser().parse(Array(text.utf8)) { return number }
        return nil
    }

    func testStringsDecodeEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#), .string("a\"b\\c/d\u{8}\u{C}\n\r\té😀"))
        XCTAssertEqual(try parse("\"Grüße 服务\""), .string("Grüße 服务"))
    }

    func testTheWriterEscapesWhatJSONRequires() throws {
        let text = "q\"b\\n\nt\tc\u{1}é😀"
        let bytes = JSONWriter.encode(.string(text))
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #""q\"b\\n\nt\tc\u0001é😀""#)
        XCTAssertEqual(try JSONParser().parse(bytes), .string(text))
    }

    func testStrictnessBeyondFoundation() {
        XCTAssertEqual(kind(Array(#"{"a":1,"a":2}"#.utf8)), .duplicateKey)
        XCTAssertEqual(kind(Array(#"{"a":1,"\u0061":2}"#.utf8)), .duplicateKey)
        XCTAssertEqual(kind(Array(#"["\ud800"]"#.utf8)), .syntax)
        XCTAssertEqual(kind(Array(#"[NaN]"#.utf8)), .syntax)
        XCTAssertEqual(kind(Array(#"[-Infinity]"#.utf8)), .syntax)
        XCTAssertEqual(kind([0xEF, 0xBB, 0xBF] + Array("{}".utf8)), .syntax)
        XCTAssertEqual(kind([UInt8(ascii: "\""), 0xED, 0xA0, 0x80, UInt8(ascii: "\"")]), .invalidUTF8)
        XCTAssertEqual(kind([UInt8(ascii: "\""), 0xC0, 0xAF, UInt8(ascii: "\"")]), .invalidUTF8)
        XCTAssertEqual(kind([UInt8(ascii: "\""), 0xF4, 0x90, 0x80, 0x80, UInt8(ascii: "\"")]), .invalidUTF8)
        XCTAssertEqual(kind(Array("[[[]]]".utf8), maxDepth: 2), .tooDeep)
        XCTAssertNil(kind(Array("[[1]]".utf8), maxDepth: 2))
        XCTAssertEqual(kind(Array("01".utf8)), .syntax)
        XCTAssertEqual(kind(Array("{} {}".utf8)), .syntax)
        XCTAssertEqual(kind(Array("\"a\tb\"".utf8)), .syntax)
    }

    func testErrorsSayWhereAndWhat() {
        do {
            _ = try JSONParser().parse(Array(#"{"id":"x","amount":12,}"#.utf8))
            XCTFail("accepted a trailing comma")
        } catch {
            XCTAssertEqual(error.offset, 22)
            XCTAssertEqual(error.description, "expected a quoted member name (at byte 22)")
        }
        do {
            _ = try JSONParser().parse(Array(#"{"id":"x""#.utf8))
            XCTFail("accepted a truncated document")
        } catch {
            XCTAssertTrue(error.message.contains("truncated"), error.message)
        }
    }

    func testUTF8ValidationAgreesWithTheStandardLibrary() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 12)
            let bytes = (0..<count).map { _ -> UInt8 in
                let pick = generator.next() % 4
                return pick == 0 ? UInt8(truncatingIfNeeded: generator.next() % 128) : UInt8(truncatingIfNeeded: 0x80 + generator.next() % 128)
            }
            let ours = bytes.withUnsafeBufferPointer { UTF8Validation.firstInvalidOffset($0) } == nil
            let standard = String(validating: bytes, as: UTF8.self) != nil
            XCTAssertEqual(ours, standard, "\(bytes)")
        }
    }
}

/// A small, fast, seedable generator, so a failing property run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class JSONWriterTests: XCTestCase {
    func testAReopenedObjectTakesMoreMembers() throws {
        for (object, expected) in [(#"{"a":1}"#, #"{"a":1,"b":true}"#), (" { } \n", #" { "b":true}"#), (#"{"a":{"x":[]}}  "#, #"{"a":{"x":[]},"b":true}"#)] {
            var writer = JSONWriter()
            writer.reopenObject(Array(object.utf8))
            writer.key("b")
            writer.bool(true)
            writer.endObject()
            XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), expected)
            XCTAssertNoThrow(try JSONParser().parse(writer.bytes))
        }
    }
}
