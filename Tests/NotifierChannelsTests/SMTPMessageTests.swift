import Foundation
import Notifier
import XCTest

@testable import NotifierChannels

/// The email as bytes, the reply parser and the address checks, without a server.
final class SMTPMessageTests: XCTestCase {
    private func outgoing(subject: String? = "Hello", text: String = "Hi", html: String? = nil, key: String = "a-1|email")
        -> OutgoingMessage
    {
        OutgoingMessage(
            actionID: "a-1", idempotencyKey: key, channel: .email, customerID: "c-1", address: "kunde@example.test", subject: subject,
            text: text, html: html, locale: "zh_CN", metadata: ["rule id": "late-payment", "": "dropped"])
    }

    private func build(_ message: OutgoingMessage, date: Date = Date(timeIntervalSince1970: 1_750_000_000)) -> SMTPMessage {
        SMTPMessage(message, fromAddress: "notify@bank.test", fromName: "Bank", messageIDDomain: "bank.test", date: date)
    }

    private func text(_ message: SMTPMessage) -> String {
        String(decoding: message.bytes, as: UTF8.self)
    }

    /// The header block, folded lines joined back (RFC 5322 2.2.3).
    private func headers(_ message: SMTPMessage) -> [String] {
        let head = text(message).components(separatedBy: "\r\n\r\n")[0]
        return head.replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n")
    }

    /// Decodes the UTF-8 "B" encoded-words of a header value back to text.
    private func decodeWords(_ value: String) throws -> String {
        var bytes: [UInt8] = []
        for word in value.split(separator: " ") {
            XCTAssertTrue(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="), String(word))
            XCTAssertLessThanOrEqual(word.count, 75)
            let payload = word.dropFirst(10).dropLast(2)
            let decoded = try XCTUnwrap(Data(base64Encoded: String(payload)))
            XCTAssertNotNil(String(data: decoded, encoding: .utf8), "each encoded-word holds whole characters")
            bytes += decoded
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func decodeQuotedPrintable(_ encoded: String) -> String {
        var bytes: [UInt8] = []
        let lines = encoded.components(separatedBy: "\r\n")
        for (index, line) in lines.enumerated() {
            var characters = Array(line.utf8)[...]
            let soft = characters.last == UInt8(ascii: "=")
            if soft { characters = characters.dropLast() }
            while let byte = characters.first {
                characters = characters.dropFirst()
                if byte == UInt8(ascii: "="), let value = UInt8(String(decoding: characters.prefix(2), as: UTF8.self), radix: 16) {
                    bytes.append(value)
                    characters = characters.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            }
            if !soft, index < lines.count - 1 { bytes.append(UInt8(ascii: "\n")) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Message-ID and boundary

    func testMessageIDIsTheSHA256OfTheIdempotencyKey() {
        XCTAssertEqual(
            SMTPMessage.messageID(idempotencyKey: "abc", domain: "bank.test"),
            "<ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad@bank.test>")
        let first = build(outgoing(), date: Date(timeIntervalSince1970: 0))
        let again = build(outgoing(), date: Date(timeIntervalSince1970: 86_400))
        XCTAssertEqual(first.messageID, again.messageID)
        XCTAssertNotEqual(first.messageID, build(outgoing(key: "a-2|email")).messageID)
        XCTAssertTrue(headers(first).contains("Message-ID: \(first.messageID)"))
    }

    func testRetriesAreTheSameBytesApartFromTheDate() {
        let message = outgoing(html: "<p>Hi</p>")
        let first = headers(build(message, date: Date(timeIntervalSince1970: 0))).filter { !$0.hasPrefix("Date:") }
        let again = headers(build(message, date: Date(timeIntervalSince1970: 3600))).filter { !$0.hasPrefix("Date:") }
        XCTAssertEqual(first, again)
        XCTAssertEqual(
            text(build(message, date: Date(timeIntervalSince1970: 0))).components(separatedBy: "\r\n\r\n").dropFirst(),
            text(build(message, date: Date(timeIntervalSince1970: 3600))).components(separatedBy: "\r\n\r\n").dropFirst())
    }

    func testMultipartHasBothPartsBetweenAQuotedPrintableProofBoundary() throws {
        let body = text(build(outgoing(text: "Plain =?UTF-8?", html: "<p>HTML</p>")))
        let contentType = try XCTUnwrap(headers(build(outgoing(html: "<p>HTML</p>"))).first { $0.hasPrefix("Content-Type:") })
        let boundary = try XCTUnwrap(contentType.components(separatedBy: "boundary=\"").last?.dropLast())
        XCTAssertTrue(boundary.hasPrefix("=_"), "quoted-printable output never holds \"=_\", so the boundary cannot occur in a part")
        XCTAssertEqual(body.components(separatedBy: "--\(boundary)\r\n").count, 3)
        XCTAssertTrue(body.hasSuffix("--\(boundary)--\r\n"))
        XCTAssertTrue(body.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nPlain =3D?UTF-8?\r\n"))
        XCTAssertTrue(body.contains("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>HTML</p>\r\n"))
    }

    func testTextOnlyMessageHasNoMultipart() {
        let header = headers(build(outgoing()))
        XCTAssertTrue(header.contains("Content-Type: text/plain; charset=utf-8"))
        XCTAssertTrue(header.contains("Content-Transfer-Encoding: quoted-printable"))
        XCTAssertFalse(text(build(outgoing())).contains("multipart"))
    }

    // MARK: Headers

    func testHeadersNameSenderRecipientActionAndLanguage() {
        let header = headers(build(outgoing()))
        XCTAssertEqual(header.first, "Date: Sun, 15 Jun 2025 15:06:40 +0000")
        XCTAssertTrue(header.contains("From: \"Bank\" <notify@bank.test>"))
        XCTAssertTrue(header.contains("To: kunde@example.test"))
        XCTAssertTrue(header.contains("Subject: Hello"))
        XCTAssertTrue(header.contains("MIME-Version: 1.0"))
        XCTAssertTrue(header.contains("X-Liaison-Action-Id: a-1"))
        XCTAssertTrue(header.contains("X-Liaison-Idempotency-Key: a-1|email"))
        XCTAssertTrue(header.contains("X-Liaison-Meta-rule-id: late-payment"))
        XCTAssertTrue(header.contains("Content-Language: zh-CN"))
        XCTAssertFalse(header.contains { $0.contains("dropped") }, "a metadata key with no usable characters is left out")
    }

    func testDateIsRFC5322InUTC() {
        XCTAssertEqual(SMTPMessage.dateField(Date(timeIntervalSince1970: 0)), "Thu, 01 Jan 1970 00:00:00 +0000")
        XCTAssertEqual(SMTPMessage.dateField(Date(timeIntervalSince1970: 951_782_400)), "Tue, 29 Feb 2000 00:00:00 +0000")
    }

    func testNonASCIISubjectsBecomeUTF8EncodedWordsOfWholeCharacters() throws {
        for subject in [
            "Ihre Zahlung über 1.250,00 € ist fällig",
            "您的航班已更改，请查看新的登机时间和登机口信息。感谢您选择我们的服务，祝您旅途愉快！",
            "Grüße 👨‍👩‍👧‍👦 " + String(repeating: "ä", count: 120),
        ] {
            let field = SMTPMessage.field("Subject", subject)
            for line in field.components(separatedBy: "\r\n") {
                XCTAssertLessThanOrEqual(line.utf8.count, 76, line)
                XCTAssertTrue(line.unicodeScalars.allSatisfy { $0.isASCII }, line)
            }
            let value = field.dropFirst("Subject: ".count).replacingOccurrences(of: "\r\n ", with: " ")
            XCTAssertEqual(try decodeWords(value), subject)
        }
    }

    func testLongASCIISubjectsFoldAtSpaces() {
        let subject = Array(repeating: "Reminder: your appointment", count: 8).joined(separator: " ")
        let field = SMTPMessage.field("Subject", subject)
        let lines = field.components(separatedBy: "\r\n")
        XCTAssertGreaterThan(lines.count, 1)
        XCTAssertTrue(lines.allSatisfy { $0.utf8.count <= 78 })
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") && $0.trimmingCharacters(in: .whitespaces) != "" })
        XCTAssertEqual(field.replacingOccurrences(of: "\r\n", with: ""), "Subject: " + subject)
    }

    func testLineBreaksInAValueCannotStartAHeader() {
        let header = headers(build(outgoing(subject: "Hello\r\nBcc: victim@example.test\nX-Evil: 1")))
        XCTAssertFalse(header.contains { $0.hasPrefix("Bcc:") || $0.hasPrefix("X-Evil:") })
        XCTAssertTrue(header.contains("Subject: Hello  Bcc: victim@example.test X-Evil: 1"))
    }

    func testLookalikeEncodedWordsInASCIIAreEncoded() throws {
        let field = SMTPMessage.field("Subject", "=?UTF-8?B?SGk=?=")
        XCTAssertEqual(try decodeWords(String(field.dropFirst("Subject: ".count))), "=?UTF-8?B?SGk=?=")
    }

    func testNonASCIIDisplayNameIsEncoded() throws {
        let message = SMTPMessage(outgoing(), fromAddress: "notify@bank.test", fromName: "Bank – Kundendienst", messageIDDomain: "bank.test", date: Date())
        let from = try XCTUnwrap(headers(message).first { $0.hasPrefix("From:") })
        XCTAssertTrue(from.hasSuffix(" <notify@bank.test>"), from)
        let name = from.dropFirst("From: ".count).dropLast(" <notify@bank.test>".count)
        XCTAssertEqual(try decodeWords(String(name)), "Bank – Kundendienst")
    }

    // MARK: Bodies and lines

    func testEveryLineEndsInCRLFAndIsAtMost998Octets() {
        let long = String(repeating: "x", count: 5000) + "\n" + String(repeating: "长", count: 3000) + "\r\nend   \rlast"
        let message = build(outgoing(subject: String(repeating: "Ü", count: 400), text: long, html: "<p>" + long + "</p>"))
        let bytes = message.bytes
        XCTAssertTrue(bytes.starts(with: Array("Date: ".utf8)))
        XCTAssertTrue(bytes.suffix(2).elementsEqual([13, 10]))
        var lineLength = 0
        for (index, byte) in bytes.enumerated() {
            if byte == 10 {
                XCTAssertEqual(bytes[index - 1], 13, "a bare LF at \(index)")
                lineLength = 0
            } else if byte == 13 {
                XCTAssertEqual(bytes[index + 1], 10, "a bare CR at \(index)")
            } else {
                XCTAssertTrue(byte < 0x80, "only 7-bit bytes travel")
                lineLength += 1
                XCTAssertLessThanOrEqual(lineLength, 998)
            }
        }
    }

    func testQuotedPrintableRoundTripsUTF8TrailingSpaceAndEquals() {
        let original = "Grüße =3D 100 €  \nTrailing tab\t\n\n长" + String(repeating: "长", count: 40) + "\n.leading dot"
        let encoded = SMTPMessage.quotedPrintable(original)
        for line in encoded.components(separatedBy: "\r\n") {
            XCTAssertLessThanOrEqual(line.utf8.count, 76, line)
            XCTAssertFalse(line.hasSuffix(" ") || line.hasSuffix("\t"), "trailing white space would be stripped in transit: \(line)")
        }
        XCTAssertEqual(decodeQuotedPrintable(encoded), original)
        XCTAssertEqual(SMTPMessage.quotedPrintable("a\r\nb\rc"), "a\r\nb\r\nc")
    }

    func testDataBlockDoublesLeadingDotsAndEndsWithTheLoneDot() {
        XCTAssertEqual(
            String(decoding: SMTPMessage.dataBlock(Array(".\r\n.a\r\nb.\r\n..c\r\n".utf8)), as: UTF8.self), "..\r\n..a\r\nb.\r\n...c\r\n.\r\n")
        XCTAssertEqual(String(decoding: SMTPMessage.dataBlock(Array("x".utf8)), as: UTF8.self), "x\r\n.\r\n")
    }

    // MARK: Replies

    func testReplyParserGathersMultilineRepliesAcrossReads() throws {
        var parser = SMTPReplyParser()
        XCTAssertEqual(try parser.consume(Array("220 sink.test ESMTP\r\n250-sink".utf8)), [SMTPReply(code: 220, lines: ["sink.test ESMTP"])])
        XCTAssertFalse(parser.isIdle)
        XCTAssertEqual(try parser.consume(Array(".test\r\n250-STARTTLS\r\n250-AUTH=LOGIN\r\n250 AUTH PLAIN login\n".utf8)), [
            SMTPReply(code: 250, lines: ["sink.test", "STARTTLS", "AUTH=LOGIN", "AUTH PLAIN login"])
        ])
        XCTAssertTrue(parser.isIdle)
        XCTAssertEqual(try parser.consume(Array("354\r\n".utf8)), [SMTPReply(code: 354, lines: [""])])
    }

    func testReplyParserRefusesWhatIsNotAReply() {
        for bad in ["hello\r\n", "250_x\r\n", "250-a\r\n251 b\r\n", "999 no\r\n", String(repeating: "2", count: 5000)] {
            var parser = SMTPReplyParser()
            XCTAssertThrowsError(try parser.consume(Array(bad.utf8)), bad)
        }
    }

    func testEHLOExtensions() {
        let reply = SMTPReply(code: 250, lines: ["sink.test greets you", "SIZE 1000", "starttls", "AUTH=LOGIN", "AUTH PLAIN login"])
        let extensions = SMTPExtensions(ehlo: reply)
        XCTAssertTrue(extensions.offers("STARTTLS"))
        XCTAssertFalse(extensions.offers("SMTPUTF8"))
        XCTAssertEqual(Set(extensions.authMechanisms), ["PLAIN", "LOGIN"])
    }

    func testReplySummaryIsOneReadableLine() {
        let reply = SMTPReply(code: 550, lines: ["5.1.1 No such user", "  contact\u{7}postmaster  "])
        XCTAssertEqual(reply.summary, "550 5.1.1 No such user contact postmaster")
    }

    func testQueueIDFromTheReplyToTheData() {
        XCTAssertEqual(SMTPQueueID.find(in: SMTPReply(code: 250, lines: ["2.0.0 Ok: queued as 4BxYz12abc"])), "4BxYz12abc")
        XCTAssertEqual(SMTPQueueID.find(in: SMTPReply(code: 250, lines: ["OK id=1uAbCd-0001Xy-2Z"])), "1uAbCd-0001Xy-2Z")
        XCTAssertNil(SMTPQueueID.find(in: SMTPReply(code: 250, lines: ["Message accepted for delivery"])))
    }

    // MARK: Addresses

    func testAddressesThatCouldInjectCommandsOrHeadersAreRefused() {
        XCTAssertNil(SMTPAddress.problem(with: "first.last+tag@mail.example.test"))
        for bad in [
            "", "no-at-sign", "two@@example.test", "a@b@c", "@example.test", "user@", "user name@example.test", "user@example.test>\r\nRCPT TO:<x@y",
            "müller@example.test", "user@.example.test", "user@example..test", "<user@example.test>", "\"quoted\"@example.test",
        ] {
            XCTAssertNotNil(SMTPAddress.problem(with: bad), bad)
        }
    }
}
