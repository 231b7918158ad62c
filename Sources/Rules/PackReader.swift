import LiaisonSchema
import Yams

typealias YAMLNode = Yams.Node

/// Turns the nodes of a composed YAML document into rule pack values. Every problem is
/// recorded with its position and field path and reading carries on, so that one load
/// reports all of them; a reading method returns nil for a value it could not read.
struct PackReader {
    let origin: String
    /// The source split into lines of Unicode scalars, to place errors inside a value.
    let lines: [[Unicode.Scalar]]
    private(set) var errors: [RulePackError] = []
    /// The names defined under `params`, which expressions may read as `params.name`; nil
    /// when `params` is not a map, so that its uses are not reported as well.
    var parameterNames: [String]? = []

    init(yaml: String, origin: String) {
        self.origin = origin
        var lines: [[Unicode.Scalar]] = [[]]
        var previous: Unicode.Scalar?
        for scalar in yaml.unicodeScalars {
            if scalar == "\n" || scalar == "\r" {
                if !(scalar == "\n" && previous == "\r") { lines.append([]) }
            } else {
                lines[lines.count - 1].append(scalar)
            }
            previous = scalar
        }
        self.lines = lines
    }

    mutating func report(_ message: String, field: String, line: Int, column: Int) {
        errors.append(RulePackError(origin: origin, line: line, column: column, field: field, message: message))
    }

    mutating func report(_ message: String, field: String, at node: YAMLNode) {
        report(message, field: field, at: node.mark)
    }

    mutating func report(_ message: String, field: String, at mark: Mark?) {
        report(message, field: field, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    // MARK: Maps and lists

    /// A map's entries in document order, keys as written. Reports a node that is not a map
    /// and keys that are not plain text.
    mutating func entries(_ node: YAMLNode, field: String, expecting: String) -> [MapEntry]? {
        guard case let .mapping(mapping) = node else {
            report("expected \(expecting), found \(Self.describe(node))", field: field, at: node)
            return nil
        }
        var entries: [MapEntry] = []
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key, Self.scalarKind(scalar) != .null else {
                report("a key must be text, found \(Self.describe(key))", field: field, at: key)
                continue
            }
            guard !entries.contains(where: { $0.name == scalar.string }) else {
                report("the key '\(scalar.string.prefix(80))' appears twice in this map; keep one", field: FieldMap.path(field, scalar.string), at: key)
                continue
            }
            entries.append(MapEntry(name: scalar.string, key: key, value: value))
        }
        return entries
    }

    /// The value under a text key of a map node, without reporting anything.
    static func value(of key: String, in node: YAMLNode) -> YAMLNode? {
        guard case let .mapping(mapping) = node else { return nil }
        return mapping.first { pair in
            if case let .scalar(scalar) = pair.key { return scalar.string == key }
            return false
        }?.value
    }

    /// A map with a fixed set of keys: unknown keys and missing required ones are reported.
    mutating func map(_ node: YAMLNode, field: String, keys: [String], required: [(key: String, hint: String)] = []) -> FieldMap? {
        let noun = "a map with the keys \(keys.joined(separator: ", "))"
        guard let entries = entries(node, field: field, expecting: noun) else { return nil }
        var known: [MapEntry] = []
        for entry in entries {
            guard keys.contains(entry.name) else {
                let suggestion = Self.intendedKey(entry.name, among: keys).map { "did you mean '\($0)'? " } ?? ""
                report(
                    "unknown key '\(entry.name)'; \(suggestion)expected one of \(keys.joined(separator: ", "))",
                    field: FieldMap.path(field, entry.name), at: entry.key)
                continue
            }
            known.append(entry)
        }
        let map = FieldMap(field: field, mark: node.mark, entries: known)
        for (key, hint) in required where map[key] == nil {
            report("required key '\(key)' is missing; \(hint)", field: map.path(key), at: node.mark)
        }
        return map
    }

    mutating func sequence(_ node: YAMLNode, field: String, of noun: String) -> [YAMLNode]? {
        guard case let .sequence(sequence) = node else {
            report("expected a list of \(noun), found \(Self.describe(node))", field: field, at: node)
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// A scalar's text as written; numbers and `true` are text too. An empty value is reported.
    mutating func text(_ node: YAMLNode, field: String, expecting noun: String = "text") -> String? {
        guard case let .scalar(scalar) = node, Self.scalarKind(scalar) != .null else {
            let advice = node.scalar == nil ? "" : "; give a value or remove the key"
            report("expected \(noun), found \(Self.describe(node))\(advice)", field: field, at: node)
            return nil
        }
        return scalar.string
    }

    /// A name such as a rule id or template: lowercase letters, digits, `.` and `-`.
    mutating func name(_ node: YAMLNode, field: String, of noun: String) -> String? {
        guard let text = text(node, field: field, expecting: noun) else { return nil }
        guard Self.isName(text) else {
            report(
                "'\(text.prefix(80))' is not a valid \(noun); use 1 to 100 lowercase letters, digits, '.' and '-', "
                    + "starting with a letter or digit, e.g. checkin-reminder",
                field: field, at: node)
            return nil
        }
        return text
    }

    mutating func choice<Choice: RawRepresentable<String> & CaseIterable>(_ node: YAMLNode, field: String, of noun: String) -> Choice? {
        guard let text = text(node, field: field, expecting: noun) else { return nil }
        guard let value = Choice(rawValue: text) else {
            let options = Choice.allCases.map(\.rawValue)
            let suggestion = Self.closest(to: text, among: options).map { "did you mean '\($0)'? " } ?? ""
            report("'\(text.prefix(80))' is not \(noun); \(suggestion)use one of \(options.joined(separator: ", "))", field: field, at: node)
            return nil
        }
        return value
    }

    static let longestDuration: Int64 = 100 * 365 * 86_400

    /// A duration written like `30d`, `24h` or `1d12h`, in whole seconds, longer than zero.
    mutating func duration(_ node: YAMLNode, field: String) -> Int64? {
        guard let text = text(node, field: field, expecting: "a duration like 30d or 24h") else { return nil }
        guard let seconds = DurationText.parseCompact(text) else {
            report("'\(text.prefix(80))' is not a duration; write it like 30d, 24h, 15m, 90s or 1d12h", field: field, at: node)
            return nil
        }
        guard seconds > 0 else {
            report("the duration must be longer than zero", field: field, at: node)
            return nil
        }
        guard rounded(seconds, places: 0, mode: .down) == seconds else {
            report("'\(text)' is not a whole number of seconds; round it, e.g. to \(rounded(seconds, places: 0, mode: .up))s", field: field, at: node)
            return nil
        }
        guard let whole = exactInteger(seconds), whole <= Self.longestDuration else {
            report("'\(text.prefix(80))' is too long; durations here are at most 100 years", field: field, at: node)
            return nil
        }
        return whole
    }

    /// A whole number from 1 to 1,000,000.
    mutating func count(_ node: YAMLNode, field: String) -> Int? {
        guard let text = text(node, field: field, expecting: "a whole number") else { return nil }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(text), (1...1_000_000).contains(count) else {
            report("'\(text.prefix(80))' is not a count; write a whole number from 1 to 1000000", field: field, at: node)
            return nil
        }
        return count
    }

    /// `{count: 3, per: 7d}`: at most `count` actions in any window of `per`.
    mutating func cap(_ node: YAMLNode, field: String) -> FrequencyCap? {
        let required = [("count", "write how many actions the window allows, e.g. count: 3"), ("per", "write the window, e.g. per: 7d")]
        guard let map = map(node, field: field, keys: ["count", "per"], required: required) else { return nil }
        let count = map["count"].flatMap { self.count($0, field: map.path("count")) }
        let per = map["per"].flatMap { duration($0, field: map.path("per")) }
        guard let count, let per else { return nil }
        return FrequencyCap(count: count, perSeconds: per)
    }

    // MARK: Describing nodes

    enum ScalarKind: Equatable {
        case null, bool, number, text
    }

    /// How a scalar reads as JSON data, following YAML 1.2's core schema: only plain (unquoted)
    /// scalars can be null, a bool or a number, and numbers are the ones JSON would accept.
    static func scalarKind(_ scalar: YAMLNode.Scalar) -> ScalarKind {
        guard scalar.style == .plain || scalar.style == .any else { return .text }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE": return .bool
        default: break
        }
        if case .number = try? JSONParser().parse(Array(scalar.string.utf8)) { return .number }
        return .text
    }

    static func describe(_ node: YAMLNode) -> String {
        switch node {
        case .mapping: "a map"
        case .sequence: "a list"
        case .alias: "an alias"
        case let .scalar(scalar):
            switch scalarKind(scalar) {
            case .null: "an empty value"
            case .bool: "true or false"
            case .number: "the number \(scalar.string)"
            case .text: "the text '\(scalar.string.prefix(60))'"
            }
        }
    }

    static func isName(_ text: String) -> Bool {
        guard (1...100).contains(text.unicodeScalars.count), let first = text.unicodeScalars.first,
              ("a"..."z").contains(first) || ("0"..."9").contains(first)
        else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
    }

    /// Names authors reach for that the format spells differently.
    private static let keySynonyms = [
        "condition": "when", "if": "when", "event": "on", "events": "on", "channel": "channel-class", "class": "channel-class",
        "name": "id", "parameters": "params", "timer": "key",
    ]

    /// The allowed key an unknown one was probably meant to be: a misspelling, a synonym,
    /// or the camelCase or snake_case form of a kebab-case key.
    private static func intendedKey(_ name: String, among keys: [String]) -> String? {
        let kebab = String(name.flatMap { $0.isUppercase ? ["-", Character($0.lowercased())] : [$0 == "_" ? "-" : $0] })
        if keys.contains(kebab) { return kebab }
        if let close = closest(to: name, among: keys) { return close }
        return closest(to: name.lowercased(), among: Array(keySynonyms.keys)).flatMap { keySynonyms[$0] }.flatMap { keys.contains($0) ? $0 : nil }
    }

    /// The option closest to a misspelling, if one is close enough to be what was meant.
    static func closest(to text: String, among options: [String]) -> String? {
        let limit = max(1, min(3, text.count / 3))
        let scored = options.map { (option: $0, distance: editDistance(Array(text), Array($0))) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= limit else { return nil }
        return best.option
    }

    private static func editDistance(_ left: [Character], _ right: [Character]) -> Int {
        var previous = Array(0...right.count)
        for (leftIndex, leftCharacter) in left.enumerated() {
            var current = [leftIndex + 1]
            for (rightIndex, rightCharacter) in right.enumerated() {
                let substitution = previous[rightIndex] + (leftCharacter == rightCharacter ? 0 : 1)
                current.append(min(substitution, previous[rightIndex + 1] + 1, current[rightIndex] + 1))
            }
            previous = current
        }
        return previous[right.count]
    }
}

/// One key of a YAML map with the nodes for the key and its value.
struct MapEntry {
    let name: String
    let key: YAMLNode
    let value: YAMLNode
}

/// A YAML map whose keys were checked against the ones its place allows.
struct FieldMap {
    let field: String
    let mark: Mark?
    let entries: [MapEntry]

    subscript(key: String) -> YAMLNode? { entries.first { $0.name == key }?.value }

    func keyNode(_ key: String) -> YAMLNode? { entries.first { $0.name == key }?.key }

    func path(_ key: String) -> String { Self.path(field, key) }

    static func path(_ field: String, _ key: String) -> String { field.isEmpty ? key : "\(field).\(key)" }
}
