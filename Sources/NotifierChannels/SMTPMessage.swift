import Crypto
import Foundation
import Notifier

/// An outgoing message as the bytes that follow DATA. It is built apart from the conversation
/// so that what recipients' mail programs see can be checked without a server.
///
/// The Message-ID and the MIME boundary derive from the idempotency key: a retry, or a resend
/// after a restart, is byte for byte the same message apart from its Date, so a receiving system
/// that has already seen the Message-ID can drop the duplicate.
struct SMTPMessage: Sendable {
    /// `<hex@domain>`, as written in the Message-ID header.
    let messageID: String
    /// The whole message with CRLF line endings, not yet dot-stuffed.
    let bytes: [UInt8]

    init(_ message: OutgoingMessage, fromAddress: String, fromName: String?, messageIDDomain: String, date: Date) {
        messageID = Self.messageID(idempotencyKey: message.idempotencyKey, domain: messageIDDomain)
        var header = [
            "Date: " + Self.dateField(date),
            Self.fromField(address: fromAddress, name: fromName),
            "To: " + message.address,
        ]
        if let subject = message.subject {
            header.append(Self.field("Subject", subject))
        }
        header += [
            "Message-ID: " + messageID,
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            Self.field("X-Liaison-Action-Id", message.actionID),
            Self.field("X-Liaison-Idempotency-Key", message.idempotencyKey),
        ]
        for (key, value) in message.metadata.sorted(by: { $0.key < $1.key }) {
            let name = Self.headerNameToken(key)
            if !name.isEmpty {
                header.append(Self.field("X-Liaison-Meta-" + name, value))
            }
        }
        let language = message.locale.replacingOccurrences(of: "_", with: "-")
        if !language.isEmpty, language.utf8.count <= 35, SMTPAddress.isDomainLike(language), !language.contains(".") {
            header.append("Content-Language: " + language)
        }
        let textPart = Self.quotedPrintable(message.text)
        var body: String
        if let html = message.html {
            let boundary = "=_liaison_" + Self.hex(SHA256.hash(data: Array(("mime-boundary|" + message.idempotencyKey).utf8))).prefix(32)
            header.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            body = "--\(boundary)\r\n"
            body += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            body += textPart + "\r\n--\(boundary)\r\n"
            body += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            body += Self.quotedPrintable(html) + "\r\n--\(boundary)--\r\n"
        } else {
            header += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]
            body = textPart + "\r\n"
        }
        bytes = Array((header.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    /// The same key gives the same id in every process, so retries and restarts reuse it.
    static func messageID(idempotencyKey: String, domain: String) -> String {
        "<" + hex(SHA256.hash(data: Array(idempotencyKey.utf8))) + "@" + domain + ">"
    }

    /// The message as sent after DATA: lines starting with a dot get a second one (RFC 5321
    /// 4.5.2), and the lone-dot line that ends the data follows.
    static func dataBlock(_ bytes: [UInt8]) -> [UInt8] {
        var block: [UInt8] = []
        block.reserveCapacity(bytes.count + bytes.count / 64 + 5)
        var atLineStart = true
        for byte in bytes {
            if atLineStart, byte == UInt8(ascii: ".") {
                block.append(UInt8(ascii: "."))
            }
            block.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !block.isEmpty, !block.suffix(2).elementsEqual([13, 10]) {
            block += [13, 10]
        }
        block += Array(".\r\n".utf8)
        return block
    }

    // MARK: Header fields

    /// An unstructured header field (RFC 5322 2.2.1): folded at spaces when it is printable
    /// ASCII, otherwise UTF-8 encoded-words (RFC 2047) of at most 75 characters, one per line.
    /// Line breaks and other control characters in the value become spaces, so a value can
    /// never start a header of its own.
    static func field(_ name: String, _ value: String) -> String {
        let cleaned = String(
            String.UnicodeScalarView(value.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 })
        ).trimmingCharacters(in: .whitespaces)
        let tokens = cleaned.split(separator: " ", omittingEmptySubsequences: false)
        if isPrintableASCII(cleaned), !cleaned.contains("=?"), tokens.allSatisfy({ $0.utf8.count <= 76 }) {
            var lines: [String] = []
            var line = name + ":"
            for token in tokens {
                if !token.isEmpty, line.utf8.count + 1 + token.utf8.count > 78, line != name + ":" {
                    lines.append(line)
                    line = ""
                }
                line += " " + token
            }
            lines.append(line)
            return lines.joined(separator: "\r\n")
        }
        let words = encodedWords(cleaned, firstLineRoom: 76 - name.utf8.count - 2)
        return name + ": " + words.joined(separator: "\r\n ")
    }

    private static func fromField(address: String, name: String?) -> String {
        guard let name, !name.isEmpty else { return "From: " + address }
        if isPrintableASCII(name), name.utf8.count <= 60, !name.contains("=?") {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "From: \"\(quoted)\" <\(address)>"
        }
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return "From: " + encodedWords(cleaned, firstLineRoom: 70).joined(separator: "\r\n ") + "\r\n <\(address)>"
    }

    /// Base64 encoded-words, each holding whole characters (RFC 2047 section 5 forbids
    /// splitting one across words) and at most 75 characters long; the first fits in what is
    /// left of the header's first line.
    static func encodedWords(_ text: String, firstLineRoom: Int) -> [String] {
        let overhead = "=?UTF-8?B??=".utf8.count
        func capacity(_ room: Int) -> Int { max(2, (room - overhead) / 4) * 3 }
        var pieces: [[UInt8]] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= capacity(75) {
                pieces.append(bytes)
            } else {
                pieces += character.unicodeScalars.map { Array(String($0).utf8) }
            }
        }
        var words: [String] = []
        var chunk: [UInt8] = []
        var room = max(firstLineRoom, 24)
        for piece in pieces {
            if !chunk.isEmpty, chunk.count + piece.count > capacity(room) {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
                room = 75
            }
            chunk += piece
        }
        words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
        return words
    }

    /// The RFC 5322 date, in UTC so that it does not depend on the host's zone.
    static func dateField(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone.current
        let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(days[((parts.weekday ?? 1) - 1) % 7]), \(two(parts.day)) \(months[((parts.month ?? 1) - 1) % 12]) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }

    /// A metadata key as the tail of a header name: letters, digits and hyphens.
    private static func headerNameToken(_ key: String) -> String {
        let mapped = key.unicodeScalars.map { scalar -> Character in
            let keep = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            return keep ? Character(scalar) : "-"
        }
        return String(mapped).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    // MARK: Bodies

    /// Quoted-printable (RFC 2045 6.7) of the UTF-8 text, lines at most 76 characters, the
    /// text's own line breaks as CRLF. Dots at the start of a line are left to dot-stuffing.
    static func quotedPrintable(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var physical: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current = ""
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let token: String
                if (byte == 0x20 || byte == 0x09) && !isLast {
                    token = String(UnicodeScalar(byte))
                } else if (33...126).contains(byte), byte != UInt8(ascii: "=") {
                    token = String(UnicodeScalar(byte))
                } else {
                    token = "=" + hexByte(byte, uppercase: true)
                }
                if current.utf8.count + token.utf8.count > 75 {
                    physical.append(current + "=")
                    current = ""
                }
                current += token
            }
            physical.append(current)
        }
        return physical.joined(separator: "\r\n")
    }

    // MARK: Helpers

    private static func isPrintableASCII(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { hexByte($0, uppercase: false) }.joined()
    }

    private static func hexByte(_ byte: UInt8, uppercase: Bool) -> String {
        let digits = Array(uppercase ? "0123456789ABCDEF" : "0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
