import Foundation
import LiaisonSchema
import Mustache
import Yams

/// What one channel gets from a template: the parts a provider sends, already filled in.
public struct RenderedMessage: Sendable, Equatable {
    /// Email subject, push title, or the headline of a task, CRM note, inbox item or webhook.
    public var subject: String?
    /// Email plain-text body, SMS text, push body, or the body of the others.
    public var text: String
    /// Email only; values in it are HTML-escaped.
    public var html: String?
    /// The variant chosen, as its file's path in the catalog (`offer.cd-30-day/push.tablet.de.yaml`),
    /// so a receipt can say exactly which text the customer saw.
    public var variant: String
    /// The locale of the chosen variant, as its file names it: `de` for a `de-CH` customer.
    public var locale: String

    public init(subject: String?, text: String, html: String?, variant: String, locale: String) {
        self.subject = subject
        self.text = text
        self.html = html
        self.variant = variant
        self.locale = locale
    }
}

/// Every message text the notifier can send, loaded and checked when it starts, so a typo in a
/// template stops a deployment instead of reaching customers.
///
/// The folder holds one folder per template (named as rules name it, e.g. `offer.cd-30-day`)
/// and in it one YAML file per variant, named `<channel>[.<segment>][.<device>].<locale>.yaml`,
/// whose `subject`, `text` and `html` keys are mustache templates; `schemas/templates/README.md`
/// describes the format. Only `html` escapes values for HTML; every other part shows them as
/// they are, since an SMS or a push has no markup to protect.
///
/// A request is served by the most specific variant there is. For each locale of its chain —
/// the customer's (`de-CH`), then with subtags dropped from the right (`de`), then the catalog's
/// default (`en`) — it tries segment and device, the segment alone, the segment's group
/// (`younger`, `older`) with and without the device, the device alone, and finally neither.
/// Loading guarantees the chain ends in something: each channel of a template has a plain
/// variant in the default locale, and in every other locale it is written in. So the only
/// lookup failures are a template the catalog lacks and a channel the template lacks.
public struct TemplateCatalog: Sendable {
    /// Where every fallback chain ends.
    public let defaultLocale: String
    private let templates: [String: [Channel: [VariantKey: CompiledVariant]]]

    /// Loads every variant under `directory`; throws every problem found, each naming its file.
    public init(directory: URL, defaultLocale: String = "en") throws(TemplateCatalogError) {
        let (files, problems) = Self.readFiles(in: directory)
        try self.init(files: files, defaultLocale: defaultLocale, earlierProblems: problems)
    }

    /// Loads variants given as file contents keyed by their path in a catalog folder
    /// (`offer.cd-30-day/sms.en.yaml`): the same checks as a folder, for tests and tools.
    public init(files: [String: String], defaultLocale: String = "en") throws(TemplateCatalogError) {
        try self.init(files: files, defaultLocale: defaultLocale, earlierProblems: [])
    }

    private init(files: [String: String], defaultLocale: String, earlierProblems: [TemplateLoadProblem]) throws(TemplateCatalogError) {
        var loader = CatalogLoader(defaultLocale: defaultLocale)
        loader.problems = earlierProblems
        for path in files.keys.sorted() {
            loader.load(path: path, contents: files[path] ?? "")
        }
        loader.checkCompleteness()
        guard loader.problems.isEmpty else {
            throw TemplateCatalogError(problems: loader.problems.sorted { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) })
        }
        self.defaultLocale = defaultLocale
        templates = loader.templates
    }

    public var templateNames: [String] { templates.keys.sorted() }

    public func channels(of template: String) -> Set<Channel> {
        templates[template].map { Set($0.keys) } ?? []
    }

    /// Every variant of a template, ordered by file path.
    public func variants(of template: String) -> [TemplateVariant] {
        (templates[template] ?? [:]).values.flatMap { $0.values.map(\.variant) }.sorted { $0.id < $1.id }
    }

    /// The top-level value names a template's variants read (`amount` for `{{grouped(amount)}}`,
    /// `recipient` for `{{recipient.name}}`), so a rule pack can be checked against the catalog:
    /// a name the payload lacks renders as nothing.
    public func valueNames(of template: String) -> Set<String> {
        (templates[template] ?? [:]).values.reduce(into: Set<String>()) { names, variants in
            for variant in variants.values { names.formUnion(variant.valueNames) }
        }
    }

    /// Renders the variant the fallback chain picks for this request.
    ///
    /// - Parameters:
    ///   - locale: the customer's BCP 47 tag; nil or malformed means the default locale.
    ///   - segment: its `generation` picks segment variants; tier is not a variant dimension.
    ///   - values: usually `TemplateCatalog.values(for:)`. Numbers render as plain decimals and
    ///     format for the customer's locale through `grouped(…)`, `money(…)`, `rounded(…)` and
    ///     `percent(…)`; timestamps through `date(…)`, `dateWithYear(…)` and `time(…)` in their own UTC offset.
    public func render(
        template: String, channel: Channel, locale: String?, segment: SegmentV1?, device: DeviceKind?, values: JSONObject
    ) throws(TemplateRenderError) -> RenderedMessage {
        guard let channels = templates[template] else { throw .unknownTemplate(template) }
        guard let variants = channels[channel] else { throw .noVariantForChannel(template: template, channel: channel) }
        let audience = segment?.generation.flatMap(AudienceSegment.init(rawValue:))
        let chain = VariantKey.fallbackChain(locale: locale, defaultLocale: defaultLocale, segment: audience, device: device)
        guard let chosen = chain.lazy.compactMap({ variants[$0] }).first else {
            throw .noVariantForChannel(template: template, channel: channel)
        }
        let variantLocale = chosen.variant.locale
        let formattingLocale = locale.flatMap { LocaleTag.refines($0, variantLocale) ? $0 : nil } ?? variantLocale
        let context = TemplateValueConversion.context(values, formatting: LocaleFormatting(localeTag: formattingLocale))

        func filled(_ part: TemplatePart, _ compiled: MustacheTemplate?) throws(TemplateRenderError) -> String? {
            guard let compiled else { return nil }
            var rendered = compiled.render(context).trimmingCharacters(in: .whitespacesAndNewlines)
            if part == .subject {
                rendered = rendered.split(whereSeparator: \.isNewline).joined(separator: " ")
            }
            guard !rendered.isEmpty else { throw .emptyPart(variant: chosen.variant.id, part: part.rawValue) }
            return rendered
        }
        return RenderedMessage(
            subject: try filled(.subject, chosen.subject),
            text: try filled(.text, chosen.text) ?? "",
            html: try filled(.html, chosen.html),
            variant: chosen.variant.id,
            locale: variantLocale
        )
    }

    /// Reads `<directory>/<template>/<variant file>`; hidden files and a top-level README are
    /// not variants.
    private static func readFiles(in directory: URL) -> (files: [String: String], problems: [TemplateLoadProblem]) {
        let manager = FileManager.default
        var files: [String: String] = [:]
        var problems: [TemplateLoadProblem] = []
        let visible = { (url: URL) -> [URL] in
            let entries = (try? manager.contentsOfDirectory(at: url, includingPropertiesForKeys: [.isDirectoryKey])) ?? []
            return entries.filter { !$0.lastPathComponent.hasPrefix(".") }
        }
        let isDirectory = { (url: URL) -> Bool in
            var flag: ObjCBool = false
            return manager.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
        }
        guard isDirectory(directory) else {
            return ([:], [TemplateLoadProblem(file: directory.path, message: "is not a folder that can be read")])
        }
        for entry in visible(directory) {
            let name = entry.lastPathComponent
            guard isDirectory(entry) else {
                if !name.lowercased().hasPrefix("readme") {
                    problems.append(TemplateLoadProblem(file: name, message: "is not in a template's folder; variant files go in <template>/"))
                }
                continue
            }
            for file in visible(entry) {
                let path = "\(name)/\(file.lastPathComponent)"
                if isDirectory(file) {
                    problems.append(TemplateLoadProblem(file: path, message: "is a folder inside a template's folder; templates are one level deep"))
                } else if let data = manager.contents(atPath: file.path), let text = String(data: data, encoding: .utf8) {
                    files[path] = text
                } else {
                    problems.append(TemplateLoadProblem(file: path, message: "cannot be read as UTF-8 text"))
                }
            }
        }
        return (files, problems)
    }
}

enum TemplatePart: String, CaseIterable {
    case subject, text, html

    /// What each channel's provider takes: email needs both bodies, SMS is text alone, and
    /// the rest show a headline above the text.
    static func required(by channel: Channel) -> [TemplatePart] {
        switch channel {
        case .email: [.subject, .text, .html]
        case .sms: [.text]
        case .push, .webhook, .agentTask, .crm, .inbox: [.subject, .text]
        }
    }
}

struct CompiledVariant: Sendable {
    let variant: TemplateVariant
    let subject: MustacheTemplate?
    let text: MustacheTemplate
    let html: MustacheTemplate?
    let valueNames: Set<String>
}

/// Collects the variants and every problem while reading a catalog's files.
private struct CatalogLoader {
    let defaultLocale: String
    var templates: [String: [Channel: [VariantKey: CompiledVariant]]] = [:]
    var problems: [TemplateLoadProblem] = []
    /// Variants whose file is there but broken: reported once, for what is wrong, not again as missing.
    private var brokenVariants = Set<BrokenVariant>()

    private struct BrokenVariant: Hashable {
        let template: String
        let channel: Channel
        let key: VariantKey
    }

    init(defaultLocale: String) {
        self.defaultLocale = defaultLocale
    }

    /// swift-mustache escapes for HTML unless a template says otherwise; this pragma, on its
    /// own first line, is removed from the output and turns escaping off for the parts that
    /// are not HTML.
    private static let plainTextPragma = "{{% CONTENT_TYPE: TEXT}}\n"

    mutating func load(path: String, contents: String) {
        let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard components.count == 2, !components[0].isEmpty else {
            problems.append(TemplateLoadProblem(file: path, message: "is not <template>/<variant file>; templates are one level deep"))
            return
        }
        let variant: TemplateVariant
        switch TemplateVariant.parse(template: components[0], fileName: components[1]) {
        case let .success(parsed): variant = parsed
        case let .failure(problem):
            problems.append(TemplateLoadProblem(file: path, message: problem.reason))
            return
        }
        let before = problems.count
        defer {
            if problems.count > before { brokenVariants.insert(BrokenVariant(template: variant.template, channel: variant.channel, key: variant.key)) }
        }
        guard let parts = readParts(path: path, yaml: contents) else { return }

        var compiled: [TemplatePart: MustacheTemplate] = [:]
        var valueNames = Set<String>()
        let required = TemplatePart.required(by: variant.channel)
        for part in required where parts[part] == nil {
            let needs = required.map(\.rawValue).joined(separator: ", ")
            problems.append(TemplateLoadProblem(file: path, message: "has no '\(part.rawValue)'; a \(variant.channel.rawValue) variant needs \(needs)"))
        }
        for (part, source) in parts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard required.contains(part) else {
                problems.append(
                    TemplateLoadProblem(file: path, line: source.line, message: "has '\(part.rawValue)', which \(variant.channel.rawValue) does not use")
                )
                continue
            }
            if part == .subject, source.text.trimmingCharacters(in: .whitespacesAndNewlines).contains(where: \.isNewline) {
                problems.append(TemplateLoadProblem(file: path, line: source.line, message: "has a subject of more than one line"))
            }
            let scan = MustacheTagScan(source.text)
            valueNames.formUnion(scan.valueNames)
            for unsupported in scan.unsupportedTags {
                problems.append(
                    TemplateLoadProblem(
                        file: path, line: source.line + unsupported.line - 1,
                        message: "\(part.rawValue): \(unsupported.tag) is not supported; templates are self-contained and use {{ }}"
                    )
                )
            }
            let escapesHTML = part == .html
            do {
                compiled[part] = try MustacheTemplate(string: escapesHTML ? source.text : Self.plainTextPragma + source.text)
            } catch let error as MustacheTemplate.ParserError {
                let line = error.context.lineNumber - (escapesHTML ? 0 : 1)
                problems.append(
                    TemplateLoadProblem(
                        file: path, line: source.line + line - 1,
                        message: "\(part.rawValue): \(Self.describe(error.error)) (line \(line), column \(error.context.columnNumber) of the \(part.rawValue))"
                    )
                )
            } catch {
                problems.append(TemplateLoadProblem(file: path, line: source.line, message: "\(part.rawValue): \(error)"))
            }
        }
        guard problems.count == before, let text = compiled[.text] else { return }

        let key = variant.key
        if let earlier = templates[variant.template]?[variant.channel]?[key] {
            problems.append(TemplateLoadProblem(file: path, message: "is the same variant as \(earlier.variant.id); keep one"))
            return
        }
        templates[variant.template, default: [:]][variant.channel, default: [:]][key] = CompiledVariant(
            variant: variant, subject: compiled[.subject], text: text, html: compiled[.html], valueNames: valueNames
        )
    }

    /// Every fallback chain must end in a variant: each channel needs a plain variant (no
    /// segment, no device) in the default locale and in each locale it is written in.
    mutating func checkCompleteness() {
        if templates.isEmpty, problems.isEmpty {
            problems.append(TemplateLoadProblem(file: ".", message: "holds no templates"))
        }
        let defaultKey = LocaleTag.normalized(defaultLocale)
        for (template, channels) in templates {
            for (channel, variants) in channels {
                var locales: [String: String] = [defaultKey: defaultLocale]
                for variant in variants.values.map(\.variant) where locales[variant.key.locale] == nil {
                    locales[variant.key.locale] = variant.locale
                }
                for (key, written) in locales {
                    let plain = VariantKey(locale: key, segment: nil, device: nil)
                    guard variants[plain] == nil, !brokenVariants.contains(BrokenVariant(template: template, channel: channel, key: plain)) else { continue }
                    let missing = TemplateVariant(template: template, channel: channel, segment: nil, device: nil, locale: written)
                    let reason =
                        key == defaultKey
                        ? "every channel of a template needs a plain variant in the default locale \(defaultLocale), where every fallback chain ends"
                        : "the \(channel.rawValue) variants in \(written) need a plain one (no segment, no device) to fall back to"
                    problems.append(TemplateLoadProblem(file: missing.id, message: "is missing: \(reason)"))
                }
            }
        }
    }

    /// A part's template text and the line of the file it starts on.
    private struct PartSource {
        let text: String
        let line: Int
    }

    private mutating func readParts(path: String, yaml: String) -> [TemplatePart: PartSource]? {
        let document: Node?
        do {
            document = try Yams.compose(yaml: yaml)
        } catch {
            problems.append(Self.yamlProblem(error, path: path))
            return nil
        }
        guard let document, case let .mapping(mapping) = document else {
            problems.append(TemplateLoadProblem(file: path, line: 1, message: "must be a YAML map with the keys subject, text and html"))
            return nil
        }
        var parts: [TemplatePart: PartSource] = [:]
        var readable = true
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line
            guard case let .scalar(key) = keyNode, let part = TemplatePart(rawValue: key.string) else {
                let known = TemplatePart.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(TemplateLoadProblem(file: path, line: line, message: "has the unknown key '\(keyNode.string ?? "?")'; keys are \(known)"))
                readable = false
                continue
            }
            guard case let .scalar(value) = valueNode else {
                problems.append(
                    TemplateLoadProblem(
                        file: path, line: line,
                        message: "\(part.rawValue) is not text; a value starting with {{ must be quoted or written as a block (|)"
                    )
                )
                readable = false
                continue
            }
            let startsBelowKey = value.style == .literal || value.style == .folded
            parts[part] = PartSource(text: value.string, line: (value.mark?.line ?? line ?? 1) + (startsBelowKey ? 1 : 0))
        }
        return readable ? parts : nil
    }

    private static func yamlProblem(_ error: any Error, path: String) -> TemplateLoadProblem {
        switch error as? YamlError {
        case let .scanner(_, problem, mark, _)?, let .parser(_, problem, mark, _)?, let .composer(_, problem, mark, _)?:
            TemplateLoadProblem(file: path, line: mark.line, message: "is not valid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context)?:
            TemplateLoadProblem(file: path, line: context.mark.line, message: "has the key \(duplicates.joined(separator: ", ")) twice")
        default:
            TemplateLoadProblem(file: path, message: "is not valid YAML: \(error)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: "a section is closed with a different name than it was opened with"
        case .unfinishedName: "a tag is not closed, or its name has characters names cannot have"
        case .expectedSectionEnd: "a section is opened and never closed"
        case .invalidSetDelimiter: "a delimiter change is malformed"
        case .transformAppliedToInheritanceSection: "a transform is applied to an inheritance block"
        case .illegalTokenInsideInheritSection, .textInsideInheritSection: "an inheritance section holds something other than blocks"
        case .invalidConfigVariableSyntax: "a pragma ({{% … }}) is malformed"
        case .unrecognisedConfigVariable: "a pragma ({{% … }}) is not one swift-mustache knows"
        case nil: "\(error)"
        }
    }
}

/// A light pass over a template's tags, for what the parsed template does not tell: the value
/// names it reads, and tags the catalog does not support (partials and inheritance need a
/// library of other templates, and a delimiter change would hide the tags after it).
struct MustacheTagScan {
    private(set) var valueNames = Set<String>()
    private(set) var unsupportedTags: [(tag: String, line: Int)] = []

    init(_ source: String) {
        var rest = source[...]
        var line = 1
        while let open = rest.range(of: "{{") {
            line += rest[..<open.lowerBound].filter(\.isNewline).count
            let afterOpen = rest[open.upperBound...]
            let triple = afterOpen.hasPrefix("{")
            guard let close = afterOpen.range(of: triple ? "}}}" : "}}") else { return }
            let content = afterOpen[afterOpen.index(afterOpen.startIndex, offsetBy: triple ? 1 : 0)..<close.lowerBound]
            record(content, triple: triple, line: line)
            line += afterOpen[..<close.upperBound].filter(\.isNewline).count
            rest = afterOpen[close.upperBound...]
        }
    }

    private mutating func record(_ content: Substring, triple: Bool, line: Int) {
        let trimmed = content.trimmingCharacters(in: .whitespaces)
        guard let sigil = trimmed.first else { return }
        var name = Substring(trimmed)
        if !triple {
            switch sigil {
            case "!", "/", "%", "$": return
            case ">", "<", "=":
                unsupportedTags.append((tag: "{{\(trimmed.prefix(20))}}", line: line))
                return
            case "#", "^", "&": name = name.dropFirst()
            default: break
            }
        }
        if let open = name.lastIndex(of: "("), let close = name[open...].firstIndex(of: ")") {
            name = name[name.index(after: open)..<close]
        }
        let root = name.trimmingCharacters(in: .whitespaces).split(separator: ".").first.map(String.init)
        if let root, !root.isEmpty { valueNames.insert(root) }
    }
}
