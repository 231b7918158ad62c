import ArgumentParser
import Foundation
import LiaisonSchema
import LiaisonStore
import Yams

/// The options every stage executable shares. Each can also come from the environment
/// (`LIAISON_<OPTION>`, e.g. `LIAISON_BATCH_MAX_RECORDS`) or from a YAML file given with
/// `--config`; a flag beats the environment, which beats the file.
public struct RuntimeOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port] (env LIAISON_BROKERS).")
    public var brokers: String?

    @Option(name: .customLong("kafka"), help: ArgumentHelp(
        "A librdkafka property as key=value, repeatable, e.g. security.protocol=SSL (env LIAISON_KAFKA_<KEY>, dots as underscores).",
        valueName: "key=value"))
    public var kafka: [String] = []

    @Option(help: "A YAML file with any of these options as keys (kebab-case) and a `kafka:` map.")
    public var config: String?

    @Option(help: "Directory of the per-partition SQLite files (env LIAISON_STATE_DIR; default ./state).")
    public var stateDir: String?

    @Option(help: "Consumer group id (default liaison-<stage>).")
    public var group: String?

    @Option(name: .customLong("input"), help: "Input topic, repeatable (default: the stage's own).")
    public var inputs: [String] = []

    @Option(help: "Dead-letter topic (default liaison.dlq.v1).")
    public var dlqTopic: String?

    @Option(help: "Most records in one batch (default 2000).")
    public var batchMaxRecords: String?

    @Option(help: "Longest time spent filling one batch, in milliseconds (default 100).")
    public var batchMaxWaitMs: String?

    @Option(help: "Readiness bound: /readyz answers 200 once every partition is at most this many records behind (default 1000).")
    public var readyMaxLag: String?

    @Option(help: "How long ledger rows are kept, e.g. 7d, 12h, 90m, or 'off' to keep them forever; a record redelivered later is processed again (default 7d).")
    public var ledgerRetention: String?

    @Option(help: "Port of /healthz, /readyz and /metrics; 0 picks a free one, 'off' disables (default 9400).")
    public var adminPort: String?

    @Option(help: "Address the admin endpoint listens on (default 0.0.0.0).")
    public var adminHost: String?

    @Option(help: "Log format: json (for containers) or text (default text).")
    public var logFormat: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    public var logLevel: String?

    @Option(help: "Most timers fired per second by this process, so a backlog found after downtime is released steadily (default 1000).")
    public var timerReleaseRate: String?

    @Option(help: ArgumentHelp(
        "A simulated clock shared through this file, for demos and tests (never production): {\"startMs\", \"runningSinceMs\", \"rate\"}.",
        valueName: "file"))
    public var clockFile: String?

    @Flag(help: "Log record payloads. They hold personal data: use on test data only.")
    public var debugPayloads = false

    public init() {}

    /// Resolves flags, environment and file into validated settings, or explains what is wrong.
    public func resolve(
        stage: String, defaultInputs: [String], durability: Durability = .normal,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> RuntimeSettings {
        let file = try ConfigurationFile(path: config ?? environment["LIAISON_CONFIG"])
        let sources = ConfigurationSources(flags: flagValues, environment: environment, file: file)

        guard let brokers = sources.value("brokers") else {
            throw ConfigurationError(
                "no Kafka brokers configured: pass --brokers HOST:PORT or set LIAISON_BROKERS "
                    + "(for a local try, `liaison dev` starts an embedded broker and prints its address)")
        }
        let kafkaProperties = try mergedKafkaProperties(file: file.kafka, environment: environment, flags: kafka)
        let inputs = !self.inputs.isEmpty ? self.inputs : (file.list("input") ?? defaultInputs)
        guard !inputs.isEmpty else { throw ConfigurationError("no input topic: pass --input TOPIC") }

        let adminPort: Int?
        switch sources.value("admin-port") {
        case nil: adminPort = 9400
        case ("off", _)?: adminPort = nil
        case let (text, origin)?:
            guard let port = Int(text), (0...65535).contains(port) else {
                throw ConfigurationError("admin-port must be a port number or 'off', got '\(text)' (from \(origin))")
            }
            adminPort = port
        }
        let ledgerRetention = try sources.parsed("ledger-retention", default: Duration?.some(.seconds(7 * 86_400))) { text in
            text == "off" ? .some(nil) : parseDuration(text).map { .some($0) }
        }
        let logFormat = try sources.parsed("log-format", default: LogFormat.text) { LogFormat(rawValue: $0) }
        let logLevel = try sources.parsed("log-level", default: "info") {
            ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains($0) ? $0 : nil
        }
        var clock: @Sendable () -> Date = { Date() }
        if let path = sources.value("clock-file")?.text {
            let simulated = try SimulatedClock(file: URL(fileURLWithPath: path))
            clock = { simulated.now() }
        }
        return RuntimeSettings(
            brokers: brokers.text,
            kafka: kafkaProperties,
            stateDirectory: URL(fileURLWithPath: sources.value("state-dir")?.text ?? "state", isDirectory: true),
            groupID: sources.value("group")?.text ?? "liaison-\(stage)",
            inputTopics: inputs,
            deadLetterTopic: sources.value("dlq-topic")?.text ?? DeadLetterV1.topic,
            batchMaxRecords: try sources.positiveInteger("batch-max-records", default: 2000),
            batchMaxWait: .milliseconds(try sources.positiveInteger("batch-max-wait-ms", default: 100)),
            durability: durability,
            readyMaxLag: Int64(try sources.positiveInteger("ready-max-lag", default: 1000)),
            ledgerRetention: ledgerRetention,
            adminPort: adminPort,
            adminHost: sources.value("admin-host")?.text ?? "0.0.0.0",
            logFormat: logFormat,
            logLevel: logLevel,
            debugPayloads: debugPayloads || sources.value("debug-payloads")?.text == "true",
            timerReleaseRate: try sources.positiveInteger("timer-release-rate", default: 1000),
            clock: clock)
    }

    private var flagValues: [String: String] {
        var values: [String: String] = [:]
        values["brokers"] = brokers
        values["state-dir"] = stateDir
        values["group"] = group
        values["dlq-topic"] = dlqTopic
        values["batch-max-records"] = batchMaxRecords
        values["batch-max-wait-ms"] = batchMaxWaitMs
        values["ready-max-lag"] = readyMaxLag
        values["ledger-retention"] = ledgerRetention
        values["admin-port"] = adminPort
        values["admin-host"] = adminHost
        values["log-format"] = logFormat
        values["log-level"] = logLevel
        values["timer-release-rate"] = timerReleaseRate
        values["clock-file"] = clockFile
        return values
    }
}

/// A duration written as a whole number with a unit: `500ms`, `30s`, `90m`, `12h`, `7d`.
public func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (unit, milliseconds) in units where text.hasSuffix(unit) {
        guard let count = Int64(text.dropLast(unit.count)), count > 0 else { continue }
        let (total, overflow) = count.multipliedReportingOverflow(by: milliseconds)
        return overflow ? nil : .milliseconds(total)
    }
    return nil
}

/// librdkafka properties from a file's `kafka:` map, then `LIAISON_KAFKA_<KEY>` variables (dots
/// written as underscores), then `--kafka key=value` flags; a later source wins.
public func mergedKafkaProperties(
    file: [String: String] = [:], environment: [String: String], flags: [String]
) throws(ConfigurationError) -> [String: String] {
    var properties = file
    for (name, value) in environment where name.hasPrefix("LIAISON_KAFKA_") {
        let key = name.dropFirst("LIAISON_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
        properties[key] = value
    }
    for pair in flags {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw ConfigurationError("--kafka expects key=value, got '\(pair)'")
        }
        properties[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return properties
}

/// A configuration value that cannot be used, with what to do about it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Looks an option up in flags, then environment, then file, remembering where it came from.
struct ConfigurationSources {
    var flags: [String: String]
    var environment: [String: String]
    var file: ConfigurationFile

    func value(_ key: String) -> (text: String, origin: String)? {
        if let flag = flags[key] { return (flag, "--\(key)") }
        let variable = "LIAISON_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
        if let env = environment[variable] { return (env, variable) }
        if let text = file.scalar(key) { return (text, "\(key) in \(file.path ?? "the config file")") }
        return nil
    }

    func positiveInteger(_ key: String, default fallback: Int) throws(ConfigurationError) -> Int {
        try parsed(key, default: fallback) { Int($0).flatMap { $0 > 0 ? $0 : nil } }
    }

    func parsed<T>(_ key: String, default fallback: T, _ parse: (String) -> T?) throws(ConfigurationError) -> T {
        guard let (text, origin) = value(key) else { return fallback }
        guard let value = parse(text) else {
            throw ConfigurationError("\(key) has an invalid value '\(text)' (from \(origin)); see --help for what it accepts")
        }
        return value
    }
}

/// The optional YAML configuration file.
struct ConfigurationFile {
    let path: String?
    private let root: [String: Any]

    init(path: String?) throws(ConfigurationError) {
        self.path = path
        guard let path else {
            root = [:]
            return
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        do {
            guard let parsed = try Yams.load(yaml: text) else {
                root = [:]
                return
            }
            guard let map = parsed as? [String: Any] else {
                throw ConfigurationError("the configuration file \(path) must be a YAML map of option names to values")
            }
            root = map
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("the configuration file \(path) is not valid YAML: \(error)")
        }
    }

    func scalar(_ key: String) -> String? {
        root[key].map { "\($0)" }
    }

    func list(_ key: String) -> [String]? {
        (root[key] as? [Any])?.map { "\($0)" }
    }

    var kafka: [String: String] {
        (root["kafka"] as? [String: Any])?.mapValues { "\($0)" } ?? [:]
    }
}
