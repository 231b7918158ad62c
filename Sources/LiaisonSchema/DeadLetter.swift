import Foundation

/// A record no stage could accept, kept whole so it can be read, fixed and re-driven.
/// Published on `liaison.dlq.v1`; the original bytes travel base64-encoded.
public struct DeadLetterV1: Codable, Sendable, Equatable {
    public static let topic = "liaison.dlq.v1"

    /// Stable machine-readable reason, e.g. `invalid_json`.
    public var reason: String
    /// What a person needs to fix the record, naming the field when there is one.
    public var message: String
    /// The stage that rejected the record.
    public var stage: String
    /// The id the stage's ledger knows the record by.
    public var inputID: String
    public var source: SourcePosition
    public var keyBase64: String?
    public var valueBase64: String
    /// Set when the original key and value were too large to publish whole and were cut short.
    public var truncated: Bool
    /// Size of the original value in bytes, whole or not.
    public var valueBytes: Int
    public var headers: [Header]
    /// When the record was rejected, RFC 3339 UTC.
    public var rejectedAt: String

    public struct SourcePosition: Codable, Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64

        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    public struct Header: Codable, Sendable, Equatable {
        public var name: String
        public var valueBase64: String

        public init(name: String, valueBase64: String) {
            self.name = name
            self.valueBase64 = valueBase64
        }
    }

    public init(
        reason: String, message: String, stage: String, inputID: String, source: SourcePosition,
        keyBase64: String?, valueBase64: String, truncated: Bool, valueBytes: Int, headers: [Header], rejectedAt: String
    ) {
        self.reason = reason
        self.message = message
        self.stage = stage
        self.inputID = inputID
        self.source = source
        self.keyBase64 = keyBase64
        self.valueBase64 = valueBase64
        self.truncated = truncated
        self.valueBytes = valueBytes
        self.headers = headers
        self.rejectedAt = rejectedAt
    }
}
