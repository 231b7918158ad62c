import ArgumentParser

@main
struct Liaison: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison",
        abstract: "Operate and develop the Liaison fleet: topics, replay, tracing, dead letters, profiles, lag, audits, the demo and benchmarks.",
        subcommands: [
            Demo.self, Dev.self, Sinks.self, Topics.self, Replay.self, Trace.self, DeadLetterCommands.self, Profile.self, Lag.self,
            Audit.self, RulesCommands.self, Bench.self,
        ])
}
