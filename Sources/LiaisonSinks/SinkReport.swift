/// What the stand-in providers took, as the HTTP sink serves it at `GET /sinks/report`: the
/// figures `liaison audit` holds against the delivery receipts, so a message a customer would
/// have received twice, or one the receipts do not account for, shows up after a run.
public struct SinkReport: Codable, Sendable, Equatable {
    /// Where the HTTP sink answers with this report when `servesReport` is on.
    public static let path = "/sinks/report"

    /// One HTTP path's requests.
    public struct HTTPPath: Codable, Sendable, Equatable {
        public var path: String
        /// Which channel the notifier reaches through the path, as `channel(ofPath:)` tells.
        public var channel: String
        /// Requests received, answered or not.
        public var requests = 0
        /// Distinct idempotency keys (or webhook ids) received, whatever they were answered.
        public var keys = 0
        /// Keys received more than once: retries after a failure, and duplicates.
        public var keysReceivedMoreThanOnce = 0
        /// Messages delivered: successful answers, a key counted once, a request without a key each time.
        public var deliveries = 0
        /// Successful answers to a key that had been answered with success before: a message
        /// the notifier sent twice, which the customer would have received twice from a provider
        /// that does not honour keys.
        public var duplicates = 0
        /// The keys behind `duplicates`, in order of their first duplicate.
        public var duplicateKeys: [String] = []

        public init(path: String) {
            self.path = path
            channel = SinkReport.channel(ofPath: path)
        }
    }

    /// The SMTP sink's messages, told apart by Message-ID.
    public struct Mail: Codable, Sendable, Equatable {
        /// Messages taken, duplicates included.
        public var taken: Int
        /// Distinct messages: what the customers would have received.
        public var distinct: Int
        /// Messages whose Message-ID had been taken before.
        public var duplicates: Int
        /// The Message-IDs behind `duplicates`, in order of their first duplicate.
        public var duplicateMessageIDs: [String]

        public init(taken: Int, distinct: Int, duplicates: Int, duplicateMessageIDs: [String]) {
            self.taken = taken
            self.distinct = distinct
            self.duplicates = duplicates
            self.duplicateMessageIDs = duplicateMessageIDs
        }
    }

    /// Per path, sorted by path.
    public var http: [HTTPPath]
    /// Absent when the HTTP sink was started without an SMTP sink to report on.
    public var mail: Mail?

    public init(http: [HTTPPath], mail: Mail?) {
        self.http = http
        self.mail = mail
    }

    /// The channel behind a path of the sink, as `liaison sinks` tells the notifier to use it:
    /// SMS at `/sms`, push at `/push`, webhooks at any other path.
    public static func channel(ofPath path: String) -> String {
        if path.hasPrefix("/sms") { return "sms" }
        if path.hasPrefix("/push") { return "push" }
        return "webhook"
    }
}
