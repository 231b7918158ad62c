/// Whether the conversation with the relay is encrypted. Relays differ: a provider's submission
/// port offers STARTTLS, a local relay on loopback may not, and a deployment that must never
/// send mail or credentials in clear text says so rather than trusting whatever the server offers.
public enum SMTPSecurity: Sendable, Equatable {
    /// Encrypt when the server offers STARTTLS, send in clear text when it does not. Credentials
    /// are still never sent in clear text.
    case startTLSIfOffered
    /// Send nothing unless the server offers STARTTLS and the handshake succeeds.
    case startTLSRequired
    /// Never encrypt, and send credentials in clear text if configured: only for a relay on a
    /// network the operator trusts (a sidecar, a local test server).
    case plain
}

/// Everything the email channel needs to know about its relay. Defaults suit a submission
/// server on port 587; the channel checks the values once, when it is created, so that a wrong
/// setting stops the notifier at start-up instead of failing every message.
public struct SMTPSettings: Sendable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    /// Credentials for AUTH PLAIN (or LOGIN when PLAIN is not offered); both or neither.
    public var username: String?
    public var password: String?
    /// The envelope sender and the From header's address.
    public var fromAddress: String
    /// The From header's display name, encoded when it is not ASCII.
    public var fromName: String?
    /// The name the channel gives itself in EHLO; relays that check it want the host's own name.
    public var heloName: String
    /// A PEM file of the CA certificates to trust instead of the system's, for a relay whose
    /// certificate is self-signed or issued by a private CA.
    public var trustRootsPEMPath: String?
    public var connectTimeout: Duration
    /// How long to wait for each reply, the one after the message's data included.
    public var commandTimeout: Duration
    /// The right-hand side of every Message-ID; the domain of `fromAddress` unless given.
    public var messageIDDomain: String

    public init(
        host: String,
        port: Int = 587,
        security: SMTPSecurity = .startTLSIfOffered,
        username: String? = nil,
        password: String? = nil,
        fromAddress: String,
        fromName: String? = nil,
        heloName: String = "localhost",
        trustRootsPEMPath: String? = nil,
        connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(60),
        messageIDDomain: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.heloName = heloName
        self.trustRootsPEMPath = trustRootsPEMPath
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.messageIDDomain = messageIDDomain ?? SMTPAddress.domain(of: fromAddress) ?? "localhost"
    }
}

/// A setting the channel cannot work with, found when the channel is created.
public struct SMTPConfigurationError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
