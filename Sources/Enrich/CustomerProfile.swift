import Foundation
import LiaisonSchema

/// Everything enrich knows about one customer: the 360° view the context snapshots are cut
/// from. Events may arrive late or out of order, so every piece remembers the event time that
/// set it, and an older event never overwrites a newer fact. Lists are bounded, so a profile
/// stays small however long the customer lives.
public struct CustomerProfile: Sendable, Equatable {
    public var customerId: String
    /// When the customer asked to be forgotten. A profile with this set is a tombstone: it holds
    /// nothing else and later events do not rebuild it.
    public var erasedAtMs: Int64?
    /// The newest event time applied, in milliseconds: "now" for the features.
    public var latestEventMs: Int64?

    public var name: Stamped<String>?
    public var birthYear: Stamped<Int>?
    public var locale: Stamped<String>?
    public var timeZone: Stamped<String>?
    public var tier: Stamped<CustomerTier>?
    public var email: Stamped<String>?
    public var phone: Stamped<String>?
    public var pushToken: Stamped<String>?
    public var device: Stamped<DeviceKind>?
    public var marketingConsent: Stamped<Bool>?
    public var serviceConsent: Stamped<Bool>?
    public var quietHours: Stamped<CustomerProfileUpdatedV1.QuietHours>?

    /// By account id.
    public var accounts: [String: Account] = [:]
    /// By case id. A resolved case stays as a marker (so a late `opened` cannot reopen it) until
    /// the list is full.
    public var cases: [String: Case] = [:]
    /// By booking id. A cancelled trip stays as a marker until it would have departed.
    public var trips: [String: Trip] = [:]
    /// Latest time per researched topic, the newest `maxResearchTopics`.
    public var research: [String: Int64] = [:]
    /// Latest delivery per channel and per template (from delivery receipts with status `sent`).
    public var lastContactByChannel: [String: Int64] = [:]
    public var lastContactByTemplate: [String: Int64] = [:]
    /// The newest `maxSentimentPoints` feedback scores.
    public var sentiments: [SentimentPoint] = []
    public var activity = DailyActivity()

    public static let maxResearchTopics = 10
    public static let maxTemplates = 20
    public static let maxSentimentPoints = 20
    public static let maxTrips = 10
    public static let maxCases = 50
    public static let maxAccounts = 50

    public init(customerId: String) {
        self.customerId = customerId
    }

    public var isErased: Bool { erasedAtMs != nil }

    /// A value with the event time that set it.
    public struct Stamped<Value: Sendable & Equatable>: Sendable, Equatable {
        public var value: Value
        public var atMs: Int64
    }

    public struct Account: Sendable, Equatable {
        /// `checking`, `savings`, `cd`, or an opened product's type (`mortgage`, …).
        public var productType: String
        public var balance: Decimal?
        public var currency: String?
        /// Event time of the balance, so a late transaction does not roll it back.
        public var balanceAtMs: Int64?
        public var openedAtMs: Int64?
    }

    public struct Case: Sendable, Equatable {
        public var openedAtMs: Int64?
        public var resolvedAtMs: Int64?
        public var topic: String?
    }

    public struct Trip: Sendable, Equatable {
        public var flight: String?
        public var origin: String?
        public var destination: String?
        public var departure: Timestamp?
        /// Event time of the departure: the booking's or the last reschedule's.
        public var departureAtMs: Int64?
        public var cancelledAtMs: Int64?
    }

    public struct SentimentPoint: Sendable, Equatable {
        public var atMs: Int64
        /// From -1 to 1.
        public var score: Double
    }
}

extension Optional {
    /// Sets a stamped field unless what it holds is newer than `atMs`.
    mutating func set<Value>(_ value: Value?, at atMs: Int64) where Wrapped == CustomerProfile.Stamped<Value> {
        guard let value else { return }
        if let current = self, current.atMs > atMs { return }
        self = CustomerProfile.Stamped(value: value, atMs: atMs)
    }
}
