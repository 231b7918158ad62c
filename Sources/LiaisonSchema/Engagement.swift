import Foundation

/// An event with what enrich knows about its customer at that moment: the record rules read.
/// Published on `liaison.enriched.v1`, keyed by customer id.
public struct EnrichedEventV1: OpenFields, Sendable, Equatable {
    public static let topic = "liaison.enriched.v1"

    public var event: EventV1
    public var context: CustomerContextV1
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case event, context
    }

    public init(event: EventV1, context: CustomerContextV1) {
        self.event = event
        self.context = context
    }
}

/// The bounded snapshot of a customer's profile and derived features that rules need.
/// Every feature is optional: a new customer has none yet.
public struct CustomerContextV1: OpenFields, Sendable, Equatable {
    public var customerId: String
    /// Set once the customer asked to be forgotten; nothing else is filled in then.
    public var erased: Bool
    /// The newest event time in the profile: the "now" the features were computed at.
    public var asOf: Timestamp?
    public var recipient: RecipientV1?
    public var segment: SegmentV1?
    /// Products the customer holds, by product type (`checking`, `cd`, `mortgage`, …).
    public var productsHeld: [String]?
    public var checkingBalance: Decimal?
    /// Estimated cash need from the last 90 days of checking debits.
    public var cashNeed: Decimal?
    /// Checking balance above the cash need.
    public var surplus: Decimal?
    /// Sentiment of the latest feedback, from -1 to 1.
    public var sentiment: Double?
    /// Churn risk from 0 to 1.
    public var churnRisk: Double?
    /// How far the last 14 days depart from the 90-day baseline, in standard deviations.
    public var spendZScore: Double?
    public var activityZScore: Double?
    public var openCases: Int?
    public var oldestOpenCaseDays: Int?
    public var upcomingTrips: [TripV1]?
    /// Topics researched lately, with when.
    public var recentResearch: [ResearchV1]?
    /// When the customer was last reached, per channel (`email`, `push`, …) and per template.
    public var lastContactByChannel: [String: Timestamp]?
    public var lastContactByTemplate: [String: Timestamp]?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case customerId, erased, asOf, recipient, segment, productsHeld, checkingBalance, cashNeed, surplus, sentiment, churnRisk
        case spendZScore, activityZScore, openCases, oldestOpenCaseDays, upcomingTrips, recentResearch
        case lastContactByChannel, lastContactByTemplate
    }

    public init(customerId: String, erased: Bool = false) {
        self.customerId = customerId
        self.erased = erased
    }
}

/// Who a customer is for the purpose of reaching them: channels, language, time and consent.
public struct RecipientV1: OpenFields, Sendable, Equatable {
    public var name: String?
    public var locale: String?
    public var timeZone: String?
    public var email: String?
    public var phone: String?
    public var pushToken: String?
    public var device: DeviceKind?
    public var marketingConsent: Bool?
    public var serviceConsent: Bool?
    public var quietHours: CustomerProfileUpdatedV1.QuietHours?
    /// The generation band (as in `SegmentV1`), which picks a template's tone.
    public var generation: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, locale, timeZone, email, phone, pushToken, device, marketingConsent, serviceConsent, quietHours, generation
    }

    public init() {}
}

/// Tier and generation band, which pick an offer's tone and a template's variant.
public struct SegmentV1: OpenFields, Sendable, Equatable {
    public var tier: CustomerTier?
    /// `gen-z`, `millennial`, `gen-x`, `boomer`, `silent`, from the birth year.
    public var generation: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case tier, generation
    }

    public init(tier: CustomerTier? = nil, generation: String? = nil) {
        self.tier = tier
        self.generation = generation
    }
}

public struct TripV1: OpenFields, Sendable, Equatable {
    public var bookingId: String
    public var flight: String?
    public var origin: String?
    public var destination: String?
    public var departure: Timestamp
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case bookingId, flight, origin, destination, departure
    }

    public init(bookingId: String, departure: Timestamp) {
        self.bookingId = bookingId
        self.departure = departure
    }
}

public struct ResearchV1: OpenFields, Sendable, Equatable {
    public var topic: String
    public var at: Timestamp
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case topic, at
    }

    public init(topic: String, at: Timestamp) {
        self.topic = topic
        self.at = at
    }
}

/// What kind of permission a message needs: marketing needs consent, service does not.
public enum ChannelClass: String, ClosedSet {
    case service
    case marketing
    case agentTask = "agent-task"
    case crmUpdate = "crm-update"
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum ActionPriority: String, ClosedSet {
    case low, normal, high, urgent
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum ActionKind: String, ClosedSet {
    /// Reach the customer (or an agent, or the CRM).
    case engage
    /// A timed engagement that could not fire while it was still valid; reported and alerted.
    case missed
    /// The customer asked to be forgotten: whatever is still queued for them is dropped.
    case forget
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

/// An engagement intent: rules decided someone should hear something. Published on
/// `liaison.actions.v1`, keyed by customer id; the notifier turns it into deliveries.
public struct ActionV1: OpenFields, Sendable, Equatable {
    public static let topic = "liaison.actions.v1"

    /// Deterministic: rule id, the input id or timer key, and the due time.
    public var id: String
    public var kind: ActionKind
    public var customerId: String
    public var ruleId: String
    public var template: String
    public var channelClass: ChannelClass
    public var priority: ActionPriority
    public var createdAt: Timestamp
    /// Not to be delivered after this instant.
    public var validUntil: Timestamp?
    /// Values the template renders.
    public var payload: JSONObject
    public var recipient: RecipientV1?
    public var erased: Bool?
    public var decision: DecisionRecordV1
    public var traceparent: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, customerId, ruleId, template, channelClass, priority, createdAt, validUntil, payload, recipient, erased
        case decision, traceparent
    }

    public init(
        id: String, kind: ActionKind, customerId: String, ruleId: String, template: String, channelClass: ChannelClass,
        priority: ActionPriority, createdAt: Timestamp, payload: JSONObject, decision: DecisionRecordV1
    ) {
        self.id = id
        self.kind = kind
        self.customerId = customerId
        self.ruleId = ruleId
        self.template = template
        self.channelClass = channelClass
        self.priority = priority
        self.createdAt = createdAt
        self.payload = payload
        self.decision = decision
    }
}

/// Why a rule fired or was held back: the answer to "why did (or didn't) this customer hear from us".
public struct DecisionRecordV1: OpenFields, Sendable, Equatable {
    public enum Outcome: String, ClosedSet {
        case fired, suppressed, scheduled, cancelled, missed
        public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
    }

    public var ruleId: String
    public var packVersion: String
    public var inputIds: [String]
    public var inputPositions: [DeadLetterV1.SourcePosition]
    /// The context values the rule's condition read, by path.
    public var reads: JSONObject
    public var outcome: Outcome
    public var reason: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case ruleId, packVersion, inputIds, inputPositions, reads, outcome, reason
    }

    public init(
        ruleId: String, packVersion: String, inputIds: [String], inputPositions: [DeadLetterV1.SourcePosition],
        reads: JSONObject, outcome: Outcome, reason: String? = nil
    ) {
        self.ruleId = ruleId
        self.packVersion = packVersion
        self.inputIds = inputIds
        self.inputPositions = inputPositions
        self.reads = reads
        self.outcome = outcome
        self.reason = reason
    }
}

public enum DeliveryStatus: String, ClosedSet {
    case sent, deferred, suppressed, failed, missed
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }

    /// Whether the receipt ends its action: every status but `deferred`, which says when
    /// delivery will be tried and is followed by the final one.
    public var isFinal: Bool { self != .deferred }
}

/// What became of an action: one final receipt per action (after any `deferred` ones).
/// Published on `liaison.deliveries.v1`, keyed by customer id; enrich reads it back as last contact.
public struct DeliveryReceiptV1: OpenFields, Sendable, Equatable {
    public static let topic = "liaison.deliveries.v1"

    public var id: String
    public var actionId: String
    public var customerId: String
    public var ruleId: String?
    public var template: String?
    public var status: DeliveryStatus
    public var reason: String?
    /// `email`, `sms`, `push`, `webhook`, `agent-task`, `crm`, `inbox`.
    public var channel: String?
    public var at: Timestamp
    public var attempts: Int
    public var providerMessageId: String?
    /// For `deferred`: when delivery will be tried (the end of the customer's quiet hours).
    public var deferredUntil: Timestamp?
    public var traceparent: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, actionId, customerId, ruleId, template, status, reason, channel, at, attempts, providerMessageId, deferredUntil
        case traceparent
    }

    public init(id: String, actionId: String, customerId: String, status: DeliveryStatus, at: Timestamp, attempts: Int) {
        self.id = id
        self.actionId = actionId
        self.customerId = customerId
        self.status = status
        self.at = at
        self.attempts = attempts
    }
}

/// A rendered engagement for a reader inside the company rather than a provider: the agent
/// desktop (agent tasks), the CRM (status updates) and the app's inbox each read their topic.
public struct EngagementMessageV1: OpenFields, Sendable, Equatable {
    public var id: String
    public var actionId: String
    public var customerId: String
    /// `agent-task`, `crm` or `inbox`.
    public var channel: String
    public var ruleId: String?
    public var template: String?
    public var priority: ActionPriority?
    public var subject: String?
    public var text: String
    public var locale: String?
    /// The action's values, for readers that act on them (which place, which invoice).
    public var payload: JSONObject
    public var createdAt: Timestamp
    public var traceparent: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, actionId, customerId, channel, ruleId, template, priority, subject, text, locale, payload, createdAt, traceparent
    }

    public init(id: String, actionId: String, customerId: String, channel: String, text: String, payload: JSONObject, createdAt: Timestamp) {
        self.id = id
        self.actionId = actionId
        self.customerId = customerId
        self.channel = channel
        self.text = text
        self.payload = payload
        self.createdAt = createdAt
    }
}

/// An engagement that did not reach its customer in time: someone should look. Published on
/// the notifier's alert topic (`liaison.alerts.v1` by default), keyed by customer id.
public struct EngagementAlertV1: OpenFields, Sendable, Equatable {
    public static let topic = "liaison.alerts.v1"

    public enum Kind: String, ClosedSet {
        /// The rules stage could not fire a timed engagement while it was valid.
        case missed
        /// The notifier held a message back (quiet hours) or kept retrying until it was too late.
        case undeliverableInTime = "undeliverable-in-time"
        public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
    }

    public var id: String
    public var kind: Kind
    public var actionId: String
    public var customerId: String
    public var ruleId: String?
    public var template: String?
    public var reason: String
    public var validUntil: Timestamp?
    public var at: Timestamp
    public var traceparent: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, actionId, customerId, ruleId, template, reason, validUntil, at, traceparent
    }

    public init(id: String, kind: Kind, actionId: String, customerId: String, reason: String, at: Timestamp) {
        self.id = id
        self.kind = kind
        self.actionId = actionId
        self.customerId = customerId
        self.reason = reason
        self.at = at
    }
}
