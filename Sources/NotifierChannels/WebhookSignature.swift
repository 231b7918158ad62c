import Crypto
import Foundation

/// The Standard Webhooks signature (standardwebhooks.com): an HMAC-SHA256 over
/// `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret, sent as `v1,<base64>`.
/// Receivers already have libraries for it, so a customer's endpoint needs no Liaison code to
/// trust what we send; the test sink checks our requests with this same type.
public struct WebhookSignature: Sendable {
    /// The prefix of a secret's text form; the rest is the key in base64.
    public static let secretPrefix = "whsec_"
    /// How far a timestamp may stray from the receiver's clock, the usual replay window.
    public static let defaultTolerance: Duration = .seconds(300)

    /// The key's bytes: Crypto's `SymmetricKey` is not `Sendable`, so one is made per use.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// Reads a secret in its text form, `whsec_` and base64; `nil` when it is not one.
    public init?(secret: String) {
        guard secret.hasPrefix(Self.secretPrefix),
            let key = Data(base64Encoded: String(secret.dropFirst(Self.secretPrefix.count))), !key.isEmpty
        else { return nil }
        keyBytes = Array(key)
    }

    /// A fresh random 32-byte secret in its text form, for endpoints being set up and for tests.
    public static func generateSecret() -> String {
        let key = SymmetricKey(size: .bits256)
        return secretPrefix + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The `webhook-signature` value for one request.
    public func signature(id: String, timestamp: Int64, body: some DataProtocol) -> String {
        let content = signedContent(id: id, timestamp: String(timestamp), body: body)
        let code = HMAC<SHA256>.authenticationCode(for: content, using: key)
        return "v1," + Data(code).base64EncodedString()
    }

    /// Checks a request's three headers (`nil` when absent) and body as a receiver does: the
    /// timestamp within `tolerance` of `now`, and any one `v1` signature of the space-separated
    /// list matching (there are several while a secret is rotated), compared in constant time.
    public func verify(
        id: String?, timestamp: String?, signatures: String?, body: some DataProtocol, now: Date,
        tolerance: Duration = defaultTolerance
    ) throws(WebhookVerificationError) {
        guard let id else { throw .missingHeader("webhook-id") }
        guard let timestamp else { throw .missingHeader("webhook-timestamp") }
        guard let signatures else { throw .missingHeader("webhook-signature") }
        guard let seconds = Int64(timestamp) else { throw .invalidTimestamp(timestamp) }
        guard abs(Double(seconds) - now.timeIntervalSince1970) <= Double(tolerance.components.seconds) else {
            throw .timestampOutOfTolerance(seconds)
        }
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        let key = key
        for entry in signatures.split(separator: " ") where entry.hasPrefix("v1,") {
            guard let code = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: content, using: key) { return }
        }
        throw .noMatchingSignature
    }

    private func signedContent(id: String, timestamp: String, body: some DataProtocol) -> [UInt8] {
        var content: [UInt8] = []
        content.reserveCapacity(id.utf8.count + timestamp.utf8.count + body.count + 2)
        content.append(contentsOf: id.utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: timestamp.utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: body)
        return content
    }
}

/// Why a webhook request failed verification; a receiver answers it with 401.
public enum WebhookVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingHeader(String)
    case invalidTimestamp(String)
    case timestampOutOfTolerance(Int64)
    case noMatchingSignature

    public var description: String {
        switch self {
        case let .missingHeader(name): "the \(name) header is missing"
        case let .invalidTimestamp(text): "webhook-timestamp \"\(text)\" is not whole seconds since 1970"
        case let .timestampOutOfTolerance(seconds): "webhook-timestamp \(seconds) is too far from now"
        case .noMatchingSignature: "no v1 signature matches the body"
        }
    }
}
