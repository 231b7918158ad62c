import ArgumentParser
import Foundation
import GRDB
import LiaisonAudit
import LiaisonKafka
import LiaisonSchema
import LiaisonStage

/// `liaison trace ID`: why a customer did, or did not, hear from us about one record.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow one record through every stage's ledger to its deliveries or its dead letter.",
        discussion: """
            ID is an upstream record's id (its CloudEvents id, or `source|id`, or `topic-partition-offset` \
            for a record that was not an event), or any id a stage wrote: an event id, an action id. \
            Each hop prints the stage, the topic/partition@offset it read, when, the verdict and what \
            it emitted; rules' decisions (fired, suppressed with the reason, scheduled timers and \
            what they fired) and the notifier's delivery rows follow. With --brokers, the decision \
            record of each action is read from its topic, with the values its rule read.
            """)

    @Argument(help: "The id to follow.")
    var id: String

    @Option(help: "The stages' state directory (env LIAISON_STATE_DIR; default ./state).")
    var stateDir: String?

    @Option(help: "Kafka bootstrap servers, to read the actions' decision records (env LIAISON_BROKERS; optional).")
    var brokers: String?

    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property as key=value, repeatable.", valueName: "key=value"))
    var kafka: [String] = []

    func run() async throws {
        let files = FleetFiles(stateDir: stateDir)
        let state = files.stateDirectory
        guard ["ingest", "enrich", "rules", "notifier"].contains(where: { !files.files(of: $0).isEmpty }) else {
            throw ValidationError("no stage files under \(state.path): pass the --state-dir the stages were given")
        }
        var fetcher: RecordFetcher?
        if let brokers = brokers ?? ProcessInfo.processInfo.environment["LIAISON_BROKERS"] {
            var cluster = ClusterOptions()
            cluster.kafka = kafka
            fetcher = try RecordFetcher(properties: cluster.properties(brokers: brokers))
        }
        let walk = TraceWalk(files: files)
        let hops = walk.walk(from: id)
        guard !hops.isEmpty else {
            throw ValidationError("no stage has a ledger entry for '\(id)'; ledger rows are kept for --ledger-retention (default 7d)")
        }
        print("trace \(id)")
        for hop in hops {
            print(hop.traceLine)
            if hop.stage == "rules" {
                for decision in walk.decisions(about: hop.inputID) { print("      decision " + decision) }
            }
            if hop.stage == "notifier" {
                if let fetched = fetcher?.fetch(hop.position), let action = try? JSONValueDecoder().decode(ActionV1.self, from: fetched.value) {
                    print("      decision \(action.decision.ruleId) \(action.decision.outcome.rawValue) (pack \(action.decision.packVersion))"
                        + " read \(compactJSON(action.decision.reads))")
                }
                for delivery in walk.deliveries(of: hop.inputID) { print("      delivery " + delivery) }
            }
        }
    }
}

extension LedgerRow {
    /// One hop of a trace: the stage, where it read the record, when, the verdict and what it emitted.
    var traceLine: String {
        let outcome = reason.map { "\(verdict) (\($0))" } ?? verdict
        let emitted = outputs.isEmpty ? "" : " → " + outputs.joined(separator: ", ")
        return "  \(stage.padding(toLength: 8, withPad: " ", startingAt: 0)) \(position.topic)/\(position.partition)@\(position.offset)  "
            + "\(Timestamp(epochMilliseconds: processedAtMs).text)  \(inputID)  \(outcome)\(emitted)"
    }
}

/// Walks the ledgers stage by stage: each stage's outputs are the next stage's inputs, and a
/// rule's timer leads to the action it fired later.
struct TraceWalk {
    let files: FleetFiles
    static let stages = ["ingest", "enrich", "rules", "notifier"]

    func walk(from id: String) -> [LedgerRow] {
        var hops: [LedgerRow] = []
        var frontier = Set([id])
        var started = false
        for stage in Self.stages {
            let found = entries(in: stage, matching: frontier, loose: !started)
            if found.isEmpty && !started { continue }
            started = true
            hops += found
            var next = Set(found.flatMap(\.outputs))
            if stage == "rules" {
                next.formUnion(timerActions(scheduledBy: found.map(\.inputID)))
            }
            frontier = next
            if frontier.isEmpty { break }
        }
        return hops
    }

    /// The rows whose input is one of the ids; `loose` also matches an upstream id given
    /// without its source, or an id found among a row's outputs.
    private func entries(in stage: String, matching ids: Set<String>, loose: Bool) -> [LedgerRow] {
        guard !ids.isEmpty else { return [] }
        return files.files(of: stage).flatMap { file in
            files.read(file) { db -> [LedgerRow] in
                try ids.flatMap { id in
                    try FleetFiles.ledgerRows(
                        stage: stage, file: file, in: db, where: "input_id = ?" + (loose ? " OR input_id LIKE ? ESCAPE '\\'" : ""),
                        arguments: loose ? [id, "%|" + escapedLike(id)] : [id])
                }
            } ?? []
        }
    }

    /// Decisions kept for an input: suppressed with the reason, scheduled, cancelled, missed.
    func decisions(about inputID: String) -> [String] {
        keptDecisions(about: [inputID]).map { decision in
            "\(decision.ruleId) \(decision.outcome.rawValue)" + (decision.reason.map { ": \($0)" } ?? "")
                + " read \(compactJSON(decision.reads))"
        }
    }

    private func keptDecisions(about inputIDs: [String]) -> [DecisionRecordV1] {
        files.files(of: "rules").flatMap { file in
            files.read(file) { db -> [DecisionRecordV1] in
                guard try db.tableExists("rules_decisions") else { return [] }
                var found: [DecisionRecordV1] = []
                for id in inputIDs {
                    let blobs = try Data.fetchAll(
                        db, sql: "SELECT decision FROM rules_decisions WHERE instr(CAST(decision AS TEXT), ?) > 0 ORDER BY seq",
                        arguments: [id])
                    found += blobs.compactMap { try? JSONValueDecoder().decode(DecisionRecordV1.self, from: Array($0)) }
                        .filter { $0.inputIds.contains(id) }
                }
                return found
            } ?? []
        }
    }

    /// Actions that timers scheduled by these inputs fired: `<rule>@<customer>/<key>@<due>`.
    private func timerActions(scheduledBy inputIDs: [String]) -> Set<String> {
        let scheduled = keptDecisions(about: inputIDs).filter { $0.outcome == .scheduled }
        var prefixes: [String] = []
        for decision in scheduled {
            guard let reason = decision.reason, reason.hasPrefix("timer "),
                let key = reason.dropFirst("timer ".count).split(separator: " ").first,
                let customer = customerOf(inputIDs)
            else { continue }
            prefixes.append("\(decision.ruleId)@\(customer)/\(key)@")
        }
        guard !prefixes.isEmpty else { return [] }
        return Set(files.files(of: "notifier").flatMap { file in
            files.read(file) { db -> [String] in
                guard try db.tableExists("liaison_ledger") else { return [] }
                return try prefixes.flatMap { prefix in
                    try String.fetchAll(db, sql: "SELECT input_id FROM liaison_ledger WHERE input_id LIKE ? ESCAPE '\\'", arguments: [escapedLike(prefix) + "%"])
                }
            } ?? []
        })
    }

    /// The customer of an input, from the rules ledger's own file (rules decisions are per customer).
    private func customerOf(_ inputIDs: [String]) -> String? {
        for file in files.files(of: "rules") {
            let customer = files.read(file) { db -> String? in
                guard try db.tableExists("rules_decisions") else { return nil }
                for id in inputIDs {
                    if let customer = try String.fetchOne(
                        db, sql: "SELECT customer_id FROM rules_decisions WHERE instr(CAST(decision AS TEXT), ?) > 0 LIMIT 1", arguments: [id])
                    {
                        return customer
                    }
                }
                return nil
            } ?? nil
            if let customer { return customer }
        }
        return nil
    }

    /// The notifier's delivery row for an action, while it has one (settled rows are pruned later).
    func deliveries(of actionID: String) -> [String] {
        files.files(of: "notifier").flatMap { file in
            files.read(file) { db -> [String] in
                guard try db.tableExists("notifier_deliveries") else { return [] }
                return try Row.fetchAll(
                    db, sql: "SELECT status, channel, attempts, idempotency_key, provider_message_id, due_at_ms FROM notifier_deliveries WHERE action_id = ?",
                    arguments: [actionID]
                ).map { row in
                    var parts = ["\(row["status"] as String)"]
                    if let channel: String = row["channel"] { parts.append("via \(channel)") }
                    parts.append("attempts \(row["attempts"] as Int)")
                    if let key: String = row["idempotency_key"] { parts.append("key \(key)") }
                    if let message: String = row["provider_message_id"] { parts.append("provider message \(message)") }
                    if let due: Int64 = row["due_at_ms"] { parts.append("due \(Timestamp(epochMilliseconds: due).text)") }
                    return parts.joined(separator: ", ")
                }
            } ?? []
        }
    }
}

private func compactJSON(_ object: JSONObject) -> String {
    (try? JSONEncoder().encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}

private func escapedLike(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
}

/// Reads single records back by position, for tools that point at one.
final class RecordFetcher {
    private let properties: KafkaProperties

    init(properties: KafkaProperties) {
        self.properties = properties
    }

    func fetch(_ position: RecordPosition, timeout: TimeInterval = 5) -> InputRecord? {
        guard let consumer = try? toolConsumer(properties) else { return nil }
        defer { consumer.close() }
        let partition = TopicPartition(topic: position.topic, partition: position.partition)
        guard (try? consumer.assign([partition: position.offset])) != nil else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let record = try? consumer.poll(timeoutMs: 100), record.position.offset >= position.offset {
                return record.position.offset == position.offset ? record : nil
            }
        }
        return nil
    }
}
