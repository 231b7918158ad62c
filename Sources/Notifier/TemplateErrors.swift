import Foundation

/// One thing wrong with the template folder, with the file and line to fix.
public struct TemplateLoadProblem: Sendable, Equatable, CustomStringConvertible {
    /// The path inside the catalog folder, e.g. `offer.cd-30-day/sms.de.yaml`.
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// Every problem of a template folder at once, so one edit-and-restart fixes them all and a
/// catalog with any problem never serves half its templates.
public struct TemplateCatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [TemplateLoadProblem]

    public init(problems: [TemplateLoadProblem]) {
        self.problems = problems
    }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return "the template catalog has \(count):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Why a message could not be rendered; the notifier tries the next channel or fails the
/// delivery with `reasonCode` and the description.
public enum TemplateRenderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No folder in the catalog has the action's template name.
    case unknownTemplate(String)
    /// The template has no variant for the channel, in any locale.
    case noVariantForChannel(template: String, channel: Channel)
    /// A part the channel needs rendered to nothing but whitespace, e.g. an SMS whose only
    /// content was a value the payload lacks.
    case emptyPart(variant: String, part: String)

    /// Stable, for delivery receipts and metrics.
    public var reasonCode: String {
        switch self {
        case .unknownTemplate: "template_unknown"
        case .noVariantForChannel: "template_channel_missing"
        case .emptyPart: "template_rendered_empty"
        }
    }

    public var description: String {
        switch self {
        case let .unknownTemplate(template):
            "the template '\(template)' is not in the catalog"
        case let .noVariantForChannel(template, channel):
            "the template '\(template)' has no variant for the channel \(channel.rawValue)"
        case let .emptyPart(variant, part):
            "the \(part) of \(variant) rendered empty; the values lack what it shows"
        }
    }
}
