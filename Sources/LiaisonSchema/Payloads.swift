import Foundation

/// The `data` of one or more upstream record types (SCENARIOS.md, "Upstream contract").
/// Each knows the rules its fields follow beyond their JSON types.
public protocol EventPayload: OpenFields, Sendable, Equatable {
    func validate(_ check: FieldCheck) throws(SchemaViolation)
}

/// A string field with a fixed set of values. Decoding names the allowed values when it fails.
public protocol ClosedSet: RawRepresentable<String>, CaseIterable, Codable, Sendable, Hashable {}

extension ClosedSet {
    static func decodeClosedSet(_ decoder: any Decoder) throws -> Self {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be one of \(allowed), found \"\(raw.prefix(40))\"")
        }
        return value
    }
}

public enum CustomerTier: String, ClosedSet {
    case standard, gold, platinum
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum DeviceKind: String, ClosedSet {
    case phone, tablet
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum AccountType: String, ClosedSet {
    case checking, savings, cd
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum DepositChannel: String, ClosedSet {
    case mobile, branch
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum FeedbackChannel: String, ClosedSet {
    case survey, review, social, chat
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

public enum PlaceType: String, ClosedSet {
    case openHouse = "open-house"
    case branch, airport
    public init(from decoder: any Decoder) throws { self = try Self.decodeClosedSet(decoder) }
}

/// `customer.profile.updated`. Every field is optional: an update carries what changed, and a
/// field left out keeps its previous value.
public struct CustomerProfileUpdatedV1: EventPayload {
    public var name: String?
    public var birthYear: Int?
    public var locale: String?
    public var timeZone: String?
    public var tier: CustomerTier?
    public var contact: Contact?
    public var consent: Consent?
    public var quietHours: QuietHours?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, birthYear, locale, timeZone, tier, contact, consent, quietHours
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(name, "name")
        try check.integer(birthYear, "birthYear", 1900...2100)
        try check.text(locale, "locale", maxLength: 35, format: .locale)
        try check.text(timeZone, "timeZone", maxLength: 64, format: .timeZone)
        try contact?.validate(check.nested("contact"))
        try quietHours?.validate(check.nested("quietHours"))
    }

    public struct Contact: OpenFields, Sendable, Equatable {
        public var email: String?
        public var phone: String?
        public var pushToken: String?
        public var device: DeviceKind?
        public var extra = JSONObject()

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case email, phone, pushToken, device
        }

        func validate(_ check: FieldCheck) throws(SchemaViolation) {
            try check.text(email, "email", maxLength: 254, format: .email)
            try check.text(phone, "phone", maxLength: 16, format: .phone)
            try check.text(pushToken, "pushToken", maxLength: 4096)
        }
    }

    public struct Consent: OpenFields, Sendable, Equatable {
        public var marketing: Bool?
        public var service: Bool?
        public var extra = JSONObject()

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case marketing, service
        }
    }

    /// Local times in the customer's time zone; `end` before `start` spans midnight.
    public struct QuietHours: OpenFields, Sendable, Equatable {
        public var start: String
        public var end: String
        public var extra = JSONObject()

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case start, end
        }

        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }

        func validate(_ check: FieldCheck) throws(SchemaViolation) {
            try check.text(start, "start", maxLength: 5, format: .localTime)
            try check.text(end, "end", maxLength: 5, format: .localTime)
        }
    }
}

/// `customer.erasure.requested`: no fields; the subject is the customer to forget.
public struct CustomerErasureRequestedV1: EventPayload {
    public var extra = JSONObject()

    public init() {}

    public enum CodingKeys: CodingKey, CaseIterable {}

    public init(from decoder: any Decoder) throws {}
    public func encode(to encoder: any Encoder) throws {}
    public func validate(_ check: FieldCheck) throws(SchemaViolation) {}
}

/// `banking.transaction.posted`. A negative amount is a debit.
public struct BankingTransactionPostedV1: EventPayload {
    public var accountId: String
    public var accountType: AccountType
    public var amount: Decimal
    public var currency: String
    public var balanceAfter: Decimal
    public var description: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case accountId, accountType, amount, currency, balanceAfter, description
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(accountId, "accountId")
        try check.text(currency, "currency", maxLength: 3, format: .currency)
        try check.text(description, "description", maxLength: 1000)
    }
}

/// `banking.check.deposited`.
public struct BankingCheckDepositedV1: EventPayload {
    public var accountId: String
    public var depositId: String
    public var amount: Decimal
    public var currency: String
    public var via: DepositChannel
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case accountId, depositId, amount, currency, via
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(accountId, "accountId")
        try check.text(depositId, "depositId")
        try check.text(currency, "currency", maxLength: 3, format: .currency)
    }
}

/// `banking.product.opened`. `productType` is open-ended (cd, mortgage, savings, …).
public struct BankingProductOpenedV1: EventPayload {
    public var accountId: String
    public var productType: String
    public var termDays: Int?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case accountId, productType, termDays
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(accountId, "accountId")
        try check.text(productType, "productType", maxLength: 64)
        try check.integer(termDays, "termDays", 0...36_500)
    }
}

/// `travel.booking.confirmed`. `departure` carries the airport's UTC offset.
public struct TravelBookingConfirmedV1: EventPayload {
    public var bookingId: String
    public var flight: String
    public var origin: String
    public var destination: String
    public var departure: Timestamp
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case bookingId, flight, origin, destination, departure
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(bookingId, "bookingId")
        try check.text(flight, "flight", maxLength: 16)
        try check.text(origin, "origin", maxLength: 64)
        try check.text(destination, "destination", maxLength: 64)
    }
}

/// `travel.flight.rescheduled`: the booking's new departure.
public struct TravelFlightRescheduledV1: EventPayload {
    public var bookingId: String
    public var departure: Timestamp
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case bookingId, departure
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(bookingId, "bookingId")
    }
}

/// `travel.booking.cancelled`.
public struct TravelBookingCancelledV1: EventPayload {
    public var bookingId: String
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case bookingId
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(bookingId, "bookingId")
    }
}

/// `crm.case.opened` and `crm.case.resolved`.
public struct CRMCaseV1: EventPayload {
    public var caseId: String
    public var topic: String?
    public var severity: String?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case caseId, topic, severity
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(caseId, "caseId")
        try check.text(topic, "topic")
        try check.text(severity, "severity", maxLength: 32)
    }
}

/// `finance.invoice.paid`.
public struct FinanceInvoicePaidV1: EventPayload {
    public var invoiceId: String
    public var orderId: String?
    public var amount: Decimal
    public var currency: String
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case invoiceId, orderId, amount, currency
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(invoiceId, "invoiceId")
        try check.text(orderId, "orderId")
        try check.text(currency, "currency", maxLength: 3, format: .currency)
    }
}

/// `engagement.feedback.received`. A `rating` or an upstream `score` wins over the text's
/// own sentiment when present.
public struct EngagementFeedbackReceivedV1: EventPayload {
    public var channel: FeedbackChannel
    public var text: String?
    public var rating: Int?
    public var language: String?
    /// Sentiment an upstream system already computed, from -1 (negative) to 1 (positive).
    public var score: Double?
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case channel, text, rating, language, score
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(text, "text", maxLength: 20_000)
        try check.integer(rating, "rating", 1...5)
        try check.text(language, "language", maxLength: 35, format: .locale)
        try check.number(score, "score", -1...1)
    }
}

/// `engagement.web.researched`. `topic` is open-ended (mortgage, cd, travel-insurance, …).
public struct EngagementWebResearchedV1: EventPayload {
    public var topic: String
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case topic
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(topic, "topic", maxLength: 64)
    }
}

/// `engagement.geo.entered`.
public struct EngagementGeoEnteredV1: EventPayload {
    public var placeType: PlaceType
    public var placeId: String
    public var lat: Double
    public var lon: Double
    public var extra = JSONObject()

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case placeType, placeId, lat, lon
    }

    public func validate(_ check: FieldCheck) throws(SchemaViolation) {
        try check.text(placeId, "placeId")
        try check.number(lat, "lat", -90...90)
        try check.number(lon, "lon", -180...180)
    }
}
