import ArgumentParser
import Foundation
import LiaisonKafka
import LiaisonSchema
import Logging

/// Which consumer group reads which topics: the fleet's stages with their default groups.
struct StageInputs: Sendable {
    var stage: String
    var group: String
    var topics: [String]

    /// The four stages; ingest's topics are the upstream ones, which only the deployment knows.
    static func fleet(upstream: [String]) -> [StageInputs] {
        [
            StageInputs(stage: "ingest", group: "liaison-ingest", topics: upstream),
            StageInputs(stage: "enrich", group: "liaison-enrich", topics: [LiaisonTopics.events, LiaisonTopics.deliveries]),
            StageInputs(stage: "rules", group: "liaison-rules", topics: [LiaisonTopics.enriched]),
            StageInputs(stage: "notifier", group: "liaison-notifier", topics: [LiaisonTopics.actions]),
        ]
    }
}

/// One partition's position in one group: how far behind the end of the partition it is.
struct PartitionLag: Sendable {
    var stage: String
    var partition: TopicPartition
    var committed: Int64?
    var end: Int64

    /// Records not yet processed; a group that never committed is behind by everything retained.
    func behind(start: Int64) -> Int64 { max(0, end - (committed ?? start)) }
}

/// Reads committed offsets and partition ends, asking the brokers only (no state files), so
/// it works wherever the stages run.
struct LagReader {
    let properties: KafkaProperties

    func read(_ stages: [StageInputs]) throws -> [(lag: PartitionLag, start: Int64)] {
        let admin = try KafkaAdmin(properties: properties)
        var rows: [(lag: PartitionLag, start: Int64)] = []
        for stage in stages {
            var partitions: [TopicPartition] = []
            for topic in stage.topics {
                let count = try admin.partitionCount(topic)
                partitions += (0..<count).map { TopicPartition(topic: topic, partition: $0) }
            }
            let consumer = try KafkaConsumer(
                properties: properties.merging(["group.id": stage.group]), listener: CommittedOffsetsListener(),
                logger: Logger(label: "liaison.lag"))
            let committed = try consumer.committed(partitions)
            consumer.close()
            for partition in partitions {
                let marks = try admin.watermarks(partition)
                rows.append((PartitionLag(stage: stage.stage, partition: partition, committed: committed[partition], end: marks.high), marks.low))
            }
        }
        return rows
    }
}

/// `liaison lag`: how far each stage's group is behind, per partition.
struct Lag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each stage's consumer lag per partition (committed offset against the partition's end).")

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .customLong("upstream"), help: "An upstream topic ingest reads, repeatable (default: those of deploy/ingest.example.yaml).")
    var upstream: [String] = []

    @Option(help: "Only this stage: ingest, enrich, rules or notifier.")
    var stage: String?

    @Flag(help: "One JSON object per partition instead of a table.")
    var json = false

    static let exampleUpstream = ["sor.booking", "sor.core-banking", "sor.crm.cases", "sor.erp.invoices"]

    func run() async throws {
        var stages = StageInputs.fleet(upstream: upstream.isEmpty ? Self.exampleUpstream : upstream)
        if let stage {
            stages = stages.filter { $0.stage == stage }
            guard !stages.isEmpty else { throw ValidationError("--stage must be ingest, enrich, rules or notifier, got '\(stage)'") }
        }
        let rows = try LagReader(properties: try cluster.properties(brokers: try cluster.requiredBrokers())).read(stages)
        if json {
            for (lag, start) in rows {
                print(#"{"stage":"\#(lag.stage)","topic":"\#(lag.partition.topic)","partition":\#(lag.partition.partition),"committed":\#(lag.committed.map(String.init) ?? "null"),"end":\#(lag.end),"lag":\#(lag.behind(start: start))}"#)
            }
            return
        }
        print("stage     topic                              partition   committed         end       lag")
        for (lag, start) in rows {
            print(
                lag.stage.padding(toLength: 9, withPad: " ", startingAt: 0) + " "
                    + lag.partition.topic.padding(toLength: 34, withPad: " ", startingAt: 0) + " "
                    + String(lag.partition.partition).leftPadded(9) + " " + (lag.committed.map(String.init) ?? "-").leftPadded(11) + " "
                    + String(lag.end).leftPadded(11) + " " + String(lag.behind(start: start)).leftPadded(9))
        }
        for stage in stages {
            let total = rows.filter { $0.lag.stage == stage.stage }.reduce(Int64(0)) { $0 + $1.lag.behind(start: $1.start) }
            print("\(stage.stage): \(total) behind in group \(stage.group)")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
