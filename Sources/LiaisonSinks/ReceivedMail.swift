import Foundation

/// A message as `SMTPSink` took it, kept so a test can check exactly what the email channel sent:
/// the envelope as given in MAIL FROM and RCPT TO, and the data as the client meant it.
public struct ReceivedMail: Sendable {
    /// The envelope sender, without angle brackets; empty for the null sender `<>`.
    public var from: String
    /// The envelope recipients in the order given, without angle brackets.
    public var recipients: [String]
    /// The message exactly as sent after DATA, dot-unstuffed, with CRLF line endings and without
    /// the final dot line.
    public var data: String
    /// The Message-ID header as written, angle brackets included; what duplicates are told by.
    public var messageID: String?
    /// The Subject header, RFC 2047 encoded-words decoded, so a test compares it with the text
    /// the template rendered.
    public var subject: String?
    /// The id the sink named in its 250 reply, which the channel reports as the provider's
    /// message id.
    public var queueID: String
    /// The user name the client authenticated as, when the sink accepts AUTH and it did.
    public var authenticatedUser: String?
    public var receivedAt: Date

    /// Reads the Message-ID and the subject from the header of `data`.
    public init(
        from: String, recipients: [String], data: String, queueID: String = "", authenticatedUser: String? = nil,
        receivedAt: Date = Date()
    ) {
        self.from = from
        self.recipients = recipients
        self.data = data
        self.queueID = queueID
        self.authenticatedUser = authenticatedUser
        self.receivedAt = receivedAt
        let fields = Self.headerFields(of: data)
        messageID = Self.first("Message-ID", in: fields)
        subject = Self.first("Subject", in: fields).map(Self.decodingEncodedWords)
    }

    /// The first header field of that name (compared without regard to case), unfolded and
    /// trimmed, encoded-words left as sent.
    public func header(_ name: String) -> String? {
        Self.first(name, in: Self.headerFields(of: data))
    }

    /// Everything after the header's blank line.
    public var body: String {
        guard let range = data.range(of: "\r\n\r\n") else { return "" }
        return String(data[range.upperBound...])
    }

    // MARK: Header

    /// The fields of the header (RFC 5322 2.2): the lines before the first empty one, a line
    /// starting with white space continuing the one before it. Unfolding removes only the line
    /// break, so the white space that followed it stays (2.2.3).
    static func headerFields(of data: String) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for line in data.split(separator: "\r\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            if let first = line.first, first == " " || first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].value += line }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return fields.map { ($0.name.trimmingCharacters(in: .whitespaces), $0.value.trimmingCharacters(in: .whitespaces)) }
    }

    private static func first(_ name: String, in fields: [(name: String, value: String)]) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    // MARK: Encoded-words

    /// Decodes the RFC 2047 encoded-words of an unstructured field: `=?UTF-8?B?…?=` and
    /// `=?UTF-8?Q?…?=` (US-ASCII too, being a subset). White space between two encoded-words
    /// is dropped (6.2), and the bytes of a run of them are decoded together, so a character a
    /// sender split across words still comes out whole. Anything that is not a well-formed
    /// encoded-word in a charset it knows stays as written.
    static func decodingEncodedWords(_ value: String) -> String {
        var result = ""
        var run: [UInt8] = []
        var pendingSpace = ""
        for token in whitespaceTokens(value) {
            if token.isSpace {
                pendingSpace += token.text
                continue
            }
            if let bytes = encodedWordBytes(token.text) {
                if run.isEmpty { result += pendingSpace }
                run += bytes
            } else {
                if !run.isEmpty {
                    result += String(decoding: run, as: UTF8.self)
                    run = []
                }
                result += pendingSpace + token.text
            }
            pendingSpace = ""
        }
        if !run.isEmpty { result += String(decoding: run, as: UTF8.self) }
        return result + pendingSpace
    }

    /// The value cut into runs of spaces and tabs and runs of everything else, in order.
    private static func whitespaceTokens(_ value: String) -> [(text: String, isSpace: Bool)] {
        var tokens: [(text: String, isSpace: Bool)] = []
        for character in value {
            let isSpace = character == " " || character == "\t"
            if let last = tokens.last, last.isSpace == isSpace {
                tokens[tokens.count - 1].text.append(character)
            } else {
                tokens.append((String(character), isSpace))
            }
        }
        return tokens
    }

    /// The bytes an encoded-word stands for, or nil when `word` is not one this decoder reads.
    private static func encodedWordBytes(_ word: String) -> [UInt8]? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.count >= 8 else { return nil }
        let parts = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        // RFC 2231 lets a language follow the charset: UTF-8*de.
        let charset = parts[0].split(separator: "*").first.map { $0.lowercased() } ?? ""
        guard ["utf-8", "utf8", "us-ascii"].contains(charset) else { return nil }
        let text = parts[2]
        switch parts[1].uppercased() {
        case "B":
            var base64 = String(text)
            while base64.count % 4 != 0 { base64 += "=" }
            return Data(base64Encoded: base64).map { Array($0) }
        case "Q":
            return quotedBytes(Array(text.utf8))
        default:
            return nil
        }
    }

    /// The Q encoding (RFC 2047 4.2): `_` is a space and `=XX` a byte in hex.
    private static func quotedBytes(_ text: [UInt8]) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = 0
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "_"):
                bytes.append(0x20)
                index += 1
            case UInt8(ascii: "="):
                guard index + 2 < text.count, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) else {
                    return nil
                }
                bytes.append(high << 4 | low)
                index += 3
            default:
                bytes.append(text[index])
                index += 1
            }
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
