import ArgumentParser
import LiaisonKafka
import LiaisonSchema

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the fleet's topics.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every Liaison topic (and any extra ones) that does not exist yet.")

        @OptionGroup var cluster: ClusterOptions

        @Option(help: "Partitions per topic: the most replicas a stage can usefully scale to.")
        var partitions: Int32 = 12

        @Option(help: "Replication factor (3 for production clusters).")
        var replication: Int32 = 1

        @Option(name: .customLong("topic"), help: "An extra topic to create, repeatable.")
        var extraTopics: [String] = []

        func run() async throws {
            let admin = try KafkaAdmin(properties: try cluster.properties(brokers: try cluster.requiredBrokers()))
            let specs = (LiaisonTopics.all + extraTopics).map {
                TopicSpec(name: $0, partitions: partitions, replicationFactor: replication)
            }
            let outcomes = try admin.createTopics(specs)
            for spec in specs {
                print("\(spec.name): \(outcomes[spec.name]?.rawValue ?? "unknown")")
            }
        }
    }
}
