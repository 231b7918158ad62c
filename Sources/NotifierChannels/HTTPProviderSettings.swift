/// One JSON HTTP provider (an SMS gateway, a push service) described in configuration rather
/// than in code, so a new provider needs a settings block, not a release.
public struct HTTPProviderSettings: Sendable, Equatable {
    /// Names the provider in outcomes, logs and circuit breakers, e.g. `sms-gateway`.
    public var name: String
    /// The endpoint, `http` or `https`.
    public var url: String
    /// `POST`, `PUT` or `PATCH`: the request carries the message as its body.
    public var method: String
    /// Sent with every request. Values may be credentials, already resolved from the
    /// environment by whoever loaded the configuration.
    public var headers: [String: String]
    /// Where the message's idempotency key goes, so the provider drops a repeated attempt;
    /// `nil` for a provider that refuses unknown headers.
    public var idempotencyHeader: String?
    /// The request shape: JSON body path (dotted for nesting, `message.title`) to what goes
    /// there — a message field (`address`, `subject`, `text`, `html`, `locale`, `actionID`,
    /// `idempotencyKey`, `customerID`), `metadata.<key>`, or `literal:<text>` for a constant
    /// such as a sender id. A message field with no value (no subject, a missing metadata key)
    /// leaves its member out.
    public var body: [String: String]
    /// The dotted path of the provider's message id in a successful answer's JSON, if it gives
    /// one (`id`, `result.messageId`; array elements by index, `messages.0.id`).
    public var messageIDField: String?
    /// How long one attempt may take, answer body included.
    public var timeout: Duration

    public init(
        name: String, url: String, method: String = "POST", headers: [String: String] = [:],
        idempotencyHeader: String? = "Idempotency-Key", body: [String: String], messageIDField: String? = nil,
        timeout: Duration = .seconds(10)
    ) {
        self.name = name
        self.url = url
        self.method = method
        self.headers = headers
        self.idempotencyHeader = idempotencyHeader
        self.body = body
        self.messageIDField = messageIDField
        self.timeout = timeout
    }

    /// Checks the settings as a configuration loader should at start-up, so a typo stops the
    /// daemon with the key to fix instead of failing every delivery.
    public func validate() throws(ChannelSettingsError) {
        _ = try RequestShape(settings: self)
    }
}
