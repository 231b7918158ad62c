import Foundation
import GRDB
import LiaisonKafka
import LiaisonStage
import Logging
import XCTest

/// The separately running test broker (see scripts/broker), with helpers that create fresh
/// topics per test so tests never see each other's records.
struct TestCluster {
    let brokers: String
    let runID = String(UUID().uuidString.prefix(8)).lowercased()

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "LIAISON_TEST_BROKERS is not set, so there is no broker to test against. Run the suite with scripts/test, "
                + "or start one with: eval \"$(scripts/broker start)\""
        }
    }

    init() throws {
        guard let brokers = ProcessInfo.processInfo.environment["LIAISON_TEST_BROKERS"], !brokers.isEmpty else {
            throw NotConfigured()
        }
        self.brokers = brokers
    }

    /// Another broker, such as an embedded one the test runs itself.
    init(brokers: String) {
        self.brokers = brokers
    }

    /// Consumer settings that keep Tansu's group rebalances short.
    static let groupProperties = [
        "max.poll.interval.ms": "10000", "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
    ]

    var properties: KafkaProperties { KafkaProperties(["bootstrap.servers": brokers]) }

    func topic(_ name: String) -> String { "\(name)-\(runID)" }

    func createTopics(_ specs: [TopicSpec]) throws {
        try KafkaAdmin(properties: properties).createTopics(specs)
    }

    func produce(_ records: [OutputRecord], properties extra: [String: String] = [:]) throws {
        try KafkaProducer(properties: properties.merging(extra)).sendAndWait(records)
    }

    /// Reads everything a topic holds: from the start until nothing new arrived for `quiet`
    /// seconds after the first record (or the timeout passes). For topics whose writer is done.
    func readAll(_ topic: String, quiet: TimeInterval = 3, timeout: TimeInterval = 60) throws -> [InputRecord] {
        let consumer = try reader(of: topic)
        defer { consumer.close() }
        var records: [InputRecord] = []
        let deadline = Date().addingTimeInterval(timeout)
        var lastArrival: Date?
        while Date() < deadline, lastArrival.map({ Date().timeIntervalSince($0) < quiet }) ?? true {
            if let record = try consumer.poll(timeoutMs: 200) {
                records.append(record)
                lastArrival = Date()
            }
        }
        return records
    }

    /// A consumer in a group of its own, subscribed to the topic from its start.
    private func reader(of topic: String) throws -> KafkaConsumer {
        let consumer = try KafkaConsumer(
            properties: properties.merging(Self.groupProperties).merging(["group.id": "reader-\(UUID().uuidString)"]),
            listener: CommittedOffsetsListener(), logger: Logger(label: "test-reader"))
        try consumer.subscribe([topic])
        return consumer
    }

    /// Reads a topic from the start until `count` records arrived (or the timeout passes).
    func read(_ topic: String, count: Int, timeout: TimeInterval = 60) throws -> [InputRecord] {
        let consumer = try reader(of: topic)
        defer { consumer.close() }
        var records: [InputRecord] = []
        let deadline = Date().addingTimeInterval(timeout)
        while records.count < count, Date() < deadline {
            if let record = try consumer.poll(timeoutMs: 200) { records.append(record) }
        }
        return records
    }
}

/// A stage executable run as its own process, as in production, so it can be SIGKILLed.
final class StageProcess {
    let process = Process()
    let logURL: URL

    init(executable: String, arguments: [String], logURL: URL, environment: [String: String] = [:]) throws {
        self.logURL = logURL
        process.executableURL = try Self.binaryDirectory().appendingPathComponent(executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        if !FileManager.default.fileExists(atPath: logURL.path) { FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Where the package's executables were built: next to the test bundle.
    static func binaryDirectory() throws -> URL {
        if let dir = ProcessInfo.processInfo.environment["LIAISON_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "Contents" || dir.lastPathComponent == "MacOS" {
            dir.deleteLastPathComponent()
        }
        guard FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("liaison-counter").path) else {
            throw ExecutableMissing(directory: dir.path)
        }
        return dir
    }

    struct ExecutableMissing: Error, CustomStringConvertible {
        let directory: String
        var description: String { "liaison-counter is not built in \(directory): run `swift build --build-tests` first (scripts/test does)" }
    }

    func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end; false if it did not within the timeout.
    @discardableResult
    func waitForExit(timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }

    var logTail: String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(40).joined(separator: "\n")
    }
}

/// Reads a stage's partition files directly, as an operator with sqlite3 would.
struct StateDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-e2e-\(UUID().uuidString)")
    }

    func files(stage: String) -> [URL] {
        let dir = url.appendingPathComponent(stage)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".sqlite") }.sorted().map { dir.appendingPathComponent($0) }
    }

    private func query<T>(_ file: URL, _ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: file.path, configuration: configuration).read(body)
    }

    /// Per-key counts summed over every partition file of the stage.
    func counts(stage: String) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for file in files(stage: stage) {
            let rows = try query(file) { db -> [Row] in
                guard try db.tableExists("counter_counts") else { return [] }
                return try Row.fetchAll(db, sql: "SELECT key, count FROM counter_counts")
            }
            for row in rows { counts[row["key"], default: 0] += row["count"] as Int64 }
        }
        return counts
    }

    /// Every ledger row's input id over all partition files, repeats included.
    func ledgerIDs(stage: String) throws -> [String] {
        try files(stage: stage).flatMap { file in
            try query(file) { db in
                try db.tableExists("liaison_ledger") ? try String.fetchAll(db, sql: "SELECT input_id FROM liaison_ledger") : []
            }
        }
    }

    /// Ledger rows per verdict over all partition files of the stage.
    func verdicts(stage: String) throws -> [String: Int] {
        var verdicts: [String: Int] = [:]
        for file in files(stage: stage) {
            let rows = try query(file) { db in try Row.fetchAll(db, sql: "SELECT verdict, COUNT(*) AS n FROM liaison_ledger GROUP BY verdict") }
            for row in rows { verdicts[row["verdict"], default: 0] += row["n"] as Int }
        }
        return verdicts
    }

    /// Ledger rows for records of `topic`, over every partition file of the stage. A file a
    /// stage is still setting up (its ledger not yet migrated to name topics) has none.
    func ledgerRows(stage: String, topic: String) throws -> Int {
        try files(stage: stage).reduce(0) { total, file in
            total + (try query(file) { db in
                guard try db.tableExists("liaison_ledger"), try db.columns(in: "liaison_ledger").contains(where: { $0.name == "topic" }) else {
                    return 0
                }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM liaison_ledger WHERE topic = ?", arguments: [topic]) ?? 0
            })
        }
    }

    /// Every delivery row's status, by action id, over the notifier's partition files.
    func deliveryStatuses() throws -> [String: String] {
        var statuses: [String: String] = [:]
        for file in files(stage: "notifier") {
            let rows = try query(file) { db in
                try db.tableExists("notifier_deliveries") ? try Row.fetchAll(db, sql: "SELECT action_id, status FROM notifier_deliveries") : []
            }
            for row in rows { statuses[row["action_id"]] = row["status"] as String }
        }
        return statuses
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Polls until the condition holds; false if it never did within the timeout.
func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.25)
    }
    return try condition()
}

/// Upstream-style test records: keyed by customer, each with its own id header.
func upstreamRecords(topic: String, count: Int, customers: Int, idPrefix: String = "r") -> [OutputRecord] {
    (0..<count).map { index in
        OutputRecord(
            id: "\(idPrefix)-\(index)", topic: topic, key: Array("cust-\(index % customers)".utf8),
            value: Array(#"{"seq":\#(index),"note":"a small upstream record for the counting stage"}"#.utf8))
    }
}

func expectedCounts(count: Int, customers: Int) -> [String: Int64] {
    var counts: [String: Int64] = [:]
    for index in 0..<count { counts["cust-\(index % customers)", default: 0] += 1 }
    return counts
}
