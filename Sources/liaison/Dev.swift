import ArgumentParser
import LiaisonKafka
import LiaisonSchema
import ServiceLifecycle
import Logging

/// `liaison dev`: librdkafka's in-process cluster on its own, for running stages by hand.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an embedded development broker (in memory, a few MB per partition; never for production).")

    @Option(help: "Partitions of each Liaison topic.")
    var partitions: Int32 = 4

    @Option(name: .customLong("topic"), help: "An extra topic to create, repeatable.")
    var extraTopics: [String] = []

    func run() async throws {
        let broker = try EmbeddedBroker()
        for topic in LiaisonTopics.all + extraTopics {
            try broker.createTopic(topic, partitions: partitions)
        }
        print("embedded broker listening at \(broker.bootstrapServers)")
        print("  export LIAISON_BROKERS=\(broker.bootstrapServers)")
        print("topics: \((LiaisonTopics.all + extraTopics).joined(separator: ", ")) (\(partitions) partitions each)")
        print("stop with Ctrl-C")
        let group = ServiceGroup(
            services: [WaitForShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "liaison.dev"))
        try await group.run()
        withExtendedLifetime(broker) {}
    }
}

/// Keeps the process up until a shutdown signal arrives.
struct WaitForShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
