import Foundation

extension CustomerContextV1 {
    /// The snapshot as JSON, written member by member: enrich writes one per event, and the
    /// generic encoder would cost more than the rest of enriching it. Reads back with
    /// `JSONValueDecoder` to an equal value; members appear in `CodingKeys` order, then `extra`.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 768)
        write(to: &writer)
        return writer.bytes
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("customerId", customerId)
        writer.member("erased", erased)
        writer.member("asOf", asOf?.text)
        if let recipient {
            writer.key("recipient")
            recipient.write(to: &writer)
        }
        if let segment {
            writer.key("segment")
            writer.beginObject()
            writer.member("tier", segment.tier?.rawValue)
            writer.member("generation", segment.generation)
            writer.extras(segment.extra, besides: SegmentV1.CodingKeys.self)
            writer.endObject()
        }
        if let productsHeld {
            writer.key("productsHeld")
            writer.beginArray()
            for product in productsHeld { writer.string(product) }
            writer.endArray()
        }
        writer.member("checkingBalance", checkingBalance)
        writer.member("cashNeed", cashNeed)
        writer.member("surplus", surplus)
        writer.member("sentiment", sentiment)
        writer.member("churnRisk", churnRisk)
        writer.member("spendZScore", spendZScore)
        writer.member("activityZScore", activityZScore)
        writer.member("openCases", openCases)
        writer.member("oldestOpenCaseDays", oldestOpenCaseDays)
        if let upcomingTrips {
            writer.key("upcomingTrips")
            writer.beginArray()
            for trip in upcomingTrips {
                writer.beginObject()
                writer.member("bookingId", trip.bookingId)
                writer.member("flight", trip.flight)
                writer.member("origin", trip.origin)
                writer.member("destination", trip.destination)
                writer.member("departure", trip.departure.text)
                writer.extras(trip.extra, besides: TripV1.CodingKeys.self)
                writer.endObject()
            }
            writer.endArray()
        }
        if let recentResearch {
            writer.key("recentResearch")
            writer.beginArray()
            for research in recentResearch {
                writer.beginObject()
                writer.member("topic", research.topic)
                writer.member("at", research.at.text)
                writer.extras(research.extra, besides: ResearchV1.CodingKeys.self)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.member("lastContactByChannel", lastContactByChannel)
        writer.member("lastContactByTemplate", lastContactByTemplate)
        writer.extras(extra, besides: CodingKeys.self)
        writer.endObject()
    }
}

extension RecipientV1 {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("name", name)
        writer.member("locale", locale)
        writer.member("timeZone", timeZone)
        writer.member("email", email)
        writer.member("phone", phone)
        writer.member("pushToken", pushToken)
        writer.member("device", device?.rawValue)
        writer.member("marketingConsent", marketingConsent)
        writer.member("serviceConsent", serviceConsent)
        if let quietHours {
            writer.key("quietHours")
            writer.beginObject()
            writer.member("start", quietHours.start)
            writer.member("end", quietHours.end)
            writer.extras(quietHours.extra, besides: CustomerProfileUpdatedV1.QuietHours.CodingKeys.self)
            writer.endObject()
        }
        writer.member("generation", generation)
        writer.extras(extra, besides: CodingKeys.self)
        writer.endObject()
    }
}

extension JSONWriter {
    /// Optional members are left out when nil, as the synthesized encoders do.
    mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func member(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    mutating func member(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        integer(Int64(value))
    }

    /// Written as Swift prints it (shortest text that reads back to the same double), as `JSONValueEncoder` does.
    mutating func member(_ name: String, _ value: Double?) {
        guard let value, value.isFinite else { return }
        key(name)
        number(JSONNumber(validatedText: "\(value)"))
    }

    mutating func member(_ name: String, _ value: Decimal?) {
        guard let value, !value.isNaN else { return }
        key(name)
        number(JSONNumber(validatedText: value.plainText))
    }

    /// Sorted by name, so the same snapshot always has the same bytes.
    mutating func member(_ name: String, _ value: [String: Timestamp]?) {
        guard let value else { return }
        key(name)
        beginObject()
        for (entry, time) in value.sorted(by: { $0.key < $1.key }) {
            key(entry)
            string(time.text)
        }
        endObject()
    }

    /// Unknown members a value carried in, except any that a known field already wrote.
    mutating func extras<Keys: CodingKey & CaseIterable>(_ extra: JSONObject, besides keys: Keys.Type) {
        for member in extra where !Keys.allCases.contains(where: { $0.stringValue == member.key }) {
            key(member.key)
            value(member.value)
        }
    }
}
