import ArgumentParser
import Counter
import CounterStore
import LiaisonRuntime

/// The counting stage as a daemon: the runtime's proving ground, used by the demo and the tests.
@main
struct CounterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison-counter",
        abstract: "Counts records per key through the Liaison runtime and emits the running counts.")

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Stage name: names the state subdirectory, the default group and output ids.")
    var name = "counter"

    @Option(help: "Topic the running counts are written to.")
    var output = "liaison.counts.v1"

    func run() async throws {
        let settings = try runtime.resolve(stage: name, defaultInputs: ["liaison.events.v1"])
        try await StageDaemon.run(
            stage: CountingStage(name: name, outputTopic: output), persistence: CountPersistence(), settings: settings)
    }
}

