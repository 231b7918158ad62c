import Crypto
import Foundation
import Notifier
import NotifierChannels
import XCTest

/// The email channel against a real SMTP server (aiosmtpd) on loopback.
final class SMTPChannelTests: XCTestCase {
    private var sinks: [SMTPSink] = []

    override func tearDown() {
        for sink in sinks {
            sink.stop()
        }
        sinks = []
        super.tearDown()
    }

    private func startSink(_ options: SMTPSink.Options = SMTPSink.Options()) throws -> SMTPSink {
        let sink = try SMTPSink(options)
        sinks.append(sink)
        return sink
    }

    private let subject = "Ihre Reise nach Zürich: Änderung – 您的航班已更改"
    private let text = "Guten Tag Frau Müller,\n\nIhr Flug LX 1234 startet um 07:05 Uhr.\n您的航班已更改。\n\nBeste Grüße"
    private let html = "<p>Guten Tag Frau M&uuml;ller,</p>\n<p>Ihr Flug <b>LX 1234</b> startet um 07:05 Uhr. 您的航班已更改。</p>"

    private func message(to address: String = "kunde@example.test", action: String = "action-1", html: String?? = .none)
        -> OutgoingMessage
    {
        OutgoingMessage(
            actionID: action, idempotencyKey: "\(action)|email", channel: .email, customerID: "c-42", address: address,
            subject: subject, text: text, html: html ?? self.html, locale: "de-CH",
            metadata: ["template": "flight-change", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
    }

    private func settings(
        _ sink: SMTPSink, security: SMTPSecurity = .startTLSRequired, password: String? = SMTPSink.password, trusted: Bool = true,
        commandTimeout: Duration = .seconds(10)
    ) -> SMTPSettings {
        SMTPSettings(
            host: "127.0.0.1", port: sink.port, security: security, username: password == nil ? nil : SMTPSink.username,
            password: password, fromAddress: "notify@liaison.test", fromName: "Liaison Bank – Kundendienst", heloName: "liaison.test",
            trustRootsPEMPath: trusted ? sink.caPath : nil, connectTimeout: .seconds(5), commandTimeout: commandTimeout,
            messageIDDomain: "liaison.test")
    }

    private func expectedMessageID(_ key: String) -> String {
        "<" + SHA256.hash(data: Array(key.utf8)).map { String(format: "%02x", $0) }.joined() + "@liaison.test>"
    }

    private func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    // MARK: Delivered

    func testDeliversMultipartMessageOverSTARTTLSWithAuthPlain() async throws {
        let sink = try startSink(SMTPSink.Options(requiresAuth: true))
        let channel = try SMTPChannel(settings: settings(sink))
        let outcome = await channel.deliver(message())

        let mails = try sink.received()
        XCTAssertEqual(mails.count, 1, sink.log)
        let mail = try XCTUnwrap(mails.first)
        XCTAssertEqual(outcome, .accepted(providerMessageID: mail.queueID))
        XCTAssertTrue(mail.tls)
        XCTAssertTrue(mail.authenticated)
        XCTAssertEqual(mail.mailFrom, "notify@liaison.test")
        XCTAssertEqual(mail.rcptTos, ["kunde@example.test"])
        XCTAssertEqual(mail.defects, [])
        XCTAssertEqual(mail.header("Subject"), subject)
        XCTAssertEqual(mail.header("From"), "Liaison Bank – Kundendienst <notify@liaison.test>")
        XCTAssertEqual(mail.header("To"), "kunde@example.test")
        XCTAssertEqual(mail.header("Message-ID"), expectedMessageID("action-1|email"))
        XCTAssertEqual(mail.header("X-Liaison-Action-Id"), "action-1")
        XCTAssertEqual(mail.header("X-Liaison-Idempotency-Key"), "action-1|email")
        XCTAssertEqual(mail.header("X-Liaison-Meta-template"), "flight-change")
        XCTAssertEqual(mail.header("Content-Language"), "de-CH")
        XCTAssertEqual(mail.header("MIME-Version"), "1.0")
        XCTAssertNotNil(mail.header("Date"))
        XCTAssertEqual(mail.contentType, "multipart/alternative")
        XCTAssertEqual(mail.parts.map(\.contentType), ["text/plain", "text/html"])
        XCTAssertEqual(mail.parts.map(\.charset), ["utf-8", "utf-8"])
        XCTAssertEqual(normalized(mail.parts[0].content), text)
        XCTAssertEqual(normalized(mail.parts[1].content), html)
    }

    func testAuthenticatesWithLoginWhenPlainIsNotOffered() async throws {
        let sink = try startSink(SMTPSink.Options(requiresAuth: true, offersPlain: false))
        let outcome = try await SMTPChannel(settings: settings(sink)).deliver(message())

        let mail = try XCTUnwrap(try sink.received().first, sink.log)
        XCTAssertEqual(outcome, .accepted(providerMessageID: mail.queueID))
        XCTAssertTrue(mail.authenticated)
    }

    func testTextOnlyMessageIsSinglePart() async throws {
        let sink = try startSink()
        let outcome = try await SMTPChannel(settings: settings(sink, password: nil)).deliver(message(html: .some(nil)))

        let mail = try XCTUnwrap(try sink.received().first, sink.log)
        XCTAssertEqual(outcome, .accepted(providerMessageID: mail.queueID))
        XCTAssertTrue(mail.tls)
        XCTAssertFalse(mail.authenticated)
        XCTAssertEqual(mail.contentType, "text/plain")
        XCTAssertEqual(mail.parts.count, 1)
        XCTAssertEqual(normalized(mail.parts[0].content), text + "\n")
        XCTAssertEqual(mail.defects, [])
    }

    func testSameActionGetsTheSameMessageIDOnEveryAttempt() async throws {
        let sink = try startSink()
        let channel = try SMTPChannel(settings: settings(sink))
        for _ in 0..<2 {
            _ = await channel.deliver(message(action: "action-7"))
        }
        _ = await channel.deliver(message(action: "action-8"))

        let ids = try sink.received().map { $0.header("Message-ID") }
        XCTAssertEqual(ids, [expectedMessageID("action-7|email"), expectedMessageID("action-7|email"), expectedMessageID("action-8|email")])
    }

    func testBodyLinesStartingWithADotSurvive() async throws {
        let sink = try startSink()
        let dotted = ".\n.hidden line\n..two dots\nend.\n."
        var outgoing = message(html: .some(".\n<p>.html</p>"))
        outgoing.text = dotted
        let outcome = try await SMTPChannel(settings: settings(sink)).deliver(outgoing)

        let mail = try XCTUnwrap(try sink.received().first, sink.log)
        XCTAssertEqual(outcome, .accepted(providerMessageID: mail.queueID))
        XCTAssertEqual(normalized(mail.parts[0].content), dotted)
        XCTAssertEqual(normalized(mail.parts[1].content), ".\n<p>.html</p>")
        XCTAssertTrue(mail.raw.contains("\r\n.hidden line\r\n..two dots\r\n"), mail.raw)
    }

    func testPlainSecuritySendsWithoutTLS() async throws {
        let sink = try startSink(SMTPSink.Options(offersSTARTTLS: false, requiresAuth: true))
        let outcome = try await SMTPChannel(settings: settings(sink, security: .plain)).deliver(message())

        let mail = try XCTUnwrap(try sink.received().first, sink.log)
        XCTAssertEqual(outcome, .accepted(providerMessageID: mail.queueID))
        XCTAssertFalse(mail.tls)
        XCTAssertTrue(mail.authenticated)
    }

    func testFallsBackToHELOWhenEHLOIsRefused() async throws {
        let sink = try startSink(SMTPSink.Options(mode: .helo))
        let outcome = try await SMTPChannel(settings: settings(sink, security: .startTLSIfOffered, password: nil)).deliver(message())

        XCTAssertEqual(outcome, .accepted(providerMessageID: "1uQx7Z-000Abc-9Q"))
    }

    // MARK: Retryable

    func testTemporaryFailureIsRetryableWithTheServersReply() async throws {
        let sink = try startSink()
        let outcome = try await SMTPChannel(settings: settings(sink)).deliver(message(to: "tempfail@example.test"))

        guard case .retryable(let reason, _) = outcome else { return XCTFail("expected retryable, got \(outcome)") }
        XCTAssertTrue(reason.hasPrefix("smtp 451 4.3.0 Mailbox temporarily unavailable, try later"), reason)
        XCTAssertTrue(reason.contains("RCPT TO"), reason)
        XCTAssertEqual(try sink.received().count, 0)
    }

    func testSilentServerIsRetryableWithinTheCommandTimeout() async throws {
        let sink = try startSink(SMTPSink.Options(mode: .silent))
        let started = ContinuousClock.now
        let outcome = try await SMTPChannel(settings: settings(sink, commandTimeout: .seconds(1))).deliver(message())
        let elapsed = ContinuousClock.now - started

        guard case .retryable(let reason, _) = outcome else { return XCTFail("expected retryable, got \(outcome)") }
        XCTAssertTrue(reason.contains("nothing from the server within 1 s while waiting for the greeting"), reason)
        XCTAssertLessThan(elapsed, .seconds(4))
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(900))
    }

    func testServerThatStopsAnsweringMidConversationIsRetryable() async throws {
        let sink = try startSink()
        let started = ContinuousClock.now
        let outcome = try await SMTPChannel(settings: settings(sink, commandTimeout: .seconds(2))).deliver(message(to: "hang@example.test"))

        guard case .retryable(let reason, _) = outcome else { return XCTFail("expected retryable, got \(outcome)") }
        XCTAssertTrue(reason.hasSuffix("nothing from the server within 2 s while waiting for the reply to RCPT TO"), reason)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(8))
    }

    func testClearTextAfterTheSTARTTLSReplyEndsTheConversation() async throws {
        let sink = try startSink(SMTPSink.Options(mode: .inject))
        let outcome = try await SMTPChannel(settings: settings(sink, password: nil)).deliver(message())

        guard case .retryable(let reason, _) = outcome else { return XCTFail("expected retryable, got \(outcome)") }
        XCTAssertTrue(reason.hasSuffix("the server sent more after its 220 to STARTTLS, in clear text"), reason)
    }

    func testNothingListeningIsRetryable() async throws {
        let port = try Self.unusedPort()
        let settings = SMTPSettings(
            host: "127.0.0.1", port: port, fromAddress: "notify@liaison.test", connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        let outcome = try await SMTPChannel(settings: settings).deliver(message())

        guard case .retryable(let reason, _) = outcome else { return XCTFail("expected retryable, got \(outcome)") }
        XCTAssertTrue(reason.contains("could not connect"), reason)
        XCTAssertTrue(reason.contains("127.0.0.1:\(port)"), reason)
    }

    // MARK: Rejected

    func testPermanentFailureIsRejected() async throws {
        let sink = try startSink()
        let outcome = try await SMTPChannel(settings: settings(sink)).deliver(message(to: "reject@example.test"))

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.hasPrefix("smtp 550 5.1.1 Mailbox unavailable: no such user here"), reason)
        XCTAssertEqual(try sink.received().count, 0)
    }

    func testWrongPasswordIsRejected() async throws {
        let sink = try startSink(SMTPSink.Options(requiresAuth: true))
        let outcome = try await SMTPChannel(settings: settings(sink, password: "wrong")).deliver(message())

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.hasPrefix("smtp 535"), reason)
        XCTAssertTrue(reason.contains("AUTH PLAIN"), reason)
        XCTAssertFalse(reason.contains("wrong"), reason)
        XCTAssertEqual(try sink.received().count, 0)
    }

    func testRequiredSTARTTLSThatIsNotOfferedSendsNothing() async throws {
        let sink = try startSink(SMTPSink.Options(offersSTARTTLS: false))
        let outcome = try await SMTPChannel(settings: settings(sink, security: .startTLSRequired, password: nil)).deliver(message())

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.contains("does not offer STARTTLS"), reason)
        XCTAssertTrue(reason.contains("nothing was sent"), reason)
        XCTAssertEqual(try sink.received().count, 0)
    }

    func testCredentialsAreNeverSentInClearText() async throws {
        let sink = try startSink(SMTPSink.Options(offersSTARTTLS: false))
        let outcome = try await SMTPChannel(settings: settings(sink, security: .startTLSIfOffered)).deliver(message())

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.contains("clear text"), reason)
        XCTAssertEqual(try sink.received().count, 0)
    }

    func testUntrustedCertificateIsRejectedWithAdviceOnTrustRoots() async throws {
        let sink = try startSink()
        let outcome = try await SMTPChannel(settings: settings(sink, trusted: false)).deliver(message())

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.contains("TLS handshake failed"), reason)
        XCTAssertTrue(reason.contains("trust roots"), reason)
        XCTAssertEqual(try sink.received().count, 0)
    }

    func testInvalidAddressIsRejectedWithoutConnecting() async throws {
        let settings = SMTPSettings(host: "127.0.0.1", port: try Self.unusedPort(), fromAddress: "notify@liaison.test")
        let outcome = try await SMTPChannel(settings: settings).deliver(message(to: "kunde@example.test>\r\nRCPT TO:<other@example.test"))

        guard case .rejected(let reason) = outcome else { return XCTFail("expected rejected, got \(outcome)") }
        XCTAssertTrue(reason.hasPrefix("invalid email address"), reason)
    }

    // MARK: Settings

    func testBadSettingsFailWhenTheChannelIsCreated() throws {
        XCTAssertThrowsError(try SMTPChannel(settings: SMTPSettings(host: "relay.test", fromAddress: "not an address")))
        XCTAssertThrowsError(try SMTPChannel(settings: SMTPSettings(host: "relay.test", username: "u", fromAddress: "a@b.test")))
        XCTAssertThrowsError(
            try SMTPChannel(settings: SMTPSettings(host: "relay.test", fromAddress: "a@b.test", trustRootsPEMPath: "/nonexistent/ca.pem"))
        ) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/ca.pem"), "\(error)")
        }
        XCTAssertEqual(SMTPSettings(host: "relay.test", fromAddress: "a@bank.test").messageIDDomain, "bank.test")
        XCTAssertNoThrow(try SMTPChannel(settings: SMTPSettings(host: "relay.test", fromAddress: "a@bank.test")))
    }

    /// A loopback port nothing listens on: bound by the kernel's choice, then released.
    private static func unusedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EBADF) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
