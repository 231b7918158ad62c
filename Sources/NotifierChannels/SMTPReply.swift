/// One reply from the server, its continuation lines (`250-…`) gathered.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    /// The text of each line, without the code and separator.
    var lines: [String]

    /// The reply as operators read it in a reason: code and text on one line, at most a few
    /// hundred characters, without control characters.
    var summary: String {
        let text = lines.map { $0.trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: " ")
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        let clipped = printable.count > 300 ? printable.prefix(300) + "…" : printable[...]
        return clipped.isEmpty ? "\(code)" : "\(code) \(clipped)"
    }
}

/// Splits what the server sends into replies (RFC 5321 4.2). Lines end in CRLF (a bare LF is
/// tolerated); a reply's last line has a space or nothing after its code, the others a hyphen.
/// Kept apart from the channel handler so that it can be tested without a socket.
struct SMTPReplyParser {
    struct Malformed: Error, Equatable {
        var description: String
    }

    /// RFC 5321 allows 512 octets a reply line; servers are allowed some slack, a flood is not.
    static let maximumLineLength = 4096
    static let maximumLinesPerReply = 500

    private var partialLine: [UInt8] = []
    private var code: Int?
    private var lines: [String] = []

    /// Whether nothing is buffered: no partial line, no reply in progress.
    var isIdle: Bool { partialLine.isEmpty && code == nil }

    /// Takes the next bytes and returns the replies they complete.
    mutating func consume(_ bytes: some Sequence<UInt8>) throws(Malformed) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                partialLine.append(byte)
                if partialLine.count > Self.maximumLineLength {
                    throw Malformed(description: "a reply line longer than \(Self.maximumLineLength) bytes")
                }
                continue
            }
            if partialLine.last == UInt8(ascii: "\r") {
                partialLine.removeLast()
            }
            let line = partialLine
            partialLine = []
            if let reply = try take(line) {
                replies.append(reply)
            }
        }
        return replies
    }

    private mutating func take(_ line: [UInt8]) throws(Malformed) -> SMTPReply? {
        let shown = String(decoding: line.prefix(80), as: UTF8.self)
        guard line.count >= 3, line.prefix(3).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0])
        else {
            throw Malformed(description: "a reply line without a reply code: \"\(shown)\"")
        }
        let lineCode = line.prefix(3).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw Malformed(description: "a reply line with \"\(Character(UnicodeScalar(separator)))\" after its code: \"\(shown)\"")
        }
        if let code, code != lineCode {
            throw Malformed(description: "a multi-line reply whose lines have codes \(code) and \(lineCode)")
        }
        code = lineCode
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        guard separator == UInt8(ascii: " ") else {
            if lines.count >= Self.maximumLinesPerReply {
                throw Malformed(description: "a reply of more than \(Self.maximumLinesPerReply) lines")
            }
            return nil
        }
        let reply = SMTPReply(code: lineCode, lines: lines)
        code = nil
        lines = []
        return reply
    }
}

/// What EHLO's reply says the server can do, keyword by keyword (RFC 5321 4.1.1.1).
struct SMTPExtensions: Sendable, Equatable {
    private var parameters: [String: [String]] = [:]

    init() {}

    init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.trimmingSpaces.split(separator: " ").map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            if keyword.hasPrefix("AUTH=") {
                parameters["AUTH", default: []] += [String(keyword.dropFirst(5))] + words.dropFirst().map { $0.uppercased() }
            } else {
                parameters[keyword, default: []] += words.dropFirst().map { $0.uppercased() }
            }
        }
    }

    func offers(_ keyword: String) -> Bool {
        parameters[keyword] != nil
    }

    /// The SASL mechanisms named after AUTH, upper-cased.
    var authMechanisms: [String] {
        parameters["AUTH"] ?? []
    }
}

/// The queue id a relay names in its reply to the message's data, when it names one: Postfix
/// and many others say "queued as ID", Exim says "id=ID". Operators find the message in the
/// relay's logs by it.
enum SMTPQueueID {
    static func find(in reply: SMTPReply) -> String? {
        let text = reply.lines.joined(separator: " ")
        let words = text.split(separator: " ").map(String.init)
        for (index, word) in words.enumerated() {
            if word.lowercased() == "as", index > 0, words[index - 1].lowercased() == "queued", index + 1 < words.count {
                return cleaned(words[index + 1])
            }
            if word.lowercased().hasPrefix("id=") {
                return cleaned(String(word.dropFirst(3)))
            }
        }
        return nil
    }

    private static func cleaned(_ word: String) -> String? {
        let trimmed = word.trimming(["<", ">", "(", ")", "[", "]", ",", ";", "."])
        let plain = trimmed.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
        return plain && !trimmed.isEmpty && trimmed.count <= 128 ? trimmed : nil
    }
}

extension String {
    fileprivate var trimmingSpaces: String { trimming([" ", "\t"]) }

    fileprivate func trimming(_ characters: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text.removeFirst() }
        while let last = text.last, characters.contains(last) { text.removeLast() }
        return String(text)
    }
}
