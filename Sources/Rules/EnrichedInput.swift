import LiaisonSchema
import LiaisonStage

/// An enriched record read once, before de-duplication: the event and context as JSON for the
/// expressions, and the few fields the stage itself needs.
public struct EnrichedInput: Sendable {
    public var event: JSONValue
    public var context: JSONValue
    public var eventId: String
    public var eventType: String
    public var time: Timestamp
    public var customerId: String
    public var erased: Bool
    /// The context's recipient as JSON, decoded only for the records that produce an action.
    public var recipientJSON: JSONValue?
    public var traceparent: String?

    /// Reads `{"event": …, "context": …}` as enrich writes it; a record that is not one is
    /// rejected with a reason rather than evaluated on guesswork.
    public init(_ record: InputRecord) throws(StageFailure) {
        let root: JSONValue
        do {
            root = try JSONParser().parse(record.value)
        } catch {
            throw StageFailure(code: error.kind.reasonCode, message: error.description)
        }
        guard let event = root["event"], case .object = event else { throw Self.invalid("no \"event\" object") }
        guard let context = root["context"], case .object = context else { throw Self.invalid("no \"context\" object") }
        guard let eventId = event["id"]?.stringValue, !eventId.isEmpty else { throw Self.invalid("the event has no id") }
        guard let eventType = event["type"]?.stringValue else { throw Self.invalid("the event \(eventId) has no type") }
        guard let timeText = event["time"]?.stringValue, let time = Timestamp(timeText) else {
            throw Self.invalid("the event \(eventId) has no RFC 3339 time")
        }
        guard let customerId = context["customerId"]?.stringValue, !customerId.isEmpty else {
            throw Self.invalid("the context of event \(eventId) has no customerId")
        }
        if let key = record.keyString, key != customerId {
            throw StageFailure(
                code: "key_mismatch", message: "the record is keyed \(key) but its context is customer \(customerId)")
        }
        self.event = event
        self.context = context
        self.eventId = eventId
        self.eventType = eventType
        self.time = time
        self.customerId = customerId
        erased = context["erased"] == .bool(true) || eventType == EventType.customerErasureRequested.rawValue
        traceparent = event["traceparent"]?.stringValue
        if let recipient = context["recipient"], case .object = recipient { recipientJSON = recipient }
    }

    /// How to reach the customer, as enrich knew it; a malformed one rejects the record.
    public func recipient() throws(StageFailure) -> RecipientV1? {
        guard let recipientJSON else { return nil }
        do {
            return try JSONValueDecoder().decode(RecipientV1.self, from: recipientJSON)
        } catch {
            throw Self.invalid("the context's recipient: \(error)")
        }
    }

    private static func invalid(_ message: String) -> StageFailure {
        StageFailure(code: "invalid_enriched", message: "not an enriched event v1: \(message)")
    }
}
