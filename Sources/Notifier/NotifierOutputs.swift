import Foundation
import LiaisonSchema
import LiaisonStage

/// The topics the notifier writes to besides the providers.
public struct NotifierTopics: Sendable, Equatable {
    public var receipts: String
    public var alerts: String
    public var deadLetters: String
    public var agentTasks: String
    public var crm: String
    public var inbox: String

    public init(
        receipts: String = DeliveryReceiptV1.topic, alerts: String = EngagementAlertV1.topic, deadLetters: String = DeadLetterV1.topic,
        agentTasks: String = LiaisonTopics.agentTasks, crm: String = LiaisonTopics.crmUpdates, inbox: String = LiaisonTopics.inbox
    ) {
        self.receipts = receipts
        self.alerts = alerts
        self.deadLetters = deadLetters
        self.agentTasks = agentTasks
        self.crm = crm
        self.inbox = inbox
    }

    /// The topic a Kafka channel writes to.
    public func topic(of channel: Channel) -> String? {
        switch channel {
        case .agentTask: agentTasks
        case .crm: crm
        case .inbox: inbox
        case .email, .sms, .push, .webhook: nil
        }
    }
}

/// Builds the records the notifier emits about an action. Ids are deterministic (action id and
/// status), so a record produced again after a crash is recognisably the same one.
public struct NotifierOutputs: Sendable {
    public let topics: NotifierTopics
    public let stageName: String

    public init(topics: NotifierTopics, stageName: String = "notifier") {
        self.topics = topics
        self.stageName = stageName
    }

    public func receipt(
        _ action: ActionV1, _ status: DeliveryStatus, reason: String? = nil, channel: Channel? = nil, at: Date, attempts: Int = 0,
        providerMessageID: String? = nil, deferredUntil: Date? = nil
    ) -> OutputRecord {
        var receipt = DeliveryReceiptV1(
            id: "\(action.id):\(status.rawValue)", actionId: action.id, customerId: action.customerId, status: status,
            at: Timestamp(at), attempts: attempts)
        receipt.ruleId = action.ruleId
        receipt.template = action.template
        receipt.reason = reason
        receipt.channel = channel?.rawValue
        receipt.providerMessageId = providerMessageID
        receipt.deferredUntil = deferredUntil.map { Timestamp($0) }
        receipt.traceparent = action.traceparent
        return record(id: receipt.id, topic: topics.receipts, customer: action.customerId, receipt)
    }

    public func alert(_ action: ActionV1, _ kind: EngagementAlertV1.Kind, reason: String, at: Date) -> OutputRecord {
        var alert = EngagementAlertV1(
            id: "\(action.id):alert", kind: kind, actionId: action.id, customerId: action.customerId, reason: reason, at: Timestamp(at))
        alert.ruleId = action.ruleId
        alert.template = action.template
        alert.validUntil = action.validUntil
        alert.traceparent = action.traceparent
        return record(id: alert.id, topic: topics.alerts, customer: action.customerId, alert)
    }

    /// The action as a dead letter: a delivery that failed for good, with its reason, so it can
    /// be inspected and re-driven.
    public func deadLetter(_ action: ActionV1, source: DeadLetterV1.SourcePosition, reason: String, message: String, at: Date) -> OutputRecord {
        let value = action.jsonBytes()
        let letter = DeadLetterV1(
            reason: reason, message: message, stage: stageName, inputID: action.id, source: source,
            keyBase64: Data(action.customerId.utf8).base64EncodedString(), valueBase64: Data(value).base64EncodedString(),
            truncated: false, valueBytes: value.count, headers: [], rejectedAt: Timestamp(at).text)
        return OutputRecord(
            id: "\(stageName):dlq:\(action.id)", topic: topics.deadLetters, key: Array(action.customerId.utf8),
            value: encoded(letter), headers: [RecordHeader(name: "liaison-dlq-reason", string: reason)])
    }

    /// A rendered message for a Kafka channel's reader.
    public func engagementMessage(_ message: OutgoingMessage, action: ActionV1, at: Date) -> OutputRecord? {
        guard let topic = topics.topic(of: message.channel) else { return nil }
        var engagement = EngagementMessageV1(
            id: message.idempotencyKey, actionId: action.id, customerId: action.customerId, channel: message.channel.rawValue,
            text: message.text, payload: action.payload, createdAt: Timestamp(at))
        engagement.ruleId = action.ruleId
        engagement.template = action.template
        engagement.priority = action.priority
        engagement.subject = message.subject
        engagement.locale = message.locale
        engagement.traceparent = action.traceparent
        return record(id: engagement.id, topic: topic, customer: action.customerId, engagement)
    }

    private func record(id: String, topic: String, customer: String, _ value: some Encodable) -> OutputRecord {
        OutputRecord(id: id, topic: topic, key: Array(customer.utf8), value: encoded(value))
    }
}

/// Encodes one of the schema's own records, which always encode: their values came from
/// validated JSON or from the notifier itself.
private func encoded(_ value: some Encodable) -> [UInt8] {
    do {
        return try JSONValueEncoder().encodeBytes(value)
    } catch {
        preconditionFailure("a schema record did not encode: \(error)")
    }
}
