extension ActionV1 {
    /// The action as JSON, written member by member: the rules stage writes one per fired rule,
    /// and the generic encoder would cost more than evaluating the rules. Reads back with
    /// `JSONValueDecoder` to an equal value; members appear in `CodingKeys` order, then `extra`.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 1_024)
        writer.beginObject()
        writer.member("id", id)
        writer.member("kind", kind.rawValue)
        writer.member("customerId", customerId)
        writer.member("ruleId", ruleId)
        writer.member("template", template)
        writer.member("channelClass", channelClass.rawValue)
        writer.member("priority", priority.rawValue)
        writer.member("createdAt", createdAt.text)
        writer.member("validUntil", validUntil?.text)
        writer.key("payload")
        writer.value(.object(payload))
        if let recipient {
            writer.key("recipient")
            recipient.write(to: &writer)
        }
        writer.member("erased", erased)
        writer.key("decision")
        decision.write(to: &writer)
        writer.member("traceparent", traceparent)
        writer.extras(extra, besides: CodingKeys.self)
        writer.endObject()
        return writer.bytes
    }
}

extension DecisionRecordV1 {
    /// The decision as JSON, as `ActionV1.jsonBytes` embeds it and the rules stage keeps it.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("ruleId", ruleId)
        writer.member("packVersion", packVersion)
        writer.key("inputIds")
        writer.beginArray()
        for id in inputIds { writer.string(id) }
        writer.endArray()
        writer.key("inputPositions")
        writer.beginArray()
        for position in inputPositions {
            writer.beginObject()
            writer.member("topic", position.topic)
            writer.key("partition")
            writer.integer(Int64(position.partition))
            writer.key("offset")
            writer.integer(position.offset)
            writer.endObject()
        }
        writer.endArray()
        writer.key("reads")
        writer.value(.object(reads))
        writer.member("outcome", outcome.rawValue)
        writer.member("reason", reason)
        writer.extras(extra, besides: CodingKeys.self)
        writer.endObject()
    }
}
