import Foundation
import LiaisonSchema
import Yams

/// The enrich stage's settings file (YAML): the features' tunable numbers and the sentiment
/// lexicons. Every key is optional; `deploy/enrich.example.yaml` lists them with their defaults.
public struct EnrichConfiguration: Sendable, Equatable {
    public var features = FeatureSettings()
    /// Lexicon files replacing the bundled English and German ones; the first is the fallback
    /// language when a text's language is unknown.
    public var sentimentLexicons: [String] = []

    public init() {}

    public init(yaml: String) throws(EnrichConfigurationError) {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: yaml)
        } catch let error as DecodingError {
            throw EnrichConfigurationError(settingsErrorText(error))
        } catch {
            throw EnrichConfigurationError("\(error)")
        }
        if let buffer = file.cashNeedBuffer {
            guard let decimal = Decimal(string: buffer, locale: Locale(identifier: "en_US_POSIX")), decimal >= 0, decimal <= 10 else {
                throw EnrichConfigurationError("cash-need-buffer must be a number from 0 to 10 (0.1 adds 10 %), found \(buffer)")
            }
            features.cashNeedBuffer = decimal
        }
        if let weights = file.churnWeights {
            let values = [("sentiment", weights.sentiment), ("cases", weights.cases), ("activity", weights.activity)]
            for (name, weight) in values where weight.map({ !(0...1).contains($0) }) ?? false {
                throw EnrichConfigurationError("churn-weights.\(name) must be from 0 to 1, found \(weight!)")
            }
            features.churnWeights = FeatureSettings.ChurnWeights(
                sentiment: weights.sentiment ?? features.churnWeights.sentiment,
                cases: weights.cases ?? features.churnWeights.cases,
                activity: weights.activity ?? features.churnWeights.activity)
        }
        try Self.set(&features.unresolvedCaseDays, file.unresolvedCaseDays, "unresolved-case-days", 0...3650)
        try Self.set(&features.caseAgeSaturationDays, file.caseAgeSaturationDays, "case-age-saturation-days", 1...3650)
        try Self.set(&features.minimumBaselineDays, file.minimumBaselineDays, "minimum-baseline-days", 1...90)
        sentimentLexicons = file.sentimentLexicons ?? []
    }

    private static func set(_ target: inout Int, _ value: Int?, _ key: String, _ range: ClosedRange<Int>) throws(EnrichConfigurationError) {
        guard let value else { return }
        guard range.contains(value) else {
            throw EnrichConfigurationError("\(key) must be from \(range.lowerBound) to \(range.upperBound), found \(value)")
        }
        target = value
    }

    private struct File: Decodable {
        var cashNeedBuffer: String?
        var churnWeights: Weights?
        var unresolvedCaseDays: Int?
        var caseAgeSaturationDays: Int?
        var minimumBaselineDays: Int?
        var sentimentLexicons: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case cashNeedBuffer = "cash-need-buffer", churnWeights = "churn-weights", unresolvedCaseDays = "unresolved-case-days"
            case caseAgeSaturationDays = "case-age-saturation-days", minimumBaselineDays = "minimum-baseline-days"
            case sentimentLexicons = "sentiment-lexicons"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [unknown],
                    debugDescription: "unknown key; the keys are \(known.sorted().joined(separator: ", "))"))
            }
            let keyed = try decoder.container(keyedBy: CodingKeys.self)
            cashNeedBuffer = try keyed.decodeIfPresent(String.self, forKey: .cashNeedBuffer)
            churnWeights = try keyed.decodeIfPresent(Weights.self, forKey: .churnWeights)
            unresolvedCaseDays = try keyed.decodeIfPresent(Int.self, forKey: .unresolvedCaseDays)
            caseAgeSaturationDays = try keyed.decodeIfPresent(Int.self, forKey: .caseAgeSaturationDays)
            minimumBaselineDays = try keyed.decodeIfPresent(Int.self, forKey: .minimumBaselineDays)
            sentimentLexicons = try keyed.decodeIfPresent([String].self, forKey: .sentimentLexicons)
        }
    }

    private struct Weights: Decodable {
        var sentiment: Double?
        var cases: Double?
        var activity: Double?
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Why the enrich settings file cannot be used, naming the key.
public struct EnrichConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
