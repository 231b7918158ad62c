import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LiaisonSinks
import Notifier
import NotifierChannels
import XCTest

/// `SMTPSink` here is this target's aiosmtpd wrapper; the Swift relay is LiaisonSinks'.
private typealias MailSink = LiaisonSinks.SMTPSink

/// The email channel against LiaisonSinks' SMTP server, and that server spoken to directly.
final class SMTPSinkTests: XCTestCase {
    private var sinks: [MailSink] = []

    override func tearDown() async throws {
        for sink in sinks {
            await sink.stop()
        }
        sinks = []
    }

    private func startSink(_ configuration: MailSink.Configuration = .init()) async throws -> MailSink {
        let sink = MailSink(configuration)
        try await sink.start()
        sinks.append(sink)
        return sink
    }

    private let utf8Subject = "Ihre Reise nach Zürich: Änderung – 您的航班已更改"
    private let text = "Guten Tag Frau Müller,\n\nIhr Flug LX 1234 startet um 07:05 Uhr.\n您的航班已更改。\n\nBeste Grüße"
    private let html = "<p>Guten Tag Frau M&uuml;ller,</p>\n<p>Ihr Flug <b>LX 1234</b> startet um 07:05 Uhr. 您的航班已更改。</p>"

    private func message(action: String = "action-1", to address: String = "kunde@example.test", subject: String? = nil)
        -> OutgoingMessage
    {
        OutgoingMessage(
            actionID: action, idempotencyKey: "\(action)|email", channel: .email, customerID: "c-42", address: address,
            subject: subject ?? utf8Subject, text: text, html: html, locale: "de-CH", metadata: ["template": "flight-change"])
    }

    private func channel(
        _ sink: MailSink, commandTimeout: Duration = .seconds(10), username: String? = nil, password: String? = nil
    ) throws -> SMTPChannel {
        try SMTPChannel(
            settings: SMTPSettings(
                host: "127.0.0.1", port: sink.port, security: .plain, username: username, password: password,
                fromAddress: "notify@liaison.test", fromName: "Liaison Bank – Kundendienst", heloName: "liaison.test",
                connectTimeout: .seconds(5), commandTimeout: commandTimeout, messageIDDomain: "liaison.test"))
    }

    private func expectedMessageID(_ key: String) -> String {
        "<" + SHA256.hash(data: Array(key.utf8)).map { String(format: "%02x", $0) }.joined() + "@liaison.test>"
    }

    // MARK: The channel delivering

    func testMultipartMessageArrivesWithItsEnvelopeSubjectAndMessageID() async throws {
        let sink = try await startSink()
        let outcome = try await channel(sink).deliver(message())

        let mail = try XCTUnwrap(sink.messages.first)
        XCTAssertEqual(sink.messages.count, 1)
        XCTAssertEqual(outcome, .accepted(providerMessageID: mail.queueID))
        XCTAssertEqual(mail.from, "notify@liaison.test")
        XCTAssertEqual(mail.recipients, ["kunde@example.test"])
        XCTAssertEqual(mail.subject, utf8Subject)
        XCTAssertTrue(mail.header("Subject")?.hasPrefix("=?UTF-8?B?") ?? false, mail.header("Subject") ?? "no Subject")
        XCTAssertEqual(mail.messageID, expectedMessageID("action-1|email"))
        XCTAssertEqual(mail.header("To"), "kunde@example.test")
        XCTAssertEqual(mail.header("X-Liaison-Action-Id"), "action-1")
        XCTAssertNil(mail.authenticatedUser)

        let contentType = try XCTUnwrap(mail.header("Content-Type"))
        XCTAssertTrue(contentType.hasPrefix("multipart/alternative; boundary="), contentType)
        let boundary = String(contentType.split(separator: "\"")[1])
        let parts = mail.body.components(separatedBy: "--\(boundary)")
        XCTAssertEqual(parts.count, 4, mail.data)  // preamble, two parts, the closing "--"
        guard parts.count == 4 else { return }
        XCTAssertEqual(parts[3], "--\r\n")
        for (part, contentType, content) in [(parts[1], "text/plain", text), (parts[2], "text/html", html)] {
            XCTAssertTrue(part.hasPrefix("\r\n"))
            let mime = ReceivedMail(from: "", recipients: [], data: String(part.drop { $0 == "\r\n" }))
            XCTAssertEqual(mime.header("Content-Type"), "\(contentType); charset=utf-8")
            XCTAssertEqual(mime.header("Content-Transfer-Encoding"), "quoted-printable")
            XCTAssertEqual(decodeQuotedPrintable(mime.body).replacingOccurrences(of: "\r\n", with: "\n"), content + "\n")
        }
    }

    func testASCIISubjectArrivesAsWritten() async throws {
        let sink = try await startSink()
        let subject = "Your flight LX 1234 on 14 March has a new departure time: 07:05 instead of 06:40, gate B12"
        _ = try await channel(sink).deliver(message(subject: subject))

        let mail = try XCTUnwrap(sink.messages.first)
        XCTAssertEqual(mail.subject, subject)
        XCTAssertTrue(mail.data.contains("Subject: Your flight"), mail.data)
    }

    func testSameActionDeliveredAgainCountsAsADuplicate() async throws {
        let sink = try await startSink()
        let channel = try channel(sink)
        for action in ["action-7", "action-7", "action-8"] {
            let outcome = await channel.deliver(message(action: action))
            guard case .accepted = outcome else { return XCTFail("expected accepted, got \(outcome)") }
        }

        XCTAssertEqual(sink.messages.compactMap(\.messageID), ["action-7", "action-7", "action-8"].map { expectedMessageID("\($0)|email") })
        XCTAssertEqual(Set(sink.messages.map(\.queueID)).count, 3, "every message taken gets its own queue id")
        XCTAssertEqual(sink.messageCount, 3)
        XCTAssertEqual(sink.acceptedCount, 2)
        XCTAssertEqual(sink.duplicateCount, 1)
    }

    func testScriptedTempFailIsRetryableRejectIsRejectedThenTheSinkAcceptsAgain() async throws {
        let sink = try await startSink()
        sink.script([.tempFail, .reject])
        let channel = try channel(sink)

        let first = await channel.deliver(message(action: "action-1"))
        guard case .retryable(let reason, _) = first else { return XCTFail("expected retryable, got \(first)") }
        XCTAssertTrue(reason.hasPrefix("smtp 451 4.3.0"), reason)
        XCTAssertTrue(reason.contains("after the message data"), reason)

        let second = await channel.deliver(message(action: "action-2"))
        guard case .rejected(let rejection) = second else { return XCTFail("expected rejected, got \(second)") }
        XCTAssertTrue(rejection.hasPrefix("smtp 554 5.6.0"), rejection)

        let third = await channel.deliver(message(action: "action-3"))
        guard case .accepted = third else { return XCTFail("expected accepted once the script ran out, got \(third)") }
        XCTAssertEqual(sink.messages.compactMap(\.messageID), [expectedMessageID("action-3|email")])
        XCTAssertEqual(sink.acceptedCount, 1)
    }

    func testStallBeyondTheClientsTimeoutIsRetryableAndTheRetryADuplicate() async throws {
        let sink = try await startSink()
        sink.script([.stall(.seconds(4))])
        let channel = try channel(sink, commandTimeout: .seconds(1))

        let started = ContinuousClock.now
        let first = await channel.deliver(message())
        guard case .retryable(let reason, _) = first else { return XCTFail("expected retryable, got \(first)") }
        XCTAssertTrue(reason.hasSuffix("nothing from the server within 1 s while waiting for the reply to the message data"), reason)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4))

        let retry = await channel.deliver(message())
        guard case .accepted = retry else { return XCTFail("expected the retry accepted, got \(retry)") }
        XCTAssertEqual(sink.messageCount, 2)
        XCTAssertEqual(sink.acceptedCount, 1)
        XCTAssertEqual(sink.duplicateCount, 1, "the stalled message was taken, so the customer got it twice")
    }

    func testCredentialsAreAcceptedWhenTheSinkOffersAuth() async throws {
        let sink = try await startSink(.init(acceptsAuth: true))
        let outcome = try await channel(sink, username: "liaison", password: "s3cret-pässword").deliver(message())

        guard case .accepted = outcome else { return XCTFail("expected accepted, got \(outcome)") }
        XCTAssertEqual(sink.messages.first?.authenticatedUser, "liaison")
    }

    func testCredentialsFailWhenTheSinkOffersNoAuth() async throws {
        let sink = try await startSink()
        let outcome = try await channel(sink, username: "liaison", password: "secret").deliver(message())

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.contains("neither AUTH PLAIN nor AUTH LOGIN"), reason)
        XCTAssertEqual(sink.messageCount, 0)
    }

    // MARK: The protocol, spoken directly

    func testCommandsOutOfSequenceAreRefusedAndDotsAreUnstuffed() async throws {
        let sink = try await startSink()
        let port = sink.port
        let codes = try await onThread {
            let client = try RawSMTPClient(port: port)
            defer { client.close() }
            var codes = [try client.reply()]
            for line in [
                "DATA", "MAIL FROM:<a@example.test>", "EHLO raw.test", "RCPT TO:<b@example.test>", "DATA", "MAIL FROM:<a@example.test>",
                "MAIL FROM:<again@example.test>", "DATA", "RCPT TO:<b@example.test>", "RCPT TO: <c@example.test>", "DATA",
            ] {
                codes.append(try client.command(line))
            }
            // Stuffed as a client must: every line starting with a dot gets one more.
            try client.send("Subject: dots\r\nMessage-ID: <raw-1@example.test>\r\n\r\n..one dot\r\n...two dots\r\n..\r\n.\r\n")
            codes.append(try client.reply())
            for line in [
                "NOOP", "VRFY b", "HELP", "STARTTLS", "AUTH PLAIN AGxpYWlzb24AeA==", "FROB", "RSET", "RCPT TO:<b@example.test>", "QUIT",
            ] {
                codes.append(try client.command(line))
            }
            return codes
        }
        XCTAssertEqual(
            codes,
            [
                220, 503, 503, 250, 503, 503, 250, 503, 503, 250, 250, 354, 250, 250, 252, 214, 502, 502, 500, 250, 503, 221,
            ])
        let mail = try XCTUnwrap(sink.messages.first)
        XCTAssertEqual(mail.from, "a@example.test")
        XCTAssertEqual(mail.recipients, ["b@example.test", "c@example.test"])
        XCTAssertEqual(mail.data, "Subject: dots\r\nMessage-ID: <raw-1@example.test>\r\n\r\n.one dot\r\n..two dots\r\n.\r\n")
        XCTAssertEqual(mail.body, ".one dot\r\n..two dots\r\n.\r\n")
        XCTAssertEqual(mail.messageID, "<raw-1@example.test>")
        XCTAssertEqual(mail.subject, "dots")
    }

    func testEHLOAnnouncesSizeAndPipelinedCommandsAreAnsweredInOrder() async throws {
        let sink = try await startSink(.init(maximumMessageSize: 4096))
        let port = sink.port
        let (ehlo, codes) = try await onThread {
            let client = try RawSMTPClient(port: port)
            defer { client.close() }
            _ = try client.reply()
            try client.send("EHLO raw.test\r\n")
            let ehlo = try client.replyLines()
            try client.send("MAIL FROM:<> BODY=8BITMIME SIZE=100\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
            var codes = [try client.reply(), try client.reply(), try client.reply()]
            try client.send("Subject: =?utf-8?q?caf=C3=A9_=E2=98=95?=\r\n\r\nbody\r\n.\r\nQUIT\r\n")
            codes += [try client.reply(), try client.reply()]
            return (ehlo, codes)
        }
        XCTAssertEqual(ehlo.first?.prefix(4), "250-")
        XCTAssertTrue(ehlo.contains("250-SIZE 4096"), "\(ehlo)")
        XCTAssertTrue(ehlo.contains { $0.hasSuffix("8BITMIME") }, "\(ehlo)")
        XCTAssertFalse(ehlo.contains { $0.contains("STARTTLS") || $0.contains("AUTH") }, "\(ehlo)")
        XCTAssertEqual(codes, [250, 250, 354, 250, 221])
        XCTAssertEqual(sink.messages.first?.from, "")
        XCTAssertEqual(sink.messages.first?.subject, "café ☕")
    }

    func testAuthLoginIsAcceptedStepByStep() async throws {
        let sink = try await startSink(.init(acceptsAuth: true))
        let port = sink.port
        let (ehlo, codes) = try await onThread {
            let client = try RawSMTPClient(port: port)
            defer { client.close() }
            _ = try client.reply()
            try client.send("EHLO raw.test\r\n")
            let ehlo = try client.replyLines()
            var codes: [Int] = []
            for line in [
                "AUTH CRAM-MD5", "AUTH LOGIN", "*", "AUTH LOGIN", Data("ops".utf8).base64EncodedString(),
                Data("pässword".utf8).base64EncodedString(), "AUTH PLAIN AGxpYWlzb24AeA==", "MAIL FROM:<a@example.test>",
                "RCPT TO:<b@example.test>", "DATA",
            ] {
                codes.append(try client.command(line))
            }
            try client.send("Subject: signed in\r\n\r\nbody\r\n.\r\n")
            codes.append(try client.reply())
            return (ehlo, codes)
        }
        XCTAssertTrue(ehlo.contains("250 AUTH PLAIN LOGIN"), "\(ehlo)")
        XCTAssertEqual(codes, [504, 334, 501, 334, 334, 235, 503, 250, 250, 354, 250])
        XCTAssertEqual(sink.messages.first?.authenticatedUser, "ops")
    }

    func testLongLinesAndLargeMessagesAreRefused() async throws {
        let sink = try await startSink(.init(maximumMessageSize: 2000))
        let port = sink.port
        let codes = try await onThread {
            let client = try RawSMTPClient(port: port)
            defer { client.close() }
            var codes = [try client.reply(), try client.command("EHLO raw.test")]
            codes.append(try client.command("NOOP " + String(repeating: "x", count: 600)))
            codes.append(try client.command("MAIL FROM:<a@example.test> SIZE=5000"))
            func send(_ data: String) throws {
                for line in ["MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"] {
                    codes.append(try client.command(line))
                }
                try client.send(data + ".\r\n")
                codes.append(try client.reply())
            }
            try send(String(repeating: "y", count: 100) + "\r\n")
            try send(String(repeating: "y", count: 1200) + "\r\n")
            try send(String(repeating: String(repeating: "z", count: 70) + "\r\n", count: 40))
            codes.append(try client.command("NOOP"))
            return codes
        }
        XCTAssertEqual(codes, [220, 250, 500, 552, 250, 250, 354, 250, 250, 250, 354, 500, 250, 250, 354, 552, 250])
        XCTAssertEqual(sink.messageCount, 1, "only the first, short message was taken")
    }

    func testConnectionsAreServedConcurrently() async throws {
        let sink = try await startSink()
        let port = sink.port
        let codes = try await onThread {
            let first = try RawSMTPClient(port: port)
            let second = try RawSMTPClient(port: port)
            defer {
                first.close()
                second.close()
            }
            var codes = [try first.reply(), try second.reply()]
            for (client, line) in [
                (first, "HELO one.test"), (second, "HELO two.test"), (first, "MAIL FROM:<one@example.test>"),
                (second, "MAIL FROM:<two@example.test>"), (second, "RCPT TO:<x@example.test>"), (first, "RCPT TO:<x@example.test>"),
                (second, "DATA"), (first, "DATA"),
            ] {
                codes.append(try client.command(line))
            }
            try first.send("Message-ID: <one@example.test>\r\n\r\none\r\n.\r\n")
            codes.append(try first.reply())
            try second.send("Message-ID: <two@example.test>\r\n\r\ntwo\r\n.\r\n")
            codes.append(try second.reply())
            return codes
        }
        XCTAssertEqual(codes, [220, 220, 250, 250, 250, 250, 250, 250, 354, 354, 250, 250])
        XCTAssertEqual(sink.messages.map(\.from), ["one@example.test", "two@example.test"])
        XCTAssertEqual(sink.acceptedCount, 2)
    }

    // MARK: Lifecycle

    func testAPortInUseFailsStartWithTheAddress() async throws {
        let first = try await startSink()
        let second = MailSink(.init(port: first.port))
        do {
            try await second.start()
            await second.stop()
            XCTFail("a second sink started on the same port")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot listen on 127.0.0.1:\(first.port)"), "\(error)")
        }
    }

    func testStopClosesOpenAndStalledConnections() async throws {
        let sink = MailSink()
        try await sink.start()
        sink.script([.stall(.seconds(600))])
        let port = sink.port
        let stalled = Task {
            try await onThread {
                let client = try RawSMTPClient(port: port, timeout: 30)
                defer { client.close() }
                _ = try client.reply()
                for line in ["HELO raw.test", "MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"] {
                    _ = try client.command(line)
                }
                try client.send("\r\nstalled\r\n.\r\n")
                return try client.readToEnd()
            }
        }
        let idle = try await onThread {
            let client = try RawSMTPClient(port: port, timeout: 30)
            _ = try client.reply()
            return client
        }
        defer { idle.close() }
        let deadline = ContinuousClock.now + .seconds(10)
        while sink.messageCount == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(sink.messageCount, 1, "the stalled message is taken before its reply")

        let started = ContinuousClock.now
        await sink.stop()
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        let unanswered = try await stalled.value
        XCTAssertEqual(unanswered, "", "no reply was sent to the stalled message")
        let idleRest = try await onThread { try idle.readToEnd() }
        XCTAssertEqual(idleRest, "", "the idle connection was closed")
        XCTAssertEqual(sink.messages.count, 1)
    }

    func testEncodedWordsInSubjectsAreDecoded() {
        func subject(_ field: String) -> String? {
            ReceivedMail(from: "", recipients: [], data: "Subject: \(field)\r\n\r\n").subject
        }
        XCTAssertEqual(subject("plain words"), "plain words")
        XCTAssertEqual(subject("=?UTF-8?B?w6Q=?= =?UTF-8?B?w7Y=?=\r\n =?utf-8?Q?_und_=C3=BC?="), "äö und ü")
        XCTAssertEqual(subject("=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?= 5"), "€ 5", "a character split across words is joined")
        XCTAssertEqual(subject("Re: =?utf-8?q?Gr=C3=BC=C3=9Fe?= again"), "Re: Grüße again")
        XCTAssertEqual(subject("=?ISO-8859-1?Q?caf=E9?="), "=?ISO-8859-1?Q?caf=E9?=", "unknown charsets stay as sent")
        XCTAssertNil(ReceivedMail(from: "", recipients: [], data: "\r\nSubject: body, not header\r\n").subject)
    }
}

// MARK: Helpers

/// Quoted-printable (RFC 2045 6.7) back to text: soft line breaks removed, `=XX` as bytes.
private func decodeQuotedPrintable(_ text: String) -> String {
    var bytes: [UInt8] = []
    let input = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
    var index = 0
    while index < input.count {
        if input[index] == UInt8(ascii: "="), index + 2 < input.count,
            let byte = UInt8(String(decoding: input[index + 1...index + 2], as: UTF8.self), radix: 16)
        {
            bytes.append(byte)
            index += 3
        } else {
            bytes.append(input[index])
            index += 1
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Runs blocking socket work on a thread of its own, so it never holds one of the few threads
/// the sink's connection tasks run on.
private func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A blocking SMTP client over a plain socket, to say what the channel never would.
private final class RawSMTPClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: Int32
    private var buffered: [UInt8] = []

    init(port: Int, timeout: Int = 10) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(reason)")
        }
    }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(sent)
        }
    }

    func command(_ line: String) throws -> Int {
        try send(line + "\r\n")
        return try reply()
    }

    /// The code of the next reply.
    func reply() throws -> Int {
        let lines = try replyLines()
        return Int(lines.last?.prefix(3) ?? "") ?? 0
    }

    /// The lines of the next reply, up to the one with a space after its code.
    func replyLines() throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try readLine()
            lines.append(line)
            if line.count < 4 || Array(line)[3] == " " { return lines }
        }
    }

    /// Everything until the server closes the connection.
    func readToEnd() throws -> String {
        while try fill() {}
        defer { buffered = [] }
        return String(decoding: buffered, as: UTF8.self)
    }

    func close() {
        Glibc.close(descriptor)
    }

    private func readLine() throws -> String {
        while true {
            if let end = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffered[..<end]
                buffered.removeSubrange(...end)
                return String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
            }
            guard try fill() else { throw Failure(description: "the server closed the connection") }
        }
    }

    /// Reads what is there; false once the server closed the connection.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv: \(String(cString: strerror(errno))) (nothing within the timeout?)")
        }
        buffered += chunk[..<count]
        return count > 0
    }
}
