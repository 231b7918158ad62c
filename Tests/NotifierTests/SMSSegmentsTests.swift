import LiaisonSchema
import Notifier
import XCTest

final class SMSSegmentsTests: XCTestCase {
    private func measure(_ text: String) -> (SMSEncoding, Int, Int) {
        let segments = SMSSegments(measuring: text)
        return (segments.encoding, segments.count, segments.units)
    }

    private func repeated(_ text: String, _ count: Int) -> String {
        String(repeating: text, count: count)
    }

    func testGSM7FitsOneSegmentUpTo160Septets() {
        XCTAssertTrue(measure("") == (.gsm7, 1, 0))
        XCTAssertTrue(measure(repeated("a", 160)) == (.gsm7, 1, 160))
        XCTAssertTrue(measure(repeated("a", 161)) == (.gsm7, 2, 161))
        XCTAssertTrue(measure(repeated("a", 306)) == (.gsm7, 2, 306))
        XCTAssertTrue(measure(repeated("a", 307)) == (.gsm7, 3, 307))
        XCTAssertTrue(measure(repeated("a", 459)) == (.gsm7, 3, 459))
    }

    func testTheWholeDefaultAlphabetIsOneSeptetEach() {
        let alphabet =
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        XCTAssertEqual(alphabet.unicodeScalars.count, 127)
        XCTAssertTrue(measure(alphabet) == (.gsm7, 1, 127))
        XCTAssertTrue(measure("Grüße aus Köln, 12.000 USD für 30 Tage - Abmelden: STOP") == (.gsm7, 1, 55))
        XCTAssertTrue(measure("\r\n") == (.gsm7, 1, 2))
    }

    func testExtensionCharactersCountTwoSeptets() {
        for character in ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\u{0C}"] {
            XCTAssertTrue(measure(character) == (.gsm7, 1, 2), character)
        }
        XCTAssertTrue(measure(repeated("€", 80)) == (.gsm7, 1, 160))
        XCTAssertTrue(measure(repeated("€", 80) + "a") == (.gsm7, 2, 161))
        XCTAssertTrue(measure("Price: 10€ [incl. VAT]") == (.gsm7, 1, 25))
    }

    func testAnEscapeSequenceIsNeverSplitAcrossSegments() {
        // 152 septets, then an escape that would straddle the 153-septet boundary moves whole.
        XCTAssertTrue(measure(repeated("a", 152) + repeated("€", 77)) == (.gsm7, 3, 306))
        XCTAssertTrue(measure(repeated("a", 151) + repeated("€", 77)) == (.gsm7, 2, 305))
    }

    func testOneCharacterOutsideGSM7MakesTheWholeTextUCS2() {
        XCTAssertTrue(measure("It’s here") == (.ucs2, 1, 9))
        XCTAssertTrue(measure(repeated("a", 100) + "–") == (.ucs2, 2, 101))
        XCTAssertTrue(measure("ç") == (.ucs2, 1, 1))
        XCTAssertTrue(measure("`") == (.ucs2, 1, 1))
    }

    func testUCS2FitsOneSegmentUpTo70Units() {
        XCTAssertTrue(measure(repeated("ж", 70)) == (.ucs2, 1, 70))
        XCTAssertTrue(measure(repeated("ж", 71)) == (.ucs2, 2, 71))
        XCTAssertTrue(measure(repeated("好", 134)) == (.ucs2, 2, 134))
        XCTAssertTrue(measure(repeated("好", 135)) == (.ucs2, 3, 135))
        XCTAssertTrue(measure(repeated("好", 201)) == (.ucs2, 3, 201))
    }

    func testEmojiTakeTwoUnitsAndAreNeverSplit() {
        XCTAssertTrue(measure("😀") == (.ucs2, 1, 2))
        XCTAssertTrue(measure(repeated("😀", 35)) == (.ucs2, 1, 70))
        XCTAssertTrue(measure(repeated("😀", 36)) == (.ucs2, 2, 72))
        // 66 units, then a pair that would straddle the 67-unit boundary moves whole.
        XCTAssertTrue(measure(repeated("ж", 66) + repeated("😀", 34)) == (.ucs2, 3, 134))
        XCTAssertTrue(measure(repeated("ж", 65) + repeated("😀", 34)) == (.ucs2, 2, 133))
        XCTAssertTrue(measure("👍🏽") == (.ucs2, 1, 4))
    }

    func testCheckAcceptsTextsWithinTheLimitAndExplainsTheOthers() throws {
        XCTAssertEqual(try SMSSegments.check(repeated("a", 160), maximumSegments: 1).count, 1)
        XCTAssertEqual(try SMSSegments.check(repeated("a", 161), maximumSegments: 2).count, 2)
        do {
            _ = try SMSSegments.check(repeated("a", 161), maximumSegments: 1)
            XCTFail("a 161-septet text fits one segment")
        } catch {
            XCTAssertEqual(error.segments.count, 2)
            XCTAssertEqual(error.maximumSegments, 1)
            XCTAssertEqual(error.reasonCode, "sms_too_long")
            XCTAssertEqual("\(error)", "the SMS needs 2 GSM-7 segments (161 septets), and at most 1 is allowed")
        }
        do {
            _ = try SMSSegments.check(repeated("好", 135), maximumSegments: 2)
            XCTFail("135 UCS-2 characters fit two segments")
        } catch {
            XCTAssertEqual("\(error)", "the SMS needs 3 UCS-2 segments (135 UTF-16 units), and at most 2 are allowed")
        }
    }

    func testEveryDefaultSMSTemplateFitsWithTypicalValues() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        var checked = 0
        for template in catalog.templateNames {
            let values = try TemplateFixtures.values(for: template)
            for variant in catalog.variants(of: template) where variant.channel == .sms {
                let text = try TemplateFixtures.render(catalog, variant, values: values).text
                let segments = SMSSegments(measuring: text)
                if variant.locale == "zh" {
                    XCTAssertEqual(segments.encoding, .ucs2, variant.id)
                    XCTAssertEqual(segments.count, 1, "\(variant.id): \(segments): \(text)")
                } else {
                    XCTAssertEqual(segments.encoding, .gsm7, "\(variant.id) leaves GSM-7: \(text)")
                    XCTAssertEqual(segments.count, 1, "\(variant.id): \(segments): \(text)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 33)
    }
}
