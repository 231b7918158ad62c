import Foundation

/// The server's side of one SMTP conversation (RFC 5321) as a state machine over bytes: it
/// frames lines, checks command order, collects and dot-unstuffs the data, and says what to
/// send back. It knows nothing of sockets or scripts, so the connection loop stays a few lines
/// and every reply is decided in one place.
///
/// Replies come out in the order of the commands, whatever the chunks the bytes arrive in, so
/// a client that pipelines (RFC 2920) gets its replies in order too.
struct SMTPSinkSession {
    /// What the connection does next, in order.
    enum Event: Equatable {
        /// Send this reply, CRLFs included.
        case reply(String)
        /// A message's data ended and it may be taken: the server answers it as scripted.
        case message(Envelope)
        /// QUIT was answered: close the connection, ignoring whatever else was sent.
        case close
    }

    struct Envelope: Equatable {
        var from: String
        var recipients: [String]
        /// Dot-unstuffed, CRLF line endings, without the final dot line.
        var data: [UInt8]
        var authenticatedUser: String?
    }

    /// Where the conversation is; what a line means depends on it.
    private enum Phase {
        /// Greeted; no EHLO or HELO yet, so no mail.
        case connected
        /// Between messages.
        case ready
        /// After MAIL FROM, collecting RCPT TO.
        case transaction(from: String, recipients: [String])
        /// After the 354: lines are the message until the lone dot.
        case data(from: String, recipients: [String])
        /// Waiting for the base64 response to AUTH PLAIN sent without one.
        case authPlain
        /// Waiting for AUTH LOGIN's user name, then its password.
        case authLoginUser
        case authLoginPassword(user: String)
        /// QUIT answered; nothing more is read.
        case closed
    }

    /// RFC 5321 4.5.3.1.4: a command line is at most 512 octets with its CRLF.
    static let maximumCommandLength = 510
    /// RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its CRLF; longer ones are
    /// broken by real relays, so the sink refuses the message rather than hide the bug.
    static let maximumTextLineLength = 998
    static let hostname = "liaison-sink.test"

    let maximumMessageSize: Int
    let acceptsAuth: Bool
    private var phase = Phase.connected
    private var line: [UInt8] = []
    /// The current line outgrew its limit; the rest of it is dropped until its line feed.
    private var lineTooLong = false
    private var data: [UInt8] = []
    /// What went wrong with the message being read, answered after its final dot.
    private var dataProblem: String?
    private var authenticatedUser: String?

    init(maximumMessageSize: Int, acceptsAuth: Bool) {
        self.maximumMessageSize = maximumMessageSize
        self.acceptsAuth = acceptsAuth
    }

    var greeting: String { "220 \(Self.hostname) ESMTP Liaison SMTP sink ready\r\n" }

    /// Takes the next bytes from the client and returns what to do about the lines they complete.
    /// A bare line feed ends a line as CRLF does, as most servers tolerate.
    mutating func consume(_ bytes: some Sequence<UInt8>) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            if case .closed = phase { break }
            guard byte == UInt8(ascii: "\n") else {
                if !lineTooLong {
                    line.append(byte)
                    if line.count > lineLimit + 1 {  // + 1: the CR not yet stripped
                        lineTooLong = true
                        line = []
                    }
                }
                continue
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let complete = line
            let wasTooLong = lineTooLong || line.count > lineLimit
            line = []
            lineTooLong = false
            events += take(complete, tooLong: wasTooLong)
        }
        return events
    }

    private var lineLimit: Int {
        if case .data = phase { return Self.maximumTextLineLength }
        return Self.maximumCommandLength
    }

    private mutating func take(_ line: [UInt8], tooLong: Bool) -> [Event] {
        if case .data(let from, let recipients) = phase {
            return takeDataLine(line, tooLong: tooLong, from: from, recipients: recipients)
        }
        if tooLong {
            switch phase {
            case .authPlain, .authLoginUser, .authLoginPassword: phase = .ready
            default: break
            }
            return [.reply("500 5.5.2 Line too long; a command line is at most 512 octets\r\n")]
        }
        let text = String(decoding: line, as: UTF8.self)
        switch phase {
        case .authPlain:
            phase = .ready
            return [finishAuthPlain(text)]
        case .authLoginUser:
            guard text != "*" else { return cancelledAuth() }
            guard let user = Self.base64Text(text) else { return invalidBase64() }
            phase = .authLoginPassword(user: user)
            return [.reply("334 UGFzc3dvcmQ6\r\n")]
        case .authLoginPassword(let user):
            guard text != "*" else { return cancelledAuth() }
            phase = .ready
            guard Self.base64Text(text) != nil else { return invalidBase64() }
            authenticatedUser = user
            return [.reply("235 2.7.0 Authentication successful\r\n")]
        default:
            return command(text)
        }
    }

    // MARK: Commands

    private mutating func command(_ text: String) -> [Event] {
        let word = text.prefix { $0 != " " }
        let verb = word.uppercased()
        let argument = text[word.endIndex...].trimmingCharacters(in: .whitespaces)
        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty else { return [.reply("501 5.5.4 \(verb) needs a domain or address literal\r\n")] }
            phase = .ready
            guard verb == "EHLO" else { return [.reply("250 \(Self.hostname)\r\n")] }
            var lines = [
                "\(Self.hostname) greets \(argument)", "SIZE \(maximumMessageSize)", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES",
            ]
            if acceptsAuth { lines.append("AUTH PLAIN LOGIN") }
            let reply = lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)\r\n" }.joined()
            return [.reply(reply)]
        case "MAIL":
            return [mail(argument)]
        case "RCPT":
            return [recipient(argument)]
        case "DATA":
            guard argument.isEmpty else { return [.reply("501 5.5.4 DATA takes no arguments\r\n")] }
            guard case .transaction(let from, let recipients) = phase, !recipients.isEmpty else {
                return [.reply("503 5.5.1 Bad sequence of commands: DATA needs MAIL FROM and RCPT TO first\r\n")]
            }
            phase = .data(from: from, recipients: recipients)
            data = []
            dataProblem = nil
            return [.reply("354 End data with <CR><LF>.<CR><LF>\r\n")]
        case "RSET":
            if case .transaction = phase { phase = .ready }
            return [.reply("250 2.0.0 Ok\r\n")]
        case "NOOP":
            return [.reply("250 2.0.0 Ok\r\n")]
        case "VRFY":
            return [.reply("252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n")]
        case "HELP":
            return [.reply("214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT\r\n")]
        case "QUIT":
            phase = .closed
            return [.reply("221 2.0.0 Bye\r\n"), .close]
        case "AUTH" where acceptsAuth:
            return auth(argument)
        case "AUTH", "STARTTLS", "EXPN", "BDAT", "ETRN", "TURN", "ATRN":
            return [.reply("502 5.5.1 \(verb) is not implemented\r\n")]
        default:
            return [.reply("500 5.5.2 Command not recognized\r\n")]
        }
    }

    private mutating func mail(_ argument: String) -> Event {
        switch phase {
        case .connected: return .reply("503 5.5.1 Bad sequence of commands: send EHLO or HELO first\r\n")
        case .transaction: return .reply("503 5.5.1 Bad sequence of commands: nested MAIL command\r\n")
        default: break
        }
        guard let path = Self.path(in: argument, after: "FROM:") else {
            return .reply("501 5.5.4 Syntax: MAIL FROM:<address>\r\n")
        }
        for parameter in path.parameters {
            let (keyword, value) = Self.keywordAndValue(parameter)
            switch keyword {
            case "SIZE":
                guard let size = Int(value ?? "") else { return .reply("501 5.5.4 SIZE needs a number\r\n") }
                if size > maximumMessageSize {
                    return .reply("552 5.3.4 Message size exceeds fixed limit of \(maximumMessageSize) octets\r\n")
                }
            case "BODY":
                guard ["7BIT", "8BITMIME"].contains(value?.uppercased() ?? "") else {
                    return .reply("501 5.5.4 BODY is 7BIT or 8BITMIME\r\n")
                }
            default:
                return .reply("555 5.5.4 MAIL parameter \(keyword) is not supported\r\n")
            }
        }
        phase = .transaction(from: path.address, recipients: [])
        return .reply("250 2.1.0 Ok\r\n")
    }

    private mutating func recipient(_ argument: String) -> Event {
        guard case .transaction(let from, var recipients) = phase else {
            return .reply("503 5.5.1 Bad sequence of commands: RCPT TO needs MAIL FROM first\r\n")
        }
        guard let path = Self.path(in: argument, after: "TO:"), !path.address.isEmpty else {
            return .reply("501 5.5.4 Syntax: RCPT TO:<address>\r\n")
        }
        if let parameter = path.parameters.first {
            return .reply("555 5.5.4 RCPT parameter \(Self.keywordAndValue(parameter).keyword) is not supported\r\n")
        }
        recipients.append(path.address)
        phase = .transaction(from: from, recipients: recipients)
        return .reply("250 2.1.5 Ok\r\n")
    }

    // MARK: Data

    private mutating func takeDataLine(_ line: [UInt8], tooLong: Bool, from: String, recipients: [String]) -> [Event] {
        if line == [UInt8(ascii: ".")] {
            phase = .ready
            defer { data = [] }
            if let dataProblem {
                return [.reply(dataProblem)]
            }
            return [.message(Envelope(from: from, recipients: recipients, data: data, authenticatedUser: authenticatedUser))]
        }
        guard dataProblem == nil else { return [] }
        if tooLong {
            dataProblem = "500 5.5.2 Line too long; a line of a message is at most 1000 octets\r\n"
            data = []
            return []
        }
        // RFC 5321 4.5.2: the client doubled every dot that starts a line; undo it.
        data += line.first == UInt8(ascii: ".") ? line.dropFirst() : line[...]
        data += [13, 10]
        if data.count > maximumMessageSize {
            dataProblem = "552 5.3.4 Message size exceeds fixed limit of \(maximumMessageSize) octets\r\n"
            data = []
        }
        return []
    }

    // MARK: AUTH

    /// AUTH PLAIN and LOGIN (RFC 4954), any credentials accepted: the sink checks that the
    /// client authenticates, not what it knows, and records the user name.
    private mutating func auth(_ argument: String) -> [Event] {
        switch phase {
        case .connected: return [.reply("503 5.5.1 Bad sequence of commands: send EHLO first\r\n")]
        case .transaction: return [.reply("503 5.5.1 Bad sequence of commands: AUTH is not allowed during a mail transaction\r\n")]
        default: break
        }
        guard authenticatedUser == nil else { return [.reply("503 5.5.1 Already authenticated\r\n")] }
        let words = argument.split(separator: " ").map(String.init)
        switch (words.first?.uppercased() ?? "", words.count) {
        case ("PLAIN", 1):
            phase = .authPlain
            return [.reply("334 \r\n")]
        case ("PLAIN", 2):
            return [finishAuthPlain(words[1])]
        case ("LOGIN", 1):
            phase = .authLoginUser
            return [.reply("334 VXNlcm5hbWU6\r\n")]
        case ("LOGIN", 2):
            guard let user = Self.base64Text(words[1]) else { return invalidBase64() }
            phase = .authLoginPassword(user: user)
            return [.reply("334 UGFzc3dvcmQ6\r\n")]
        case ("", _):
            return [.reply("501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n")]
        default:
            return [.reply("504 5.5.4 Mechanism not supported; use PLAIN or LOGIN\r\n")]
        }
    }

    /// PLAIN's response is authorization id, user name and password, separated by NUL.
    private mutating func finishAuthPlain(_ response: String) -> Event {
        guard response != "*" else { return .reply("501 5.7.0 Authentication cancelled\r\n") }
        guard let decoded = Self.base64Text(response) else { return .reply("501 5.5.2 Cannot decode the response\r\n") }
        let fields = decoded.split(separator: "\u{0}", omittingEmptySubsequences: false)
        guard fields.count == 3, !fields[1].isEmpty else { return .reply("535 5.7.8 Malformed PLAIN credentials\r\n") }
        authenticatedUser = String(fields[1])
        return .reply("235 2.7.0 Authentication successful\r\n")
    }

    private mutating func cancelledAuth() -> [Event] {
        phase = .ready
        return [.reply("501 5.7.0 Authentication cancelled\r\n")]
    }

    private mutating func invalidBase64() -> [Event] {
        phase = .ready
        return [.reply("501 5.5.2 Cannot decode the response\r\n")]
    }

    // MARK: Parsing

    /// The address in `FROM:<a@b> KEY=VALUE …` (or `TO:`), brackets removed, and the parameters
    /// after it. A space after the colon is tolerated, as most servers do; a source route
    /// (`<@relay:a@b>`, RFC 5321 4.1.2) is dropped.
    static func path(in argument: String, after keyword: String) -> (address: String, parameters: [Substring])? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        let rest = argument.dropFirst(keyword.count).drop { $0 == " " }
        guard rest.first == "<", let close = rest.firstIndex(of: ">") else { return nil }
        var address = rest[rest.index(after: rest.startIndex)..<close]
        if address.first == "@", let colon = address.firstIndex(of: ":") {
            address = address[address.index(after: colon)...]
        }
        guard !address.contains(where: { $0 == " " || $0 == "<" }) else { return nil }
        let parameters = rest[rest.index(after: close)...].split(separator: " ")
        return (String(address), parameters)
    }

    private static func keywordAndValue(_ parameter: Substring) -> (keyword: String, value: String?) {
        guard let equals = parameter.firstIndex(of: "=") else { return (parameter.uppercased(), nil) }
        return (parameter[..<equals].uppercased(), String(parameter[parameter.index(after: equals)...]))
    }

    private static func base64Text(_ text: String) -> String? {
        Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) }
    }
}
