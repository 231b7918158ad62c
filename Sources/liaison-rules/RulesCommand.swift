import ArgumentParser
import Foundation
import LiaisonRuntime
import LiaisonSchema
import Rules
import RulesStore

/// The rules stage as a daemon: enriched events in, engagement intents out, and the timers of
/// the partitions it owns fired when they come due.
@main
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison-rules",
        abstract: "Evaluates a rule pack against enriched events, schedules durable timers and emits actions.",
        discussion: """
            Reads liaison.enriched.v1 and writes liaison.actions.v1. The rule pack is checked whole before \
            anything is consumed: a pack with any error stops the stage with every error's line and field \
            (`liaison rules check FILE` shows the same). Timers live in the partitions' files and fire \
            from whichever replica owns the partition.
            """)

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "The rule pack, a YAML file (env LIAISON_RULES), e.g. schemas/rules/default.yaml.")
    var rules: String?

    @Option(help: "Topic the actions are written to.")
    var output = ActionV1.topic

    @Option(help: "How long decisions that sent nothing (suppressed, cancelled, missed) are kept, e.g. 90d.")
    var decisionRetention = "90d"

    func run() async throws {
        let pack = try loadRulePack(path: rules ?? ProcessInfo.processInfo.environment["LIAISON_RULES"])
        guard let retention = parseDuration(decisionRetention) else {
            throw ValidationError("--decision-retention must be a whole number with a unit (90d, 12h), got '\(decisionRetention)'")
        }
        let settings = try runtime.resolve(stage: "rules", defaultInputs: [EnrichedEventV1.topic])
        let stage = RulesStage(pack: pack, outputTopic: output, clock: settings.clock)
        let persistence = RulesPersistence(
            firingHorizonSeconds: pack.firingHorizonSeconds, decisionRetentionSeconds: retention.components.seconds)
        try await StageDaemon.run(timedStage: stage, persistence: persistence, settings: settings)
    }
}

func loadRulePack(path: String?) throws -> RulePack {
    guard let path else {
        throw ValidationError("no rule pack: pass --rules FILE or set LIAISON_RULES (the default pack is schemas/rules/default.yaml)")
    }
    do {
        return try RulePack(file: path)
    } catch {
        throw ValidationError("the rule pack \(path) does not load; nothing was started:\n\(error)")
    }
}
