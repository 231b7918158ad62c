/// What the sink answers one request with, so a test or a demo can play a provider that is
/// healthy, busy, down, slow or gone silent.
public struct SinkReply: Sendable, Equatable {
    /// The status sent; 2xx answers are deliveries.
    public var status: Int
    /// The `Retry-After` value sent, verbatim (delta-seconds or an HTTP-date).
    public var retryAfter: String?
    /// Waited before answering: a slow provider. The message counts as delivered on arrival,
    /// as with a real provider whose answer comes too late for the client.
    public var delay: Duration
    /// Never answers; the request is held until the sink stops, so the client's timeout decides.
    public var hangs: Bool
    /// Sends the head and the body but never ends the body: an answer cut off mid-way.
    public var holdsBodyOpen: Bool
    /// The body sent instead of the generated one (`{"id":"msg-…"}` on success,
    /// `{"error":"…"}` otherwise).
    public var body: String?

    public init(
        status: Int, retryAfter: String? = nil, delay: Duration = .zero, hangs: Bool = false, holdsBodyOpen: Bool = false,
        body: String? = nil
    ) {
        self.status = status
        self.retryAfter = retryAfter
        self.delay = delay
        self.hangs = hangs
        self.holdsBodyOpen = holdsBodyOpen
        self.body = body
    }

    /// A healthy provider.
    public static let ok = SinkReply(status: 200)

    /// A provider that never answers.
    public static let hang = SinkReply(status: 0, hangs: true)

    public static func status(_ status: Int, retryAfter: String? = nil, body: String? = nil) -> SinkReply {
        SinkReply(status: status, retryAfter: retryAfter, body: body)
    }

    /// Answers `status` after `delay`.
    public static func slow(_ delay: Duration, status: Int = 200) -> SinkReply {
        SinkReply(status: status, delay: delay)
    }
}
