import Foundation
import LiaisonSchema
import Yams

/// How upstream records arrive on a topic.
public enum UpstreamFormat: String, Codable, Sendable, CaseIterable {
    /// CloudEvents 1.0 over Kafka: structured mode (the envelope as the value), or binary mode
    /// (`ce_*` headers and the data as the value), told apart by the `ce_specversion` header.
    case cloudevents
    /// Debezium change events (with or without the JSON converter's schema wrapper), turned
    /// into events by a mapping.
    case debezium
    /// Any JSON object, turned into an event by a mapping.
    case json
}

/// Which format, and for mapped formats which mapping, a topic's records use.
public struct TopicBinding: Codable, Sendable, Equatable {
    public var format: UpstreamFormat
    public var mapping: String?

    public init(format: UpstreamFormat, mapping: String? = nil) {
        self.format = format
        self.mapping = mapping
    }
}

/// Ingest's configuration: what each upstream topic carries, the mappings for non-CloudEvents
/// records, and the limits that keep a hostile record from hurting the stage.
public struct IngestConfiguration: Codable, Sendable {
    /// Upstream topics by name. Topics not listed use `defaultBinding`.
    public var topics: [String: TopicBinding]
    public var defaultBinding: TopicBinding
    public var mappings: [String: RecordMapping]
    /// Records larger than this are rejected (`too_large`) before they are parsed.
    public var maxRecordBytes: Int
    /// JSON nested deeper than this is rejected (`too_deep`).
    public var maxDepth: Int
    /// Events whose `time` is further ahead of the stage's clock than this are rejected (`future_timestamp`).
    public var futureSkewSeconds: Int

    public init(
        topics: [String: TopicBinding] = [:], defaultBinding: TopicBinding = TopicBinding(format: .cloudevents),
        mappings: [String: RecordMapping] = [:], maxRecordBytes: Int = 1_048_576, maxDepth: Int = 64, futureSkewSeconds: Int = 300
    ) {
        self.topics = topics
        self.defaultBinding = defaultBinding
        self.mappings = mappings
        self.maxRecordBytes = maxRecordBytes
        self.maxDepth = maxDepth
        self.futureSkewSeconds = futureSkewSeconds
    }

    enum CodingKeys: String, CodingKey {
        case topics
        case defaultBinding = "default"
        case mappings
        case maxRecordBytes = "max-record-bytes"
        case maxDepth = "max-depth"
        case futureSkewSeconds = "future-skew-seconds"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = IngestConfiguration()
        topics = try container.decodeIfPresent([String: TopicBinding].self, forKey: .topics) ?? [:]
        defaultBinding = try container.decodeIfPresent(TopicBinding.self, forKey: .defaultBinding) ?? defaults.defaultBinding
        mappings = try container.decodeIfPresent([String: RecordMapping].self, forKey: .mappings) ?? [:]
        maxRecordBytes = try container.decodeIfPresent(Int.self, forKey: .maxRecordBytes) ?? defaults.maxRecordBytes
        maxDepth = try container.decodeIfPresent(Int.self, forKey: .maxDepth) ?? defaults.maxDepth
        futureSkewSeconds = try container.decodeIfPresent(Int.self, forKey: .futureSkewSeconds) ?? defaults.futureSkewSeconds
    }

    /// Reads and validates the YAML form (see deploy/ingest.example.yaml and
    /// schemas/ingest-config.v1.schema.json); errors name the key that is wrong.
    public init(yaml: String) throws(IngestConfigurationError) {
        do {
            self = try YAMLDecoder().decode(IngestConfiguration.self, from: yaml)
        } catch let error as DecodingError {
            throw IngestConfigurationError(settingsErrorText(error))
        } catch {
            throw IngestConfigurationError("\(error)")
        }
        try validate()
    }

    public func binding(for topic: String) -> TopicBinding { topics[topic] ?? defaultBinding }

    /// Checks everything that can be checked before the first record, so a bad file stops the
    /// stage at start-up with a message naming the topic, mapping or rule.
    public func validate() throws(IngestConfigurationError) {
        guard maxRecordBytes > 0 else { throw IngestConfigurationError("max-record-bytes must be positive") }
        guard (2...512).contains(maxDepth) else { throw IngestConfigurationError("max-depth must be between 2 and 512") }
        guard futureSkewSeconds >= 0 else { throw IngestConfigurationError("future-skew-seconds must not be negative") }
        for (topic, binding) in topics.sorted(by: { $0.key < $1.key }) + [("default", defaultBinding)] {
            switch binding.format {
            case .cloudevents:
                if binding.mapping != nil {
                    throw IngestConfigurationError("topic \(topic): CloudEvents records need no mapping; remove `mapping`")
                }
            case .debezium, .json:
                guard let name = binding.mapping else {
                    throw IngestConfigurationError("topic \(topic): format \(binding.format.rawValue) needs a `mapping`")
                }
                guard mappings[name] != nil else {
                    throw IngestConfigurationError("topic \(topic): no mapping named '\(name)' under `mappings`")
                }
            }
        }
        for (name, mapping) in mappings.sorted(by: { $0.key < $1.key }) {
            do throws(IngestConfigurationError) {
                try mapping.validate()
            } catch {
                throw IngestConfigurationError("mapping \(name): \(error.message)")
            }
        }
    }
}

extension IngestConfiguration {
    /// Loads the ingest file at `path`, or the defaults (every topic CloudEvents) without one; a
    /// file that cannot be read is reported like any other problem with it, naming the file.
    public init(file path: String?) throws(IngestConfigurationError) {
        guard let path else {
            self.init()
            return
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw IngestConfigurationError("cannot read the ingest file \(path): \(error.localizedDescription)")
        }
        do {
            try self.init(yaml: text)
        } catch {
            throw IngestConfigurationError("\(path): \(error.message)")
        }
    }
}

/// A configuration that cannot work, with what to change.
public struct IngestConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
