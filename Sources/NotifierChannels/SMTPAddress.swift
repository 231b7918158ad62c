/// Checks mailbox addresses before they reach an SMTP command or a header. The check is
/// deliberately narrower than RFC 5321 allows (no quoted local parts, no address literals, ASCII
/// only): what it lets through can be written into `MAIL FROM:<…>`, `RCPT TO:<…>` and `To:`
/// as it is, so an address can never smuggle a command or a header in.
enum SMTPAddress {
    private static let forbidden: Set<Unicode.Scalar> = ["<", ">", "(", ")", "[", "]", "\\", ",", ";", ":", "\"", "@"]

    /// Why `address` cannot be sent to, or nil when it can.
    static func problem(with address: String) -> String? {
        guard !address.isEmpty else { return "the address is empty" }
        guard address.utf8.count <= 254 else { return "the address is longer than 254 characters" }
        guard address.unicodeScalars.allSatisfy({ $0.isASCII }) else {
            return "the address has non-ASCII characters (internationalised addresses are not supported)"
        }
        guard address.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            return "the address has spaces or control characters"
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty, !domain.isEmpty else {
            return "the address needs exactly one @ with text on both sides"
        }
        guard !address.unicodeScalars.contains(where: { $0 != "@" && forbidden.contains($0) }) else {
            return "the address has characters that need quoting (<>()[]\\,;:\")"
        }
        guard !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else {
            return "the address's domain has an empty label"
        }
        return nil
    }

    /// The part after the @, used as the default Message-ID domain.
    static func domain(of address: String) -> String? {
        guard problem(with: address) == nil, let at = address.lastIndex(of: "@") else { return nil }
        return String(address[address.index(after: at)...])
    }

    /// Whether `name` can stand after `@` in a Message-ID: letters, digits, hyphens and dots.
    static func isDomainLike(_ name: String) -> Bool {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "."
        }
        return allowed && !name.isEmpty && name.utf8.count <= 255 && !name.hasPrefix(".") && !name.hasSuffix(".") && !name.contains("..")
    }
}
