import Foundation
import LiaisonSchema
import Notifier

/// `HTTPProviderSettings` checked and turned into what each request needs, once, so a delivery
/// only walks a small tree to write its body.
struct RequestShape: Sendable {
    enum Method: Sendable { case post, put, patch }

    enum Node: Sendable {
        case field(MessageField)
        case object([(key: String, node: Node)])
    }

    let url: String
    let method: Method
    /// The static headers and the content type; an operator's `Content-Type` wins, and a
    /// static header named like `idempotencyHeader` gives way to the message's key.
    let headers: [(name: String, value: String)]
    let idempotencyHeader: String?
    let body: [(key: String, node: Node)]
    let messageIDPath: [String]?

    init(settings: HTTPProviderSettings) throws(ChannelSettingsError) {
        func failure(_ setting: String, _ message: String) -> ChannelSettingsError {
            ChannelSettingsError(channel: settings.name.isEmpty ? "HTTP provider" : settings.name, setting: setting, message: message)
        }
        guard !settings.name.isEmpty else { throw failure("name", "give the provider a name, e.g. sms-gateway") }
        url = try Self.checkedURL(settings.url, channel: settings.name, setting: "url")
        switch settings.method.uppercased() {
        case "POST": method = .post
        case "PUT": method = .put
        case "PATCH": method = .patch
        default: throw failure("method", "\"\(settings.method)\" cannot carry the message; use POST, PUT or PATCH")
        }
        var headers: [(name: String, value: String)] = []
        for (name, value) in settings.headers.sorted(by: { $0.key < $1.key }) {
            guard Self.isToken(name) else { throw failure("headers", "\"\(name)\" is not a valid header name") }
            guard Self.isFieldValue(value) else {
                throw failure("headers.\(name)", "the value holds a line break or control character")
            }
            headers.append((name, value))
        }
        if let idempotencyHeader = settings.idempotencyHeader {
            guard Self.isToken(idempotencyHeader) else {
                throw failure("idempotencyHeader", "\"\(idempotencyHeader)\" is not a valid header name")
            }
            headers.removeAll { $0.name.lowercased() == idempotencyHeader.lowercased() }
        }
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        self.headers = headers
        idempotencyHeader = settings.idempotencyHeader
        guard !settings.body.isEmpty else {
            throw failure("body", "map at least one body field, e.g. to: address and text: text")
        }
        var entries: [(path: [String], field: MessageField)] = []
        for (path, source) in settings.body.sorted(by: { $0.key < $1.key }) {
            let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !segments.contains(where: \.isEmpty) else {
                throw failure("body.\(path)", "a body path is member names joined by dots, with none empty")
            }
            guard let field = MessageField(source) else {
                let known = MessageField.names.keys.sorted().joined(separator: ", ")
                throw failure(
                    "body.\(path)", "\"\(source)\" is not a message field; use one of \(known), metadata.<key> or literal:<text>")
            }
            entries.append((segments, field))
        }
        body = try Self.tree(entries, prefix: "", failure: failure)
        if let field = settings.messageIDField {
            let segments = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !segments.contains(where: \.isEmpty) else {
                throw failure("messageIDField", "\"\(field)\" is not a dotted path of member names, e.g. messages.0.id or id")
            }
            messageIDPath = segments
        } else {
            messageIDPath = nil
        }
        guard settings.timeout > .zero else { throw failure("timeout", "must be longer than zero") }
    }

    /// The JSON body for one message: members in path order, absent values left out.
    func bodyBytes(for message: OutgoingMessage) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        Self.write(body, message: message, into: &writer)
        return writer.bytes
    }

    /// The provider's message id in a successful answer: a string, or a number's literal text.
    /// Array elements are reached by index (`messages.0.id`).
    func messageID(in answer: [UInt8]) -> String? {
        guard let path = messageIDPath, let document = try? JSONParser().parse(answer) else { return nil }
        var value = document
        for segment in path {
            switch value {
            case let .object(object):
                guard let member = object[segment] else { return nil }
                value = member
            case let .array(elements):
                guard let index = Int(segment), elements.indices.contains(index) else { return nil }
                value = elements[index]
            default:
                return nil
            }
        }
        switch value {
        case let .string(text): return text
        case let .number(number): return number.text
        default: return nil
        }
    }

    static func checkedURL(_ text: String, channel: String, setting: String) throws(ChannelSettingsError) -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ChannelSettingsError(
                channel: channel, setting: setting, message: "\"\(text)\" is not an http or https URL with a host")
        }
        return text
    }

    private static func tree(
        _ entries: [(path: [String], field: MessageField)], prefix: String,
        failure: (String, String) -> ChannelSettingsError
    ) throws(ChannelSettingsError) -> [(key: String, node: Node)] {
        var order: [String] = []
        var groups: [String: [(path: [String], field: MessageField)]] = [:]
        for entry in entries {
            let key = entry.path[0]
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((Array(entry.path.dropFirst()), entry.field))
        }
        var members: [(key: String, node: Node)] = []
        for key in order {
            let group = groups[key]!
            if let leaf = group.first(where: { $0.path.isEmpty }) {
                guard group.count == 1 else {
                    let nested = group.first { !$0.path.isEmpty }!.path.joined(separator: ".")
                    throw failure(
                        "body.\(prefix)\(key)", "it is given a value and also holds \(prefix)\(key).\(nested); keep one of the two")
                }
                members.append((key, .field(leaf.field)))
            } else {
                members.append((key, .object(try tree(group, prefix: "\(prefix)\(key).", failure: failure))))
            }
        }
        return members
    }

    private static func write(_ members: [(key: String, node: Node)], message: OutgoingMessage, into writer: inout JSONWriter) {
        writer.beginObject()
        for (key, node) in members {
            switch node {
            case let .field(field):
                guard let value = field.value(in: message) else { continue }
                writer.key(key)
                writer.string(value)
            case let .object(nested):
                writer.key(key)
                write(nested, message: message, into: &writer)
            }
        }
        writer.endObject()
    }

    /// RFC 9110 token characters, what a header name is made of.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default:
                    Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
                }
            }
    }

    private static func isFieldValue(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}

/// A message value the request shape can place in the body.
enum MessageField: Sendable, Equatable {
    case address, subject, text, html, locale, actionID, idempotencyKey, customerID
    case metadata(String)
    case literal(String)

    static let names: [String: MessageField] = [
        "address": .address, "subject": .subject, "text": .text, "html": .html, "locale": .locale,
        "actionID": .actionID, "idempotencyKey": .idempotencyKey, "customerID": .customerID,
    ]

    init?(_ source: String) {
        if source.hasPrefix("literal:") {
            self = .literal(String(source.dropFirst("literal:".count)))
        } else if source.hasPrefix("metadata."), source.count > "metadata.".count {
            self = .metadata(String(source.dropFirst("metadata.".count)))
        } else if let field = Self.names[source] {
            self = field
        } else {
            return nil
        }
    }

    func value(in message: OutgoingMessage) -> String? {
        switch self {
        case .address: message.address
        case .subject: message.subject
        case .text: message.text
        case .html: message.html
        case .locale: message.locale
        case .actionID: message.actionID
        case .idempotencyKey: message.idempotencyKey
        case .customerID: message.customerID
        case let .metadata(key): message.metadata[key]
        case let .literal(text): text
        }
    }
}
