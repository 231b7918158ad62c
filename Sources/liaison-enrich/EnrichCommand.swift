import ArgumentParser
import Enrich
import EnrichStore
import Foundation
import LiaisonRuntime
import LiaisonSchema

/// The enrich stage as a daemon: events and delivery receipts in, events with their customer's
/// context out.
@main
struct EnrichCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison-enrich",
        abstract: "Keeps a profile per customer and emits every event with its customer's context.",
        discussion: """
            Reads liaison.events.v1 and liaison.deliveries.v1, which must have the same number of \
            partitions: a customer's events and receipts update one profile in the partition's file. \
            See deploy/enrich.example.yaml for the features' settings and the sentiment lexicons.
            """)

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "YAML file with the features' settings and sentiment lexicons (env LIAISON_ENRICH_CONFIG).")
    var enrichConfig: String?

    @Option(help: "Topic the enriched events are written to.")
    var output = EnrichedEventV1.topic

    @Option(help: "Which input topic holds the delivery receipts; every other input holds events.")
    var deliveries = DeliveryReceiptV1.topic

    func run() async throws {
        let configuration = try loadEnrichConfiguration(path: enrichConfig ?? ProcessInfo.processInfo.environment["LIAISON_ENRICH_CONFIG"])
        let scorer = try loadSentimentScorer(configuration)
        var settings = try runtime.resolve(stage: "enrich", defaultInputs: [EventV1.topic, DeliveryReceiptV1.topic])
        settings.copartitionedInputs = true
        guard settings.inputTopics.contains(deliveries) else {
            throw ValidationError("--deliveries \(deliveries) is not among the inputs (\(settings.inputTopics.joined(separator: ", ")))")
        }
        let stage = EnrichStage(features: configuration.features, sentiment: scorer, deliveriesTopic: deliveries, outputTopic: output)
        try await StageDaemon.run(stage: stage, persistence: ProfilePersistence(), settings: settings)
    }
}

func loadEnrichConfiguration(path: String?) throws -> EnrichConfiguration {
    guard let path else { return EnrichConfiguration() }
    let text: String
    do {
        text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw ValidationError("cannot read the enrich file \(path): \(error.localizedDescription)")
    }
    do {
        return try EnrichConfiguration(yaml: text)
    } catch {
        throw ValidationError("\(path): \(error.message)")
    }
}

/// The bundled English and German lexicons, or the operator's own files when the settings name some.
func loadSentimentScorer(_ configuration: EnrichConfiguration) throws -> SentimentScorer {
    guard !configuration.sentimentLexicons.isEmpty else { return SentimentScorer(lexicons: try SentimentLexicon.bundled()) }
    var lexicons: [SentimentLexicon] = []
    for path in configuration.sentimentLexicons {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the sentiment lexicon \(path): \(error.localizedDescription)")
        }
        lexicons.append(try SentimentLexicon(yaml: text, origin: path))
    }
    return SentimentScorer(lexicons: lexicons)
}
