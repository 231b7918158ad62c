import LiaisonSchema
import Yams

extension RulePack {
    /// Loads a pack from its YAML text (the format `schemas/rule-pack.v1.schema.json`
    /// describes), compiling and type-checking every expression. `origin` names the source in
    /// error messages, e.g. `default.yaml`. Throws every problem found, in source order; a
    /// pack with any problem is never returned in part.
    public init(yaml: String, origin: String) throws(RulePackErrors) {
        var reader = PackReader(yaml: yaml, origin: origin)
        let pack = reader.pack(yaml)
        guard reader.errors.isEmpty, let pack else {
            let ordered = reader.errors.enumerated().sorted { left, right in
                (left.element.line, left.element.column, left.offset) < (right.element.line, right.element.column, right.offset)
            }
            throw RulePackErrors(ordered.map(\.element))
        }
        self = pack
    }
}

extension PackReader {
    static let packKeys = ["pack", "version", "params", "caps", "rules"]

    mutating func pack(_ yaml: String) -> RulePack? {
        let root: YAMLNode
        do {
            guard let document = try Yams.compose(yaml: yaml) else {
                report("the file is empty; a rule pack needs pack:, version: and rules:", field: "", line: 1, column: 1)
                return nil
            }
            root = document
        } catch {
            reportSyntaxError(error, in: yaml)
            return nil
        }
        let required = [
            ("pack", "name the pack, e.g. pack: liaison-default"),
            ("version", "give the pack a version, which every decision records, e.g. version: \"2026.11.1\""),
            ("rules", "list the rules under rules:"),
        ]
        guard let map = map(root, field: "", keys: Self.packKeys, required: required) else { return nil }
        let name = map["pack"].flatMap { self.name($0, field: "pack", of: "pack name") }
        let version = map["version"].flatMap { text($0, field: "version", expecting: "a version") }
        let params = map["params"].flatMap { self.params($0) } ?? JSONObject()
        let caps = map["caps"].flatMap { self.caps($0) } ?? [:]
        let rules = map["rules"].flatMap { self.rules($0) }
        guard let name, let version, let rules else { return nil }
        return RulePack(name: name, version: version, params: params, channelCaps: caps, rules: rules)
    }

    /// `params`: named numbers, texts and bools. Every name counts as defined even when its
    /// value is wrong, so one bad value is not also reported at every use.
    private mutating func params(_ node: YAMLNode) -> JSONObject? {
        guard let entries = entries(node, field: "params", expecting: "a map of parameter names to values") else {
            parameterNames = nil
            return nil
        }
        parameterNames = entries.map(\.name)
        var params = JSONObject()
        for entry in entries {
            let field = "params.\(entry.name)"
            guard Self.isParameterName(entry.name) else {
                report(
                    "'\(entry.name.prefix(80))' cannot be read as params.\(entry.name.prefix(80)); use letters, digits and '_', "
                        + "starting with a letter or '_', and not a word of the language (and, or, not, in, true, false, null), "
                        + "e.g. cd_surplus_threshold",
                    field: field, at: entry.key)
                continue
            }
            params[entry.name] = parameterValue(entry.value, field: field)
        }
        return params
    }

    private mutating func parameterValue(_ node: YAMLNode, field: String) -> JSONValue? {
        guard case let .scalar(scalar) = node else {
            report("expected a number, text or true/false, found \(Self.describe(node))", field: field, at: node)
            return nil
        }
        switch Self.scalarKind(scalar) {
        case .null:
            report("the parameter has no value; give one or remove it", field: field, at: node)
            return nil
        case .bool:
            return .bool(scalar.string.lowercased() == "true")
        case .number:
            return try? JSONParser().parse(Array(scalar.string.utf8))
        case .text:
            let tag = Resolver.default.resolveTag(of: node)
            if tag == .int || tag == .float {
                report(
                    "'\(scalar.string.prefix(80))' is not a plain decimal number; write it like 5000 or 0.25, or quote it to make it text",
                    field: field, at: node)
                return nil
            }
            if tag == .bool {
                report("'\(scalar.string)' is ambiguous; write true or false, or quote it to make it text", field: field, at: node)
                return nil
            }
            return .string(scalar.string)
        }
    }

    /// `caps`: per channel class, at most so many actions per customer in a window.
    private mutating func caps(_ node: YAMLNode) -> [ChannelClass: FrequencyCap]? {
        guard let entries = entries(node, field: "caps", expecting: "a map of channel classes to caps") else { return nil }
        var caps: [ChannelClass: FrequencyCap] = [:]
        for entry in entries {
            let field = "caps.\(entry.name)"
            guard let channelClass = ChannelClass(rawValue: entry.name) else {
                let options = ChannelClass.allCases.map(\.rawValue)
                let suggestion = Self.closest(to: entry.name, among: options).map { "did you mean '\($0)'? " } ?? ""
                report(
                    "'\(entry.name.prefix(80))' is not a channel class; \(suggestion)use one of \(options.joined(separator: ", "))",
                    field: field, at: entry.key)
                continue
            }
            if let cap = cap(entry.value, field: field) { caps[channelClass] = cap }
        }
        return caps
    }

    private mutating func rules(_ node: YAMLNode) -> [Rule]? {
        guard let nodes = sequence(node, field: "rules", of: "rules") else { return nil }
        var rules: [Rule] = []
        var firstUse: [String: String] = [:]
        for (index, ruleNode) in nodes.enumerated() {
            let field = Self.rulePath(ruleNode, index: index)
            if let idNode = Self.value(of: "id", in: ruleNode), case let .scalar(id) = idNode, Self.scalarKind(id) != .null {
                if let earlier = firstUse[id.string] {
                    report("rule id '\(id.string.prefix(100))' is already used by \(earlier); give each rule its own id", field: "\(field).id", at: idNode)
                } else {
                    firstUse[id.string] = "rules[\(index)]"
                }
            }
            if let rule = rule(ruleNode, field: field) { rules.append(rule) }
        }
        return rules
    }

    private mutating func reportSyntaxError(_ error: any Error, in yaml: String) {
        let advice = "; check the indentation, and quote values that contain ': ' or ' #' or start with one of [ ] { } , & * ! | > ' \" % @ `"
        switch error as? YamlError {
        case let .scanner(context, problem, mark, _)?, let .parser(context, problem, mark, _)?, let .composer(context, problem, mark, _)?:
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            report("the YAML cannot be read: \(problem)\(during)\(advice)", field: "", at: mark)
        case let .duplicatedKeysInMapping(duplicates, context)?:
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            report("the key \(keys) appears twice in the same map; keep one", field: "", at: context.mark)
        case let .reader(problem, offset, _, _)?:
            let (line, column) = Self.lineAndColumn(ofCharacter: offset ?? 0, in: yaml)
            report("the file cannot be read as text: \(problem); remove control characters and save it as UTF-8", field: "", line: line, column: column)
        default:
            report("the YAML cannot be read: \(error)", field: "", line: 1, column: 1)
        }
    }

    private static func lineAndColumn(ofCharacter offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" || character == "\r\n" || character == "\r" {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }

    private static func isParameterName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) || first == "_",
              Token.Keyword(rawValue: name) == nil, PathRoot(rawValue: name) == nil
        else { return false }
        return name.unicodeScalars.count <= 100
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

extension RulePack {
    /// Loads the pack in the file at `path`; a file that cannot be read is reported like any
    /// other problem with the pack.
    public init(file path: String) throws(RulePackErrors) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RulePackErrors([RulePackError(
                origin: path, line: 1, column: 1, field: "", message: "cannot read the file: \(error.localizedDescription)")])
        }
        try self.init(yaml: text, origin: path)
    }
}
