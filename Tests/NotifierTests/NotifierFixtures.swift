import Foundation
import LiaisonSchema
import LiaisonStage
import Notifier
import SchemaChecking

/// Actions as the rules stage writes them, and the clock and policy the notifier tests share.
enum NotifierFixtures {
    /// Monday 2026-11-23 12:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_795_435_200)

    static func recipient(
        locale: String = "en", timeZone: String = "Europe/Berlin", marketingConsent: Bool? = true, email: String? = "ada@example.com",
        phone: String? = "+4915112345678", pushToken: String? = "push-token-ada", device: DeviceKind? = .phone,
        quietHours: (String, String)? = nil, generation: String? = "millennial"
    ) -> RecipientV1 {
        var recipient = RecipientV1()
        recipient.name = "Ada"
        recipient.locale = locale
        recipient.timeZone = timeZone
        recipient.email = email
        recipient.phone = phone
        recipient.pushToken = pushToken
        recipient.device = device
        recipient.marketingConsent = marketingConsent
        recipient.quietHours = quietHours.map { CustomerProfileUpdatedV1.QuietHours(start: $0.0, end: $0.1) }
        recipient.generation = generation
        return recipient
    }

    static func action(
        id: String = "check-deposit-confirmation@evt-1", kind: ActionKind = .engage, customer: String = "cust-1",
        template: String = "service.check-deposit-received", channelClass: ChannelClass = .service, priority: ActionPriority = .high,
        createdAt: Date = noon, validUntil: Date? = nil, recipient: RecipientV1? = NotifierFixtures.recipient(),
        payload: JSONObject = depositPayload
    ) -> ActionV1 {
        let decision = DecisionRecordV1(
            ruleId: "check-deposit-confirmation", packVersion: "2026.11.1", inputIds: ["evt-1"],
            inputPositions: [.init(topic: "liaison.enriched.v1", partition: 0, offset: 7)], reads: JSONObject(), outcome: .fired)
        var action = ActionV1(
            id: id, kind: kind, customerId: customer, ruleId: "check-deposit-confirmation", template: template,
            channelClass: channelClass, priority: priority, createdAt: Timestamp(createdAt), payload: payload, decision: decision)
        action.validUntil = validUntil.map { Timestamp($0) }
        action.recipient = recipient
        return action
    }

    static let depositPayload = JSONObject([
        "depositId": .string("dep-9"), "accountId": .string("chk-1"), "amount": .number(JSONNumber(250)), "currency": .string("EUR"),
    ])

    static let offerPayload = JSONObject([
        "amount": .number(JSONNumber(12_000)), "currency": .string("EUR"), "termDays": .number(JSONNumber(30)),
    ])

    static func record(_ action: ActionV1, offset: Int64 = 0, key: String? = nil) -> InputRecord {
        InputRecord(
            position: RecordPosition(topic: ActionV1.topic, partition: 0, offset: offset), key: Array((key ?? action.customerId).utf8),
            value: action.jsonBytes())
    }

    static func receipts(_ outputs: [OutputRecord]) throws -> [DeliveryReceiptV1] {
        try outputs.filter { $0.topic == DeliveryReceiptV1.topic }.map { try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: $0.value) }
    }

    static func alerts(_ outputs: [OutputRecord]) throws -> [EngagementAlertV1] {
        try outputs.filter { $0.topic == EngagementAlertV1.topic }.map { try JSONValueDecoder().decode(EngagementAlertV1.self, from: $0.value) }
    }

    static func deadLetters(_ outputs: [OutputRecord]) throws -> [DeadLetterV1] {
        try outputs.filter { $0.topic == DeadLetterV1.topic }.map { try JSONDecoder().decode(DeadLetterV1.self, from: Data($0.value)) }
    }

    static var catalog: TemplateCatalog {
        get throws {
            try TemplateCatalog(directory: SchemaChecker.repositoryRoot.appendingPathComponent("schemas/templates"))
        }
    }
}
