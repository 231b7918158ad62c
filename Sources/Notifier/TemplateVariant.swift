import LiaisonSchema

/// The audiences a variant may be written for. Enrich gives each customer a generation band;
/// writing a variant per band is rarely worth it, so two broader groups let one file speak to
/// several bands, and a band's own variant still wins over its group's.
public enum AudienceSegment: String, Sendable, Hashable, CaseIterable {
    case genZ = "gen-z"
    case millennial
    case genX = "gen-x"
    case boomer
    case silent
    /// Gen Z and millennials.
    case younger
    /// Gen X, boomers and the silent generation.
    case older

    /// The group a generation band belongs to; nil for the groups themselves.
    public var group: AudienceSegment? {
        switch self {
        case .genZ, .millennial: .younger
        case .genX, .boomer, .silent: .older
        case .younger, .older: nil
        }
    }
}

/// What a variant file's name says it is for: `<channel>[.<segment>][.<device>].<locale>.yaml`
/// in the folder named after its template. Exposed so receipts and tools can say which text a
/// customer got, and tests can reach every variant.
public struct TemplateVariant: Sendable, Hashable, CustomStringConvertible {
    public let template: String
    public let channel: Channel
    public let segment: AudienceSegment?
    public let device: DeviceKind?
    /// As written in the file name, e.g. `de` or `zh-Hans`.
    public let locale: String

    /// The file's path inside the catalog folder, e.g. `offer.cd-30-day/push.tablet.de.yaml`.
    public var id: String {
        let qualifiers = [segment?.rawValue, device?.rawValue].compactMap { $0 }
        return "\(template)/" + ([channel.rawValue] + qualifiers + [locale, TemplateVariant.fileExtension]).joined(separator: ".")
    }

    public var description: String { id }

    static let fileExtension = "yaml"

    var key: VariantKey { VariantKey(locale: LocaleTag.normalized(locale), segment: segment, device: device) }

    /// Reads a variant file's name; the reason is a sentence for the load report.
    static func parse(template: String, fileName: String) -> Result<TemplateVariant, FileNameProblem> {
        let suffix = "." + fileExtension
        guard fileName.hasSuffix(suffix) else { return .failure(FileNameProblem("is not a variant file: \(schemeHint)")) }
        let parts = fileName.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.count <= 4, !parts.contains(where: \.isEmpty) else {
            return .failure(FileNameProblem("does not follow the naming scheme: \(schemeHint)"))
        }
        guard let channel = Channel(rawValue: parts[0]) else {
            let known = Channel.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(FileNameProblem("names the unknown channel '\(parts[0])'; channels are \(known)"))
        }
        let locale = parts[parts.count - 1]
        guard LocaleTag.isWellFormed(locale) else {
            return .failure(FileNameProblem("ends in '\(locale)', which is not a locale tag such as en, de or zh-Hans"))
        }
        var segment: AudienceSegment?
        var device: DeviceKind?
        for qualifier in parts.dropFirst().dropLast() {
            if let kind = DeviceKind(rawValue: qualifier) {
                guard device == nil else { return .failure(FileNameProblem("names two devices; the scheme is \(schemeHint)")) }
                device = kind
            } else if let audience = AudienceSegment(rawValue: qualifier) {
                guard segment == nil else { return .failure(FileNameProblem("names two segments; the scheme is \(schemeHint)")) }
                guard device == nil else { return .failure(FileNameProblem("puts the segment after the device; the scheme is \(schemeHint)")) }
                segment = audience
            } else {
                let segments = AudienceSegment.allCases.map(\.rawValue).joined(separator: ", ")
                let devices = DeviceKind.allCases.map(\.rawValue).joined(separator: ", ")
                return .failure(FileNameProblem("has the qualifier '\(qualifier)', which is neither a segment (\(segments)) nor a device (\(devices))"))
            }
        }
        return .success(TemplateVariant(template: template, channel: channel, segment: segment, device: device, locale: locale))
    }

    static let schemeHint = "<channel>[.<segment>][.<device>].<locale>.yaml"
}

struct FileNameProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A variant's place in the fallback chain, with the locale compared case-insensitively.
struct VariantKey: Hashable {
    let locale: String
    let segment: AudienceSegment?
    let device: DeviceKind?

    /// Every key a request may be served by, most specific first: within each locale of the
    /// locale chain, segment and device, segment alone, the segment's group with and without the
    /// device, the device alone, and neither.
    static func fallbackChain(locale: String?, defaultLocale: String, segment: AudienceSegment?, device: DeviceKind?) -> [VariantKey] {
        var segments: [AudienceSegment?] = []
        if let segment {
            segments.append(segment)
            if let group = segment.group { segments.append(group) }
        }
        segments.append(nil)
        let devices: [DeviceKind?] = device.map { [$0, nil] } ?? [nil]
        return LocaleTag.chain(from: locale, defaultLocale: defaultLocale).flatMap { locale in
            segments.flatMap { segment in devices.map { VariantKey(locale: locale, segment: segment, device: $0) } }
        }
    }
}

/// BCP 47 tags as far as choosing a variant needs them: subtags dropped from the right, case
/// ignored, underscores (as in `de_CH`) read as hyphens.
enum LocaleTag {
    static func normalized(_ tag: String) -> String {
        tag.replacingOccurrences(of: "_", with: "-").lowercased()
    }

    static func isWellFormed(_ tag: String) -> Bool {
        let subtags = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = subtags.first, (2...3).contains(language.count), language.allSatisfy(\.isASCIILetter) else { return false }
        return subtags.dropFirst().allSatisfy { (1...8).contains($0.count) && $0.allSatisfy(\.isASCIILetterOrDigit) }
    }

    /// `de-CH` gives `de-ch`, `de`, then the default locale; an absent or malformed tag gives the
    /// default alone.
    static func chain(from tag: String?, defaultLocale: String) -> [String] {
        var chain: [String] = []
        if let tag, isWellFormed(tag.replacingOccurrences(of: "_", with: "-")) {
            var subtags = normalized(tag).split(separator: "-").map(String.init)
            while !subtags.isEmpty {
                chain.append(subtags.joined(separator: "-"))
                subtags.removeLast()
            }
        }
        let fallback = normalized(defaultLocale)
        if !chain.contains(fallback) { chain.append(fallback) }
        return chain
    }

    /// Whether `narrower` is `broader` or one of its refinements (`de-ch` of `de`).
    static func refines(_ narrower: String, _ broader: String) -> Bool {
        let narrower = normalized(narrower)
        let broader = normalized(broader)
        return narrower == broader || narrower.hasPrefix(broader + "-")
    }
}

extension Character {
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
    fileprivate var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
