import Foundation

/// The record types upstream systems publish (SCENARIOS.md, "Upstream contract").
public enum EventType: String, CaseIterable, Sendable, Codable {
    case customerProfileUpdated = "customer.profile.updated"
    case customerErasureRequested = "customer.erasure.requested"
    case bankingTransactionPosted = "banking.transaction.posted"
    case bankingCheckDeposited = "banking.check.deposited"
    case bankingProductOpened = "banking.product.opened"
    case travelBookingConfirmed = "travel.booking.confirmed"
    case travelFlightRescheduled = "travel.flight.rescheduled"
    case travelBookingCancelled = "travel.booking.cancelled"
    case crmCaseOpened = "crm.case.opened"
    case crmCaseResolved = "crm.case.resolved"
    case financeInvoicePaid = "finance.invoice.paid"
    case engagementFeedbackReceived = "engagement.feedback.received"
    case engagementWebResearched = "engagement.web.researched"
    case engagementGeoEntered = "engagement.geo.entered"

    /// The Swift type of this record type's `data`.
    public var payloadType: any EventPayload.Type {
        switch self {
        case .customerProfileUpdated: CustomerProfileUpdatedV1.self
        case .customerErasureRequested: CustomerErasureRequestedV1.self
        case .bankingTransactionPosted: BankingTransactionPostedV1.self
        case .bankingCheckDeposited: BankingCheckDepositedV1.self
        case .bankingProductOpened: BankingProductOpenedV1.self
        case .travelBookingConfirmed: TravelBookingConfirmedV1.self
        case .travelFlightRescheduled: TravelFlightRescheduledV1.self
        case .travelBookingCancelled: TravelBookingCancelledV1.self
        case .crmCaseOpened, .crmCaseResolved: CRMCaseV1.self
        case .financeInvoicePaid: FinanceInvoicePaidV1.self
        case .engagementFeedbackReceived: EngagementFeedbackReceivedV1.self
        case .engagementWebResearched: EngagementWebResearchedV1.self
        case .engagementGeoEntered: EngagementGeoEnteredV1.self
        }
    }

    /// Whether a record of this type may leave `data` out.
    public var dataIsOptional: Bool { self == .customerErasureRequested }
}

/// Why an envelope is not an acceptable event. Each case is one dead-letter reason code.
public enum EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case schemaViolation(SchemaViolation)
    case unknownType(String)
    case missingSubject(String)
    case futureTimestamp(String)

    public var code: String {
        switch self {
        case .schemaViolation: "schema_violation"
        case .unknownType: "unknown_type"
        case .missingSubject: "missing_subject"
        case .futureTimestamp: "future_timestamp"
        }
    }

    public var message: String {
        switch self {
        case let .schemaViolation(violation): violation.description
        case let .unknownType(type):
            "type: \"\(type.prefix(100))\" is not a record type Liaison knows; see schemas/README.md for the list"
        case let .missingSubject(message), let .futureTimestamp(message): message
        }
    }

    public var description: String { "\(code): \(message)" }
}

/// The canonical event: a CloudEvents 1.0 envelope with a typed payload and Liaison's own
/// extension attributes (trace context, ingest time, where the record came from). What ingest
/// publishes on `liaison.events.v1`, keyed by `subject` (the customer id).
public struct EventV1: Sendable, Equatable {
    public static let topic = "liaison.events.v1"
    public static let specVersion = "1.0"

    public var id: String
    public var source: String
    public var type: EventType
    public var time: Timestamp
    /// The customer id.
    public var subject: String
    public var datacontenttype: String?
    public var dataschema: String?
    /// W3C trace context, so one record can be followed through every stage.
    public var traceparent: String?
    public var tracestate: String?
    public var ingesttime: Timestamp?
    public var sourcetopic: String?
    public var sourcepartition: Int32?
    public var sourceoffset: Int64?
    public var data: EventData
    /// Attributes this version does not know, kept as they came.
    public var extensions: JSONObject

    public init(
        id: String, source: String, type: EventType, time: Timestamp, subject: String, data: EventData,
        datacontenttype: String? = "application/json", dataschema: String? = nil, traceparent: String? = nil,
        tracestate: String? = nil, ingesttime: Timestamp? = nil, sourcetopic: String? = nil, sourcepartition: Int32? = nil,
        sourceoffset: Int64? = nil, extensions: JSONObject = JSONObject()
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.data = data
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.ingesttime = ingesttime
        self.sourcetopic = sourcetopic
        self.sourcepartition = sourcepartition
        self.sourceoffset = sourceoffset
        self.extensions = extensions
    }

    /// Whether this version names the attribute; everything else is an extension.
    public static func isAttribute(_ name: String) -> Bool { Attribute(name: name) != nil }

    /// The attributes this version names, found by length and then bytes: a record's envelope
    /// is read on every record, and `String` switches compare far more slowly.
    enum Attribute: Int, CaseIterable {
        case specversion, id, source, type, time, subject, datacontenttype, dataschema, traceparent, tracestate
        case ingesttime, sourcetopic, sourcepartition, sourceoffset, data, dataBase64

        var name: String {
            switch self {
            case .specversion: "specversion"
            case .id: "id"
            case .source: "source"
            case .type: "type"
            case .time: "time"
            case .subject: "subject"
            case .datacontenttype: "datacontenttype"
            case .dataschema: "dataschema"
            case .traceparent: "traceparent"
            case .tracestate: "tracestate"
            case .ingesttime: "ingesttime"
            case .sourcetopic: "sourcetopic"
            case .sourcepartition: "sourcepartition"
            case .sourceoffset: "sourceoffset"
            case .data: "data"
            case .dataBase64: "data_base64"
            }
        }

        init?(name: String) {
            let candidates: [Attribute]
            switch name.utf8.count {
            case 2: candidates = [.id]
            case 4: candidates = [.type, .time, .data]
            case 6: candidates = [.source]
            case 7: candidates = [.subject]
            case 10: candidates = [.dataschema, .tracestate, .ingesttime]
            case 11: candidates = [.specversion, .traceparent, .sourcetopic, .dataBase64]
            case 12: candidates = [.sourceoffset]
            case 15: candidates = [.datacontenttype, .sourcepartition]
            default: return nil
            }
            guard let match = candidates.first(where: { sameName($0.name, name) }) else { return nil }
            self = match
        }
    }

    /// Reads a structured-mode CloudEvent. The checks run in the order a person fixing the
    /// record would want them reported: shape, type, subject, then the payload.
    public init(json: JSONValue) throws(EventRejection) {
        guard case let .object(envelope) = json else {
            throw .schemaViolation(SchemaViolation(path: "", message: "the record must be a JSON object, found \(json.kindName)"))
        }
        var attributes = [JSONValue?](repeating: nil, count: Attribute.allCases.count)
        var hasExtensions = false
        for member in envelope {
            if let attribute = Attribute(name: member.key) {
                attributes[attribute.rawValue] = member.value
            } else {
                hasExtensions = true
            }
        }
        func value(_ attribute: Attribute) -> JSONValue? { attributes[attribute.rawValue] }
        func text(_ attribute: Attribute, required: Bool, maxLength: Int = 512) throws(EventRejection) -> String? {
            let name = attribute.name
            guard let value = value(attribute) else {
                if required { throw .schemaViolation(SchemaViolation(path: name, message: "is required")) }
                return nil
            }
            guard case let .string(text) = value else {
                throw .schemaViolation(SchemaViolation(path: name, message: "expected a string, found \(value.kindName)"))
            }
            do throws(SchemaViolation) {
                try FieldCheck(path: "").text(text, name, maxLength: maxLength)
            } catch {
                throw .schemaViolation(error)
            }
            return text
        }
        guard try text(.specversion, required: true) == Self.specVersion else {
            throw .schemaViolation(SchemaViolation(path: "specversion", message: "must be \"1.0\" (CloudEvents 1.0)"))
        }
        let id = try text(.id, required: true, maxLength: 256)!
        let source = try text(.source, required: true)!
        let typeName = try text(.type, required: true, maxLength: 256)!
        guard let type = EventType(rawValue: typeName) else { throw .unknownType(typeName) }
        guard let subjectValue = value(.subject), subjectValue != .null, subjectValue != .string("") else {
            throw .missingSubject("subject is required: it is the customer id every stage keys on")
        }
        let subject = try text(.subject, required: true, maxLength: 200)!
        let timeText = try text(.time, required: true, maxLength: 64)!
        guard let time = Timestamp(timeText) else {
            throw .schemaViolation(SchemaViolation(
                path: "time", message: "\"\(timeText.prefix(64))\" is not an RFC 3339 date-time with a UTC offset, e.g. 2026-11-02T10:15:00Z"))
        }
        let contentType = try text(.datacontenttype, required: false, maxLength: 128)
        if let contentType, !Self.isJSONContentType(contentType) {
            throw .schemaViolation(SchemaViolation(path: "datacontenttype", message: "must be application/json, found \"\(contentType.prefix(64))\""))
        }
        if value(.dataBase64) != nil {
            throw .schemaViolation(SchemaViolation(path: "data_base64", message: "binary data is not accepted; send the payload as JSON in data"))
        }
        let data: EventData
        do throws(SchemaViolation) {
            data = try EventData.decode(type: type, from: value(.data))
        } catch {
            throw .schemaViolation(error)
        }
        let ingestTimeText = try text(.ingesttime, required: false, maxLength: 64)
        self.init(
            id: id, source: source, type: type, time: time, subject: subject, data: data,
            datacontenttype: contentType, dataschema: try text(.dataschema, required: false, maxLength: 1024),
            traceparent: value(.traceparent)?.stringValue.flatMap(TraceContext.validTraceparent),
            tracestate: value(.tracestate)?.stringValue, ingesttime: ingestTimeText.flatMap(Timestamp.init),
            sourcetopic: value(.sourcetopic)?.stringValue,
            sourcepartition: value(.sourcepartition).flatMap { try? JSONValueDecoder().decode(Int32.self, from: $0) },
            sourceoffset: value(.sourceoffset).flatMap { try? JSONValueDecoder().decode(Int64.self, from: $0) },
            extensions: hasExtensions ? JSONObject(envelope.members.filter { !Self.isAttribute($0.key) }) : JSONObject())
    }

    /// Decodes a structured-mode event from its bytes.
    public init(bytes: [UInt8], parser: JSONParser = JSONParser()) throws {
        try self.init(json: parser.parse(bytes))
    }

    /// Compared byte for byte: Swift's `String` comparison would also take canonically
    /// equivalent characters (U+037E for `;`), which the JSON Schema pattern does not.
    static func isJSONContentType(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        let prefix = Array("application/json".utf8)
        guard bytes.starts(with: prefix), !bytes.contains(0x0A) else { return false }
        return bytes.count == prefix.count || bytes[prefix.count] == UInt8(ascii: ";")
    }

    /// The envelope as JSON: attributes first, then extensions, then `data`.
    public func json() throws -> JSONValue {
        var object = JSONObject()
        object["specversion"] = .string(Self.specVersion)
        object["id"] = .string(id)
        object["source"] = .string(source)
        object["type"] = .string(type.rawValue)
        object["time"] = .string(time.text)
        object["subject"] = .string(subject)
        if let datacontenttype { object["datacontenttype"] = .string(datacontenttype) }
        if let dataschema { object["dataschema"] = .string(dataschema) }
        if let traceparent { object["traceparent"] = .string(traceparent) }
        if let tracestate { object["tracestate"] = .string(tracestate) }
        if let ingesttime { object["ingesttime"] = .string(ingesttime.text) }
        if let sourcetopic { object["sourcetopic"] = .string(sourcetopic) }
        if let sourcepartition { object["sourcepartition"] = .number(JSONNumber(Int64(sourcepartition))) }
        if let sourceoffset { object["sourceoffset"] = .number(JSONNumber(sourceoffset)) }
        for member in extensions where object[member.key] == nil { object[member.key] = member.value }
        object["data"] = try JSONValueEncoder().encode(data.payload)
        return .object(object)
    }

    public func bytes() throws -> [UInt8] { JSONWriter.encode(try json()) }
}

extension EventV1: Codable {
    public init(from decoder: any Decoder) throws {
        let json = try decoder.singleValueContainer().decode(JSONValue.self)
        try self.init(json: json)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(try json())
    }
}

/// An event's typed payload.
public enum EventData: Sendable, Equatable {
    case customerProfileUpdated(CustomerProfileUpdatedV1)
    case customerErasureRequested(CustomerErasureRequestedV1)
    case bankingTransactionPosted(BankingTransactionPostedV1)
    case bankingCheckDeposited(BankingCheckDepositedV1)
    case bankingProductOpened(BankingProductOpenedV1)
    case travelBookingConfirmed(TravelBookingConfirmedV1)
    case travelFlightRescheduled(TravelFlightRescheduledV1)
    case travelBookingCancelled(TravelBookingCancelledV1)
    case crmCase(CRMCaseV1)
    case financeInvoicePaid(FinanceInvoicePaidV1)
    case engagementFeedbackReceived(EngagementFeedbackReceivedV1)
    case engagementWebResearched(EngagementWebResearchedV1)
    case engagementGeoEntered(EngagementGeoEnteredV1)

    public var payload: any EventPayload {
        switch self {
        case let .customerProfileUpdated(payload): payload
        case let .customerErasureRequested(payload): payload
        case let .bankingTransactionPosted(payload): payload
        case let .bankingCheckDeposited(payload): payload
        case let .bankingProductOpened(payload): payload
        case let .travelBookingConfirmed(payload): payload
        case let .travelFlightRescheduled(payload): payload
        case let .travelBookingCancelled(payload): payload
        case let .crmCase(payload): payload
        case let .financeInvoicePaid(payload): payload
        case let .engagementFeedbackReceived(payload): payload
        case let .engagementWebResearched(payload): payload
        case let .engagementGeoEntered(payload): payload
        }
    }

    /// Decodes and validates `data` for a record type; paths in errors start at `data`.
    public static func decode(type: EventType, from data: JSONValue?) throws(SchemaViolation) -> EventData {
        let value: JSONValue
        switch data {
        case .none, .some(.null):
            guard type.dataIsOptional else { throw SchemaViolation(path: "data", message: "is required for \(type.rawValue)") }
            value = .object(JSONObject())
        case let .some(present):
            value = present
        }
        guard case .object = value else {
            throw SchemaViolation(path: "data", message: "expected an object, found \(value.kindName)")
        }
        func typed<P: EventPayload>(_ payloadType: P.Type) throws(SchemaViolation) -> P {
            let payload = try JSONValueDecoder().decode(P.self, from: value, path: [DataKey()])
            try payload.validate(FieldCheck(path: "data"))
            return payload
        }
        switch type {
        case .customerProfileUpdated: return .customerProfileUpdated(try typed(CustomerProfileUpdatedV1.self))
        case .customerErasureRequested: return .customerErasureRequested(try typed(CustomerErasureRequestedV1.self))
        case .bankingTransactionPosted: return .bankingTransactionPosted(try typed(BankingTransactionPostedV1.self))
        case .bankingCheckDeposited: return .bankingCheckDeposited(try typed(BankingCheckDepositedV1.self))
        case .bankingProductOpened: return .bankingProductOpened(try typed(BankingProductOpenedV1.self))
        case .travelBookingConfirmed: return .travelBookingConfirmed(try typed(TravelBookingConfirmedV1.self))
        case .travelFlightRescheduled: return .travelFlightRescheduled(try typed(TravelFlightRescheduledV1.self))
        case .travelBookingCancelled: return .travelBookingCancelled(try typed(TravelBookingCancelledV1.self))
        case .crmCaseOpened, .crmCaseResolved: return .crmCase(try typed(CRMCaseV1.self))
        case .financeInvoicePaid: return .financeInvoicePaid(try typed(FinanceInvoicePaidV1.self))
        case .engagementFeedbackReceived: return .engagementFeedbackReceived(try typed(EngagementFeedbackReceivedV1.self))
        case .engagementWebResearched: return .engagementWebResearched(try typed(EngagementWebResearchedV1.self))
        case .engagementGeoEntered: return .engagementGeoEntered(try typed(EngagementGeoEnteredV1.self))
        }
    }
}

private struct DataKey: CodingKey {
    var stringValue: String { "data" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}
