import Foundation
import LiaisonKafka
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import SchemaChecking
import Synchronization
import XCTest

/// The whole fleet as production runs it: ingest, enrich, rules and the notifier as their own
/// processes over the test broker, sharing one state directory as replicas share a volume, with
/// the notifier delivering to HTTP and SMTP sinks on loopback. Tests start, kill and scale the
/// stages, script the sinks, and run `liaison audit` over what happened.
final class TestFleet {
    static let stages = ["liaison-ingest", "liaison-enrich", "liaison-rules", "liaison-notifier"]

    let cluster: TestCluster
    let state = StateDirectory()
    let mail = SMTPSink()
    /// Stands in for the SMS, push and webhook providers, and serves the report `liaison audit` reads.
    let sink: HTTPSink
    private(set) var topics: [String: String] = [:]
    /// Running and ended processes, per stage executable, oldest first.
    private(set) var processes: [String: [StageProcess]] = [:]
    private var notifierFile = ""
    /// librdkafka properties every stage process gets.
    var stageProperties = TestCluster.groupProperties
    private var started = 0

    init(cluster: TestCluster) {
        self.cluster = cluster
        sink = HTTPSink(configuration: HTTPSink.Configuration(servesReport: true, reportedMail: mail))
        for name in ["upstream", "events", "enriched", "actions", "deliveries", "dlq", "alerts", "agent", "crm", "inbox"] {
            topics[name] = cluster.topic(name)
        }
    }

    /// Starts the sinks and writes the notifier's configuration. `retry` is its retry setting:
    /// how long a provider may fail before a delivery moves down its ladder.
    func start(retry: String = "{ initial: 200ms, max_delay: 1s, attempts_per_channel: 5 }") async throws {
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)
        try await mail.start()
        try await sink.start()
        notifierFile = try writeNotifierConfiguration(retry: retry)
    }

    /// Kills whatever still runs and stops the sinks; keeps the state directory when the test failed.
    func tearDown(succeeded: Bool) async {
        for process in processes.values.joined() where process.process.isRunning {
            process.kill(SIGKILL)
            process.waitForExit()
        }
        await sink.stop()
        await mail.stop()
        if succeeded { state.remove() }
    }

    /// The pipeline topics with `partitions` each (2 when not given; enrich needs its two
    /// inputs partitioned alike); the side topics get one partition.
    func topicSpecs(partitions: [String: Int32]) -> [TopicSpec] {
        ["upstream", "events", "deliveries", "enriched", "actions"].map { TopicSpec(name: topics[$0]!, partitions: partitions[$0] ?? 2) }
            + ["dlq", "alerts", "agent", "crm", "inbox"].map { TopicSpec(name: topics[$0]!, partitions: 1) }
    }

    func createTopics(partitions: [String: Int32]) throws {
        try cluster.createTopics(topicSpecs(partitions: partitions))
    }

    /// A structured-mode CloudEvent for the upstream topic, keyed by its customer.
    func upstreamEvent(_ id: String, _ type: EventType, customer: String, _ data: String) -> OutputRecord {
        let json = """
            {"specversion":"1.0","id":"\(id)","source":"e2e-fleet","type":"\(type.rawValue)","time":"\(Timestamp(Date()).text)",\
            "subject":"\(customer)","datacontenttype":"application/json","data":\(data)}
            """
        return OutputRecord(id: id, topic: topics["upstream"]!, key: Array(customer.utf8), value: Array(json.utf8))
    }

    private func writeNotifierConfiguration(retry: String) throws -> String {
        let file = state.url.appendingPathComponent("notifier.yaml")
        let secret = Data((0..<24).map { UInt8($0) }).base64EncodedString()
        try """
            templates: \(SchemaChecker.repositoryRoot.appendingPathComponent("schemas/templates").path)
            default_locale: en
            ladders: { service: [push, sms, email], crm-update: [webhook] }
            retry: \(retry)
            topics: { receipts: \(topics["deliveries"]!), alerts: \(topics["alerts"]!), agent_tasks: \(topics["agent"]!), crm: \(topics["crm"]!), inbox: \(topics["inbox"]!) }
            providers:
              email: { host: 127.0.0.1, port: \(mail.port), security: plain, from: engage@liaison.test }
              sms: { url: "\(sink.url("/sms"))", idempotency_header: Idempotency-Key, body: { to: address, text: text }, message_id_field: id, timeout: 10s }
              push: { url: "\(sink.url("/push"))", idempotency_header: Idempotency-Key, body: { token: address, title: subject, body: text }, message_id_field: id, timeout: 10s }
              webhooks:
                default: { url: "\(sink.url("/webhook"))", secret: "whsec_\(secret)", timeout: 10s }
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    private func arguments(of stage: String) -> [String] {
        var common = ["--brokers", cluster.brokers, "--dlq-topic", topics["dlq"]!, "--state-dir", state.url.path, "--admin-port", "off", "--log-format", "json"]
        for (key, value) in stageProperties.sorted(by: { $0.key < $1.key }) { common += ["--kafka", "\(key)=\(value)"] }
        let pack = SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml").path
        let own: [String] = switch stage {
        case "liaison-ingest": ["--input", topics["upstream"]!, "--output", topics["events"]!]
        case "liaison-enrich": ["--input", topics["events"]!, "--input", topics["deliveries"]!, "--deliveries", topics["deliveries"]!, "--output", topics["enriched"]!]
        case "liaison-rules": ["--input", topics["enriched"]!, "--output", topics["actions"]!, "--rules", pack]
        default: ["--input", topics["actions"]!, "--notifier-config", notifierFile]
        }
        return common + own + ["--group", group(of: stage)]
    }

    /// The consumer group of a stage's processes.
    func group(of stage: String) -> String {
        "\(stage)-\(cluster.runID)"
    }

    /// Starts one more process of the stage; each writes its own log file in the state directory.
    @discardableResult
    func start(_ stage: String) throws -> StageProcess {
        started += 1
        let process = try StageProcess(
            executable: stage, arguments: arguments(of: stage),
            logURL: state.url.appendingPathComponent("\(stage)-\(started).log"))
        processes[stage, default: []].append(process)
        return process
    }

    func startAll() throws {
        for stage in Self.stages { try start(stage) }
    }

    func running(_ stage: String) -> [StageProcess] {
        processes[stage, default: []].filter { $0.process.isRunning }
    }

    /// SIGTERM to every running process, then waits for each to end.
    func stopAll() {
        let running = processes.values.joined().filter { $0.process.isRunning }
        for process in running { process.kill(SIGTERM) }
        for process in running { XCTAssertTrue(process.waitForExit(), process.logTail) }
    }

    var logTails: String {
        processes.values.joined().map { "\($0.logURL.lastPathComponent):\n\($0.logTail)" }.joined(separator: "\n")
    }

    /// How far the records have got, from the stages' files.
    func progress() throws -> FleetProgress {
        FleetProgress(
            judged: try state.ledgerRows(stage: "ingest", topic: topics["upstream"]!),
            enriched: try state.ledgerRows(stage: "enrich", topic: topics["events"]!),
            decided: try state.ledgerRows(stage: "rules", topic: topics["enriched"]!),
            sent: try state.deliveryStatuses().values.filter { $0 == "sent" }.count)
    }

    /// Publishes `records` a second's worth at a time on a thread of its own, as an upstream
    /// keeps sending while the test does other things; the returned call waits for the end.
    func publishInBackground(
        _ records: [OutputRecord], perSecond: Int, producerProperties: [String: String] = [:]
    ) -> () throws -> Void {
        let published = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread { [cluster] in
            for start in stride(from: 0, to: records.count, by: perSecond) {
                do {
                    try cluster.produce(Array(records[start..<min(start + perSecond, records.count)]), properties: producerProperties)
                } catch {
                    failure.withLock { $0 = error }
                    break
                }
                Thread.sleep(forTimeInterval: 1)
            }
            published.signal()
        }
        return {
            published.wait()
            if let error = failure.withLock({ $0 }) { throw error }
        }
    }

    // MARK: The audit

    func audit(json: Bool = false) throws -> (status: Int32, output: String) {
        var arguments = [
            "audit", "--brokers", cluster.brokers, "--state-dir", state.url.path, "--upstream", topics["upstream"]!,
            "--actions-topic", topics["actions"]!, "--deliveries-topic", topics["deliveries"]!, "--sinks", sink.baseURL,
        ]
        if json { arguments.append("--json") }
        let log = state.url.appendingPathComponent("audit-\(UUID().uuidString).log")
        let process = try StageProcess(executable: "liaison", arguments: arguments, logURL: log)
        XCTAssertTrue(process.waitForExit(timeout: 300), "liaison audit did not finish")
        return (process.process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    /// Each check's counts by name, from `--json`.
    func auditCounts() throws -> (status: Int32, counts: [String: [String: Int]], output: String) {
        let (status, output) = try audit(json: true)
        let line = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") }, output)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
        var counts: [String: [String: Int]] = [:]
        for check in checks { counts[check["name"] as! String] = check["counts"] as? [String: Int] }
        return (status, counts, output)
    }
}

/// How far the records got: ledger rows of ingest (upstream records judged), enrich (events
/// enriched) and rules (enriched events decided), and the notifier's deliveries sent.
struct FleetProgress: Equatable, CustomStringConvertible {
    var judged: Int
    var enriched: Int
    var decided: Int
    var sent: Int

    var description: String { "judged \(judged), enriched \(enriched), decided \(decided), sent \(sent)" }
}
