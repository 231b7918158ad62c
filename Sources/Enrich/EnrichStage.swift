import Foundation
import LiaisonSchema
import LiaisonStage

/// The enrich stage's logic: it folds events and delivery receipts into the customer's profile
/// and emits every event with a snapshot of what is known about its customer at that moment.
/// Records are keyed by customer id, so a customer's profile lives in one partition's state.
public struct EnrichStage: Stage {
    public let name = "enrich"
    public let deliveriesTopic: String
    public let outputTopic: String
    public let features: FeatureSettings
    public let sentiment: SentimentScorer

    public init(
        features: FeatureSettings, sentiment: SentimentScorer,
        deliveriesTopic: String = DeliveryReceiptV1.topic, outputTopic: String = EnrichedEventV1.topic
    ) {
        self.features = features
        self.sentiment = sentiment
        self.deliveriesTopic = deliveriesTopic
        self.outputTopic = outputTopic
    }

    /// A record read once, on any core, before de-duplication.
    public enum Reading: Sendable {
        /// An event, with its feedback's sentiment score when it is feedback.
        case event(EventV1, sentiment: Double?)
        case receipt(DeliveryReceiptV1)
        case unreadable(StageFailure)
    }

    public func read(_ record: InputRecord) -> Reading {
        if record.position.topic == deliveriesTopic {
            do {
                return .receipt(try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: record.value))
            } catch {
                return .unreadable(StageFailure(code: "invalid_receipt", message: "not a delivery receipt v1: \(error)"))
            }
        }
        let event: EventV1
        do {
            event = try EventV1(bytes: record.value)
        } catch let rejection as EventRejection {
            return .unreadable(StageFailure(code: rejection.code, message: rejection.message))
        } catch let malformed as JSONParseError {
            return .unreadable(StageFailure(code: malformed.kind.reasonCode, message: malformed.description))
        } catch {
            return .unreadable(StageFailure(code: "invalid_event", message: "not a Liaison event v1: \(error)"))
        }
        guard case let .engagementFeedbackReceived(feedback) = event.data else { return .event(event, sentiment: nil) }
        return .event(event, sentiment: score(feedback))
    }

    /// A rating wins (1 → −1, 3 → 0, 5 → 1: (rating − 3) / 2), then an upstream score, then
    /// the text's own sentiment.
    func score(_ feedback: EngagementFeedbackReceivedV1) -> Double? {
        if let rating = feedback.rating { return Double(rating - 3) / 2 }
        if let score = feedback.score { return score }
        return feedback.text.flatMap { sentiment.score(text: $0, language: feedback.language) }
    }

    public func process(
        _ record: InputRecord, reading: Reading, inputID: String, state: ProfileState
    ) throws(StageFailure) -> Effect<ProfileState.Change> {
        switch reading {
        case let .unreadable(failure):
            throw failure
        case let .receipt(receipt):
            try checkKey(record, customerId: receipt.customerId)
            var profile = state.profile(of: receipt.customerId)
            if profile.isErased {
                return Effect(verdict: .ignored, reason: "customer_erased: \(receipt.customerId) asked to be forgotten; no contact is kept")
            }
            guard receipt.status == .sent else {
                return Effect(verdict: .ignored, reason: "not_contact: a \(receipt.status.rawValue) delivery did not reach the customer")
            }
            profile.apply(receipt)
            return Effect(changes: [.put(profile)])
        case let .event(event, sentiment):
            try checkKey(record, customerId: event.subject)
            var profile = state.profile(of: event.subject)
            let wasErased = profile.isErased
            profile.apply(event, sentiment: sentiment)
            let enriched = enrichedBytes(event: record.value, context: profile.context(features))
            let output = OutputRecord(id: "\(name):\(inputID)", topic: outputTopic, key: Array(event.subject.utf8), value: enriched)
            return Effect(outputs: [output], changes: wasErased ? [] : [.put(profile)])
        }
    }

    /// A customer's profile is in the partition of its key, so a record keyed otherwise would
    /// start a second, partial profile somewhere else.
    private func checkKey(_ record: InputRecord, customerId: String) throws(StageFailure) {
        guard let key = record.key else {
            throw StageFailure(code: "missing_key", message: "the record has no key; enrich needs records keyed by customer id (\(customerId))")
        }
        guard key.elementsEqual(customerId.utf8) else {
            throw StageFailure(
                code: "key_mismatch",
                message: "the record is keyed \"\(String(decoding: key.prefix(64), as: UTF8.self))\" but is about customer \"\(customerId.prefix(64))\"; "
                    + "a customer's profile lives in the partition of its id, so producers must key by customer id")
        }
    }

    /// `{"event": <the event's own bytes>, "context": …}`: the event passes through untouched.
    private func enrichedBytes(event: [UInt8], context: CustomerContextV1) -> [UInt8] {
        var writer = JSONWriter(capacity: event.count + 768)
        writer.beginObject()
        writer.key("event")
        writer.raw(event)
        writer.key("context")
        context.write(to: &writer)
        writer.endObject()
        return writer.bytes
    }
}

/// The profiles of the customers a batch touches, as loaded from the partition's file.
public struct ProfileState: StageState {
    public enum Change: Sendable, Equatable {
        /// The customer's whole new profile.
        case put(CustomerProfile)
    }

    public private(set) var profiles: [String: CustomerProfile]

    public init(profiles: [String: CustomerProfile] = [:]) {
        self.profiles = profiles
    }

    /// The stored profile, or an empty one for a customer seen for the first time.
    public func profile(of customerId: String) -> CustomerProfile {
        profiles[customerId] ?? CustomerProfile(customerId: customerId)
    }

    public mutating func apply(_ change: Change) {
        switch change {
        case let .put(profile): profiles[profile.customerId] = profile
        }
    }
}
