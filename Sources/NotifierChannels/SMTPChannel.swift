import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Notifier

/// Email over SMTP to a relay the operator runs or buys, so that email is tied to no provider's
/// HTTP API. Each message gets its own connection, so a failure never leaves a
/// half-used session behind for the next message and every attempt starts from the greeting.
///
/// What the relay says decides the outcome: a 2xx to the data is `accepted`, a 4xx reply, a
/// timeout or a lost connection is `retryable` (the relay asked to be tried later, or may have
/// been down), and a 5xx reply is `rejected`. So are TLS failures and refusals of the settings'
/// own rules (STARTTLS required but not offered, credentials that would go out in clear text):
/// no retry fixes those; the operator does, and the reason says how.
public struct SMTPChannel: DeliveryChannel {
    private let settings: SMTPSettings
    private let group: any EventLoopGroup
    private let tlsContext: NIOSSLContext?

    /// Checks the settings and loads the trust roots now, so that a bad setting stops start-up
    /// rather than failing every message. `eventLoopGroup` is borrowed, never shut down.
    public init(settings: SMTPSettings, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        guard !settings.host.isEmpty, !settings.host.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw SMTPConfigurationError("the SMTP host \"\(settings.host)\" is empty or has spaces or control characters")
        }
        guard (1...65535).contains(settings.port) else {
            throw SMTPConfigurationError("the SMTP port \(settings.port) is not between 1 and 65535")
        }
        if let problem = SMTPAddress.problem(with: settings.fromAddress) {
            throw SMTPConfigurationError("the SMTP from address \"\(settings.fromAddress)\" cannot be used: \(problem)")
        }
        guard SMTPAddress.isDomainLike(settings.messageIDDomain) else {
            throw SMTPConfigurationError("the Message-ID domain \"\(settings.messageIDDomain)\" must be letters, digits, hyphens and dots")
        }
        guard !settings.heloName.isEmpty, settings.heloName.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw SMTPConfigurationError("the EHLO name \"\(settings.heloName)\" must be printable ASCII without spaces")
        }
        guard (settings.username == nil) == (settings.password == nil) else {
            throw SMTPConfigurationError("the SMTP username and password must be given together")
        }
        guard settings.connectTimeout > .zero, settings.commandTimeout > .zero else {
            throw SMTPConfigurationError("the SMTP connect and command timeouts must be positive")
        }
        if let name = settings.fromName, name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw SMTPConfigurationError("the SMTP from name has control characters")
        }
        self.settings = settings
        self.group = eventLoopGroup
        if settings.security == .plain {
            tlsContext = nil
        } else {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let path = settings.trustRootsPEMPath {
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(path)
                } catch {
                    throw SMTPConfigurationError("the SMTP trust roots in \(path) could not be read: \(error)")
                }
                guard !certificates.isEmpty else {
                    throw SMTPConfigurationError("the SMTP trust roots file \(path) holds no PEM certificate")
                }
                configuration.trustRoots = .certificates(certificates)
            }
            do {
                tlsContext = try NIOSSLContext(configuration: configuration)
            } catch {
                throw SMTPConfigurationError("the TLS context for SMTP could not be created: \(error)")
            }
        }
    }

    /// The provider message id of an accepted message is the relay's queue id when its reply
    /// names one (what its logs know the message by), and otherwise the Message-ID header,
    /// angle brackets included.
    ///
    /// A timeout after the data is `retryable` although the relay may have taken the message:
    /// the retry carries the same Message-ID, by which receivers can drop the second copy.
    public func deliver(_ message: OutgoingMessage) async -> ProviderOutcome {
        guard message.channel == .email else {
            return .rejected(reason: "the SMTP channel sends email, not \(message.channel.rawValue) messages")
        }
        if let problem = SMTPAddress.problem(with: message.address) {
            return .rejected(reason: "invalid email address: \(problem)")
        }
        let content = SMTPMessage(
            message, fromAddress: settings.fromAddress, fromName: settings.fromName, messageIDDomain: settings.messageIDDomain,
            date: Date())
        do {
            let queueID = try await send(content, to: message.address)
            return .accepted(providerMessageID: queueID ?? content.messageID)
        } catch let failure as SMTPFailure {
            return outcome(of: failure)
        } catch {
            return .retryable(reason: "smtp \(server): \(error)", retryAfter: nil)
        }
    }

    private var server: String { "\(settings.host):\(settings.port)" }

    /// One conversation, greeting to QUIT; returns the queue id the relay named, if any.
    private func send(_ content: SMTPMessage, to recipient: String) async throws -> String? {
        let connection = try await SMTPConnection.open(
            host: settings.host, port: settings.port, group: group, connectTimeout: TimeAmount(settings.connectTimeout),
            commandTimeout: TimeAmount(settings.commandTimeout))
        defer { connection.close() }
        try expect(await connection.reply(awaiting: "the greeting"), [220], after: "the greeting")
        var extensions = try await greet(connection)
        var encrypted = false
        if let tlsContext {
            if extensions.offers("STARTTLS") {
                try expect(await connection.command("STARTTLS"), [220], after: "STARTTLS")
                let isAddress = (try? SocketAddress(ipAddress: settings.host, port: 0)) != nil
                try await connection.startTLS(context: tlsContext, serverHostname: isAddress ? nil : settings.host)
                encrypted = true
                extensions = try await greet(connection)
            } else if settings.security == .startTLSRequired {
                throw SMTPFailure.refused(
                    "smtp \(server) does not offer STARTTLS and the channel's security is startTLSRequired, so nothing was sent; "
                        + "enable STARTTLS on the relay or change the SMTP security setting")
            }
        }
        if let username = settings.username, let password = settings.password {
            guard encrypted || settings.security == .plain else {
                throw SMTPFailure.refused(
                    "smtp \(server) offered no STARTTLS, and the channel does not send its credentials in clear text, so nothing "
                        + "was sent; enable STARTTLS on the relay, or set security to plain for a relay on a trusted network")
            }
            try await authenticate(connection, username: username, password: password, extensions: extensions)
        }
        try expect(await connection.command("MAIL FROM:<\(settings.fromAddress)>", shownAs: "MAIL FROM"), [250], after: "MAIL FROM")
        try expect(await connection.command("RCPT TO:<\(recipient)>", shownAs: "RCPT TO"), [250, 251], after: "RCPT TO")
        try expect(await connection.command("DATA"), [354], after: "DATA")
        let accepted = try expect(
            await connection.send(SMTPMessage.dataBlock(content.bytes), shownAs: "the message data"), [250], after: "the message data")
        _ = try? await connection.command("QUIT")
        return SMTPQueueID.find(in: accepted)
    }

    /// EHLO, or HELO for a server that refuses EHLO (RFC 5321 3.2); HELO means no extensions.
    private func greet(_ connection: SMTPConnection) async throws -> SMTPExtensions {
        let ehlo = try await connection.command("EHLO \(settings.heloName)")
        if ehlo.code == 250 {
            return SMTPExtensions(ehlo: ehlo)
        }
        guard (500...599).contains(ehlo.code) else {
            throw SMTPFailure.reply(ehlo, after: "EHLO")
        }
        try expect(await connection.command("HELO \(settings.heloName)"), [250], after: "HELO")
        return SMTPExtensions()
    }

    /// AUTH PLAIN with an initial response, or AUTH LOGIN when PLAIN is not offered (RFC 4954).
    private func authenticate(_ connection: SMTPConnection, username: String, password: String, extensions: SMTPExtensions) async throws {
        let mechanisms = extensions.authMechanisms
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            let response = base64("\u{0}\(username)\u{0}\(password)")
            try expect(await connection.command("AUTH PLAIN \(response)", shownAs: "AUTH PLAIN"), [235], after: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            try expect(await connection.command("AUTH LOGIN"), [334], after: "AUTH LOGIN")
            try expect(await connection.command(base64(username), shownAs: "the AUTH LOGIN username"), [334], after: "the AUTH LOGIN username")
            try expect(await connection.command(base64(password), shownAs: "the AUTH LOGIN password"), [235], after: "the AUTH LOGIN password")
        } else {
            let offered = mechanisms.isEmpty ? "it offers no AUTH at all" : "it offers \(mechanisms.joined(separator: " "))"
            throw SMTPFailure.refused(
                "smtp \(server): credentials are configured but the relay offers neither AUTH PLAIN nor AUTH LOGIN (\(offered)), "
                    + "so nothing was sent")
        }
    }

    @discardableResult
    private func expect(_ reply: SMTPReply, _ codes: Set<Int>, after step: String) throws -> SMTPReply {
        guard codes.contains(reply.code) else {
            throw SMTPFailure.reply(reply, after: step)
        }
        return reply
    }

    private func outcome(of failure: SMTPFailure) -> ProviderOutcome {
        switch failure {
        case .connect(let detail):
            return .retryable(reason: "smtp \(server): could not connect: \(detail)", retryAfter: nil)
        case .timedOut(let detail):
            return .retryable(reason: "smtp \(server): \(detail)", retryAfter: nil)
        case .closed(let moment):
            return .retryable(reason: "smtp \(server) closed the connection \(moment)", retryAfter: nil)
        case .malformed(let detail):
            return .retryable(reason: "smtp \(server): \(detail)", retryAfter: nil)
        case .tls(let detail):
            let trust =
                settings.trustRootsPEMPath.map { "the CA certificates in \($0)" } ?? "the system's CA certificates (no trust roots file is set)"
            return .rejected(
                reason: "smtp \(server): the TLS handshake failed (\(detail)); the relay's certificate must be issued for "
                    + "\"\(settings.host)\" by a CA in \(trust): for a self-signed or private CA, set the SMTP trust roots "
                    + "to a PEM file of that CA's certificate")
        case .refused(let reason):
            return .rejected(reason: reason)
        case .reply(let reply, let step):
            let reason = "smtp \(reply.summary) (after \(step), \(server))"
            switch reply.code {
            case 400...499: return .retryable(reason: reason, retryAfter: nil)
            case 500...599: return .rejected(reason: reason)
            default: return .retryable(reason: "unexpected \(reason)", retryAfter: nil)
            }
        }
    }
}
