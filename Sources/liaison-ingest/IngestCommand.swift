import ArgumentParser
import Foundation
import Ingest
import LiaisonRuntime
import LiaisonSchema
import LiaisonStore

/// The ingest stage as a daemon: upstream topics in, `liaison.events.v1` and dead letters out.
@main
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison-ingest",
        abstract: "Validates and normalises upstream records into Liaison's canonical events.",
        discussion: """
            Input topics default to those listed under `topics:` in the ingest file. A topic not \
            listed there is read as CloudEvents (structured or binary mode). See schemas/README.md \
            for the record types and deploy/ingest.example.yaml for a mapping file.
            """)

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "YAML file with `topics:` (format per upstream topic), `mappings:` and limits (env LIAISON_INGEST_CONFIG).")
    var ingestConfig: String?

    @Option(help: "Topic the canonical events are written to.")
    var output = EventV1.topic

    func run() async throws {
        let ingest: IngestConfiguration
        do {
            ingest = try IngestConfiguration(file: ingestConfig ?? ProcessInfo.processInfo.environment["LIAISON_INGEST_CONFIG"])
        } catch {
            throw ValidationError(error.message)
        }
        let settings = try runtime.resolve(stage: "ingest", defaultInputs: ingest.topics.keys.sorted())
        let stage = IngestStage(configuration: ingest, outputTopic: output) { settings.clock().epochMilliseconds }
        try await StageDaemon.run(stage: stage, persistence: NoStatePersistence(), settings: settings)
    }
}
