import ArgumentParser
import Foundation
import LiaisonRuntime
import LiaisonSchema
import Notifier
import NotifierRuntime
import NotifierStore

/// The notifier as a daemon: actions in; consent, caps and quiet hours weighed; messages
/// rendered and delivered over email, SMS, push, webhooks and Kafka channels; a receipt for
/// every action out.
@main
struct NotifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison-notifier",
        abstract: "Delivers actions over every channel, exactly once as the customer sees it, and writes a receipt for each.",
        discussion: """
            Reads liaison.actions.v1 and writes liaison.deliveries.v1 (sent, deferred, suppressed, failed, missed), \
            alerts for missed engagements, and agent tasks, CRM updates and inbox messages on their topics. \
            Deliveries are rows in the partitions' files (synchronous=FULL): `attempting` with the idempotency key \
            is durable before a provider is called, so a restart retries with the same key. The configuration \
            file (templates, ladders, caps, quiet hours, providers) is checked whole before anything starts; \
            deploy/notifier.yaml documents every key.
            """)

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "The notifier's configuration, a YAML file (env LIAISON_NOTIFIER_CONFIG), e.g. deploy/notifier.yaml.")
    var notifierConfig: String?

    func run() async throws {
        guard let path = notifierConfig ?? ProcessInfo.processInfo.environment["LIAISON_NOTIFIER_CONFIG"] else {
            throw ValidationError("no notifier configuration: pass --notifier-config FILE or set LIAISON_NOTIFIER_CONFIG (see deploy/notifier.yaml)")
        }
        let configuration: NotifierConfiguration
        let catalog: TemplateCatalog
        do {
            configuration = try NotifierConfiguration(file: path)
            catalog = try TemplateCatalog(directory: configuration.templatesDirectory, defaultLocale: configuration.defaultLocale)
        } catch {
            throw ValidationError("the notifier's configuration does not load; nothing was started:\n\(error)")
        }
        let settings = try runtime.resolve(stage: "notifier", defaultInputs: [ActionV1.topic], durability: .full)
        let stage = NotifierStage(policy: configuration.policy, topics: configuration.topics, clock: settings.clock)
        let widestCap = configuration.policy.frequencyCaps.values.map(\.windowSeconds).max() ?? 0
        let persistence = NotifierPersistence(contactRetentionSeconds: widestCap)
        try await StageDaemon.run(stage: stage, persistence: persistence, settings: settings) { logger in
            try NotifierAssembly.engine(configuration: configuration, catalog: catalog, settings: settings, logger: logger)
        }
    }
}
