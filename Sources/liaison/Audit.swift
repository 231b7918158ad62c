import ArgumentParser
import Foundation
import Ingest
import LiaisonAudit
import LiaisonRuntime
import LiaisonSchema
import LiaisonSinks

/// `liaison audit`: after a run, whether every record is accounted for from the upstream topics
/// to the providers, and where to look when one is not.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconcile the fleet: upstream records, stage ledgers, actions, receipts and the sinks; exit 1 on any discrepancy.",
        discussion: """
            Four checks, each printed with its counts and every discrepancy (topic/partition@offset or id, and \
            the stage): (1) every record of the --upstream topics has exactly one verdict in ingest's ledger; \
            (2) every event ingest accepted is in enrich's ledger and every event enrich enriched is in rules' \
            ledger; (3) every action on the actions topic has exactly one final receipt (sent, suppressed, failed \
            or missed) on the receipts topic, where a copy of a receipt with the same id is a redelivered copy, \
            not a discrepancy, and an action the notifier still holds is still pending; (4) with --sinks, no \
            message reached `liaison sinks` twice and each channel's sent receipts match the messages the sinks \
            took. Ledger rows older than the stages' --ledger-retention may have been pruned; records they \
            would cover are not audited, and the output says which. Run it once the fleet has caught up \
            (`liaison lag`): events still between two stages show as missing in check 2.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "The stages' state directory (env LIAISON_STATE_DIR; default ./state).")
    var stateDir: String?

    @Option(name: .customLong("upstream"), help: "An upstream topic ingest consumes, repeatable (default: the topics of ingest's files).")
    var upstream: [String] = []

    @Option(help: "The base URL of `liaison sinks`' HTTP port (http://HOST:PORT), to check the deliveries the sinks took.")
    var sinks: String?

    @Option(help: "The ingest file ingest ran with, to recognise repeats in mapped topics (env LIAISON_INGEST_CONFIG).")
    var ingestConfig: String?

    @Option(help: "The stages' --ledger-retention: a duration such as 7d, or off.")
    var ledgerRetention = "7d"

    @Option(help: "The actions topic.")
    var actionsTopic = LiaisonTopics.actions

    @Option(help: "The delivery receipts topic.")
    var deliveriesTopic = LiaisonTopics.deliveries

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard ledgerRetention == "off" || parseDuration(ledgerRetention) != nil else {
            throw ValidationError("--ledger-retention must be a duration such as 7d or 12h, or off, not '\(ledgerRetention)'")
        }
        if let sinks, URL(string: sinks)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--sinks must be the HTTP sink's base URL, such as http://127.0.0.1:8080, not '\(sinks)'")
        }
    }

    func run() async throws {
        let properties = try cluster.properties(brokers: try cluster.requiredBrokers())
        let files = FleetFiles(stateDir: stateDir)
        let ingestFiles = files.files(of: "ingest")
        guard !ingestFiles.isEmpty else {
            let directory = files.stateDirectory.appendingPathComponent("ingest").path
            throw CommandFailure("no ingest files under \(directory): pass the --state-dir the stages were given")
        }
        let horizon = parseDuration(ledgerRetention).map { Date().epochMilliseconds - Int64($0.timeInterval * 1000) }
        let sources = AuditSources(files: files, properties: properties)
        let topics = upstream.isEmpty ? Array(Set(ingestFiles.map { FleetFiles.partition(of: $0).topic })).sorted() : upstream
        let ingestRows = try files.ledgerRows(of: "ingest")
        let ingest = IngestStage(configuration: try IngestConfiguration.given(ingestConfig)) { Date().epochMilliseconds }
        let partitions = try sources.upstream(topics, ingestRows: ingestRows, stage: ingest)
        var verdicts = AuditReconciler.upstreamVerdicts(partitions, retentionHorizonMs: horizon)
        if upstream.isEmpty {
            verdicts.notes.insert("upstream topics taken from ingest's files: \(topics.joined(separator: ", ")) (name them with --upstream)", at: 0)
        }
        let receipts = try sources.receipts(actionsTopic: actionsTopic, deliveriesTopic: deliveriesTopic)
        var sinkReport: SinkReport?
        if let sinks { sinkReport = try await sources.sinkReport(at: sinks) }
        let report = AuditReport(checks: [
            verdicts,
            AuditReconciler.stageHandoffs(
                ingest: ingestRows, enrich: try files.ledgerRows(of: "enrich"), rules: try files.ledgerRows(of: "rules"), retentionHorizonMs: horizon),
            AuditReconciler.receiptOutcomes(receipts),
            AuditReconciler.sinkDeliveries(sinkReport, sentByChannel: receipts.sentByChannel),
        ])
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.passed { throw ExitCode(1) }
    }
}
