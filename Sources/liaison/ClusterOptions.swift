import ArgumentParser
import Foundation
import LiaisonKafka
import LiaisonRuntime

/// How a `liaison` command reaches a cluster: the same flags and variables as the stages.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port] (env LIAISON_BROKERS).")
    var brokers: String?

    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property as key=value, repeatable.", valueName: "key=value"))
    var kafka: [String] = []

    /// The configured brokers, or nil when neither the flag nor the variable is set.
    var configuredBrokers: String? {
        brokers ?? ProcessInfo.processInfo.environment["LIAISON_BROKERS"]
    }

    func properties(brokers: String) throws -> KafkaProperties {
        KafkaProperties(try mergedKafkaProperties(environment: ProcessInfo.processInfo.environment, flags: kafka))
            .merging(["bootstrap.servers": brokers])
    }

    /// Brokers for commands that need a real cluster, with a way forward when there is none.
    func requiredBrokers() throws -> String {
        guard let brokers = configuredBrokers else {
            throw ValidationError(
                "no Kafka brokers configured: pass --brokers HOST:PORT or set LIAISON_BROKERS; "
                    + "`liaison dev` starts an embedded broker for trying things and prints its address")
        }
        return brokers
    }
}
