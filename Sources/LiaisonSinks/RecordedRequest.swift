import Foundation

/// A request as the sink received it, kept so a test can check exactly what a channel sent.
public struct RecordedRequest: Sendable {
    public var method: String
    /// The path without its query, e.g. `/sms`.
    public var path: String
    /// Names as sent; look them up with `header(_:)`.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var receivedAt: Date
    /// The idempotency key the request carried, if any.
    public var idempotencyKey: String?
    /// What the sink answered; `nil` for a request it held without answering.
    public var status: Int?
    /// Whether the Standard Webhooks signature checked out; `nil` when the sink checks none.
    public var signatureValid: Bool?

    /// The first value of a header, its name compared without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body as text, for assertions and messages.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
