import ArgumentParser

@main
struct Liaison: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison",
        abstract: "Operate and develop the Liaison fleet: brokers, topics, rule packs, the demo and benchmarks.",
        subcommands: [Demo.self, Dev.self, Topics.self, RulesCommands.self, Bench.self])
}
