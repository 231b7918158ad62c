import Foundation

/// One lexical token with the 1-based column where it starts.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case number(Decimal)
        case duration(seconds: Decimal)
        case string(String)
        case identifier(String)
        case keyword(Keyword)
        case symbol(Symbol)
        case end
    }

    enum Keyword: String, Sendable {
        case and, or, not, `in`, `true`, `false`, null
    }

    enum Symbol: String, Sendable, CaseIterable {
        case equal = "==", notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"
        case plus = "+", minus = "-", times = "*", divide = "/", remainder = "%"
        case openParen = "(", closeParen = ")", openBracket = "[", closeBracket = "]", comma = ",", dot = "."
    }

    let kind: Kind
    let column: Int
    let text: String
}

/// Splits expression source into tokens, reporting the column of anything it cannot read.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    mutating func tokens() throws(ExpressionError) -> [Token] {
        var tokens: [Token] = []
        while true {
            skipWhitespace()
            let start = position
            guard position < scalars.count else {
                tokens.append(Token(kind: .end, column: start + 1, text: ""))
                return tokens
            }
            let kind = try nextKind()
            tokens.append(Token(kind: kind, column: start + 1, text: text(from: start)))
        }
    }

    private mutating func skipWhitespace() {
        while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
    }

    private func text(from start: Int) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[start..<position])
        return String(result)
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private func error(at start: Int, _ message: String) -> ExpressionError {
        let end = min(scalars.count, max(position, start + 1))
        var token = String.UnicodeScalarView()
        token.append(contentsOf: scalars[min(start, end)..<end])
        return ExpressionError(column: start + 1, token: String(token), message: message)
    }

    private mutating func nextKind() throws(ExpressionError) -> Token.Kind {
        guard let scalar = peek() else { return .end }
        if isDigit(scalar) { return try numberOrDuration() }
        if scalar == "\"" || scalar == "'" { return try string(quote: scalar) }
        if isIdentifierStart(scalar) {
            let start = position
            while let next = peek(), isIdentifierStart(next) || isDigit(next) { position += 1 }
            let word = text(from: start)
            if let keyword = Token.Keyword(rawValue: word) { return .keyword(keyword) }
            return .identifier(word)
        }
        for symbol in Token.Symbol.allCases where matches(symbol.rawValue) {
            position += symbol.rawValue.unicodeScalars.count
            return .symbol(symbol)
        }
        position += 1
        let hint = scalar == "=" ? "; use '==' to compare" : scalar == "&" || scalar == "|" || scalar == "!" ? "; use 'and', 'or', 'not'" : ""
        throw error(at: position - 1, "unexpected character '\(scalar)'\(hint)")
    }

    private func matches(_ symbol: String) -> Bool {
        for (offset, expected) in symbol.unicodeScalars.enumerated() where peek(offset) != expected { return false }
        return true
    }

    private mutating func numberOrDuration() throws(ExpressionError) -> Token.Kind {
        let start = position
        readDigits()
        if peek() == ".", let next = peek(1), isDigit(next) {
            position += 1
            readDigits()
        }
        guard let next = peek(), isIdentifierStart(next) || isDigit(next) else {
            let literal = text(from: start)
            guard let number = Decimal(string: literal, locale: Locale(identifier: "en_US_POSIX")), !number.isNaN else {
                throw error(at: start, "number '\(literal)' is too large")
            }
            return .number(number)
        }
        while let scalar = peek(), isIdentifierStart(scalar) || isDigit(scalar) || scalar == "." { position += 1 }
        let literal = text(from: start)
        guard let seconds = DurationText.parseCompact(literal) else {
            throw error(at: start, "'\(literal)' is not a number or a duration; durations are written like 24h, 30d, 15m, 90s, 2w or 1d12h")
        }
        return .duration(seconds: seconds)
    }

    private mutating func readDigits() {
        while let scalar = peek(), isDigit(scalar) { position += 1 }
    }

    private mutating func string(quote: Unicode.Scalar) throws(ExpressionError) -> Token.Kind {
        let start = position
        position += 1
        var value = String.UnicodeScalarView()
        while let scalar = peek() {
            position += 1
            if scalar == quote { return .string(String(value)) }
            guard scalar == "\\" else {
                value.append(scalar)
                continue
            }
            let escapeStart = position - 1
            guard let escaped = peek() else { break }
            position += 1
            switch escaped {
            case "\"", "'", "\\": value.append(escaped)
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "u": value.append(try unicodeEscape(start: escapeStart))
            default: throw error(at: escapeStart, "unknown escape '\\\(escaped)'; use \\\" \\' \\\\ \\n \\t \\r \\u{...} or \\uXXXX")
            }
        }
        throw error(at: start, "string is not closed; add a closing \(quote)")
    }

    /// Reads the rest of `\u{1F600}` or `\u00e9` after the `u`.
    private mutating func unicodeEscape(start: Int) throws(ExpressionError) -> Unicode.Scalar {
        var hex = ""
        if peek() == "{" {
            position += 1
            while let scalar = peek(), scalar != "}", hex.count < 8 {
                hex.unicodeScalars.append(scalar)
                position += 1
            }
            guard peek() == "}" else { throw error(at: start, "unicode escape is not closed; write it like \\u{1F600}") }
            position += 1
        } else {
            for _ in 0..<4 {
                guard let scalar = peek() else { break }
                hex.unicodeScalars.append(scalar)
                position += 1
            }
        }
        guard (1...8).contains(hex.count), hex.allSatisfy(\.isHexDigit), let code = UInt32(hex, radix: 16),
              let scalar = Unicode.Scalar(code)
        else { throw error(at: start, "'\(hex)' is not a unicode code point; write \\u{...} with 1-8 hex digits or \\uXXXX") }
        return scalar
    }

    private func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    private func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }
}
