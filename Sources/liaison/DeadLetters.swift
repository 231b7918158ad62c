import ArgumentParser
import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonStage

/// `liaison dlq`: what was refused and why, and sending it again once the cause is fixed.
struct DeadLetterCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect dead letters by reason and re-drive selected ones after a fix.",
        subcommands: [List.self, Show.self, Redrive.self])

    /// Which dead letters a command is about.
    struct Selection: ParsableArguments {
        @OptionGroup var cluster: ClusterOptions

        @Option(help: "The dead-letter topic.")
        var topic = DeadLetterV1.topic

        @Option(help: "Only dead letters of this stage (ingest, enrich, rules, notifier).")
        var stage: String?

        @Option(help: "Only dead letters with this reason code.")
        var reason: String?

        @Option(help: "Only dead letters of records from this source topic.")
        var sourceTopic: String?

        /// Every selected dead letter with its own position in the dead-letter topic.
        func read() throws -> [(position: RecordPosition, letter: DeadLetterV1)] {
            let properties = try cluster.properties(brokers: try cluster.requiredBrokers())
            var selected: [(RecordPosition, DeadLetterV1)] = []
            try TopicRange.readWhole(topic, properties: properties) { record in
                guard let letter = try? JSONValueDecoder().decode(DeadLetterV1.self, from: record.value) else { return }
                if let stage, letter.stage != stage { return }
                if let reason, letter.reason != reason { return }
                if let sourceTopic, letter.source.topic != sourceTopic { return }
                selected.append((record.position, letter))
            }
            return selected
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count dead letters by stage and reason.")

        @OptionGroup var selection: Selection

        func run() async throws {
            let letters = try selection.read()
            let groups = Dictionary(grouping: letters) { "\($0.letter.stage)\t\($0.letter.reason)" }
            print("stage     reason                              count  first seen                 example")
            for key in groups.keys.sorted() {
                let group = groups[key]!
                let parts = key.split(separator: "\t").map(String.init)
                print(
                    parts[0].padding(toLength: 9, withPad: " ", startingAt: 0) + " " + parts[1].padding(toLength: 34, withPad: " ", startingAt: 0) + " "
                        + String(group.count).leftPadded(6) + "  " + group[0].letter.rejectedAt.padding(toLength: 26, withPad: " ", startingAt: 0) + " "
                        + String(group[0].letter.message.prefix(80)))
            }
            print("\(letters.count) dead letters")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print selected dead letters in full: reason, message, source position, headers and the original record.")

        @OptionGroup var selection: Selection

        @Option(help: "Most dead letters to print.")
        var limit = 10

        func run() async throws {
            for (position, letter) in try selection.read().prefix(limit) {
                print("\(position.topic)/\(position.partition)@\(position.offset)  \(letter.stage) \(letter.reason)  at \(letter.rejectedAt)")
                print("  message: \(letter.message)")
                print("  source:  \(letter.source.topic)/\(letter.source.partition)@\(letter.source.offset)  input \(letter.inputID)")
                if let key = letter.keyBase64.flatMap({ Data(base64Encoded: $0) }) { print("  key:     \(String(decoding: key, as: UTF8.self))") }
                for header in letter.headers {
                    print("  header:  \(header.name)=\(String(decoding: Data(base64Encoded: header.valueBase64) ?? Data(), as: UTF8.self))")
                }
                let value = Data(base64Encoded: letter.valueBase64) ?? Data()
                print("  value (\(letter.valueBytes) bytes\(letter.truncated ? ", truncated" : "")): \(String(decoding: value.prefix(2_000), as: UTF8.self))")
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send selected dead letters' original records again, to their source topic or another one.",
            discussion: "Key, value and headers are the original ones. A record still wrong is dead-lettered again with its reason; nothing is lost either way.")

        @OptionGroup var selection: Selection

        @Option(help: "Send to this topic instead of each record's source topic.")
        var toTopic: String?

        @Flag(help: "Print what would be sent, send nothing.")
        var dryRun = false

        func validate() throws {
            guard selection.reason != nil || selection.stage != nil || selection.sourceTopic != nil else {
                throw ValidationError("select what to re-drive with --reason, --stage or --source-topic")
            }
        }

        func run() async throws {
            let letters = try selection.read()
            var records: [OutputRecord] = []
            for (position, letter) in letters {
                guard !letter.truncated, let value = Data(base64Encoded: letter.valueBase64) else {
                    print("skipped \(position.topic)/\(position.partition)@\(position.offset): the dead letter holds only part of the record")
                    continue
                }
                records.append(OutputRecord(
                    id: letter.inputID, topic: toTopic ?? letter.source.topic,
                    key: letter.keyBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }, value: Array(value),
                    headers: letter.headers.map { RecordHeader(name: $0.name, value: Array(Data(base64Encoded: $0.valueBase64) ?? Data())) }))
                print("\(dryRun ? "would re-drive" : "re-driving") \(letter.source.topic)/\(letter.source.partition)@\(letter.source.offset) (\(letter.reason)) to \(toTopic ?? letter.source.topic)")
            }
            guard !dryRun else { return }
            let producer = try KafkaProducer(properties: try selection.cluster.properties(brokers: try selection.cluster.requiredBrokers()))
            try producer.sendAndWait(records)
            print("re-drove \(records.count) of \(letters.count) dead letters")
        }
    }
}
