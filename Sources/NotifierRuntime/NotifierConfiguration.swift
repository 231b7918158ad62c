import Foundation
import LiaisonRuntime
import LiaisonSchema
import LiaisonStage
import Notifier
import NotifierChannels
import Yams

/// The notifier's configuration file (YAML, `deploy/notifier.yaml` is the documented example):
/// the delivery policy, the templates, and every provider's endpoint and credentials. Secrets
/// are never written in the file: a value `${NAME}` is read from the environment variable NAME,
/// and a missing variable stops the notifier with its name.
public struct NotifierConfiguration: Sendable {
    public var policy: DeliveryPolicy
    public var topics: NotifierTopics
    public var templatesDirectory: URL
    public var defaultLocale: String
    public var maxInFlight: Int
    public var breaker: CircuitBreakerSettings
    public var email: SMTPSettings?
    public var sms: HTTPProviderSettings?
    public var push: HTTPProviderSettings?
    public var webhooks: [WebhookSettings]

    /// Reads and checks the file; every problem found is reported at once, with the key to fix.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(NotifierConfigurationError) {
        let url = URL(fileURLWithPath: path)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw NotifierConfigurationError(file: path, problems: ["cannot be read: \(error.localizedDescription)"])
        }
        try self.init(yaml: text, origin: path, baseDirectory: url.deletingLastPathComponent(), environment: environment)
    }

    public init(yaml: String, origin: String, baseDirectory: URL, environment: [String: String]) throws(NotifierConfigurationError) {
        let raw: RawConfiguration
        do {
            raw = try YAMLDecoder().decode(RawConfiguration.self, from: yaml)
        } catch {
            throw NotifierConfigurationError(file: origin, problems: ["is not a notifier configuration: \(describe(error))"])
        }
        var problems: [String] = []
        let reader = ValueReader(environment: environment)

        // Ladders in the file replace the standard ones whole: a class it leaves out reaches no one.
        var ladders = raw.ladders == nil ? DeliveryPolicy.standardLadders : [:]
        for (name, channels) in raw.ladders ?? [:] {
            guard let channelClass = ChannelClass(rawValue: name) else {
                problems.append("ladders.\(name): unknown channel class; use service, marketing, agent-task or crm-update")
                continue
            }
            var ladder: [Channel] = []
            for channelName in channels {
                guard let channel = Channel(rawValue: channelName) else {
                    problems.append("ladders.\(name): unknown channel '\(channelName)'; use \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                ladder.append(channel)
            }
            ladders[channelClass] = ladder
        }
        var caps: [ChannelClass: FrequencyLimit] = [:]
        for (name, cap) in raw.frequencyCaps ?? [:] {
            guard let channelClass = ChannelClass(rawValue: name) else {
                problems.append("frequency_caps.\(name): unknown channel class")
                continue
            }
            guard cap.count > 0, let window = parseDuration(cap.per) else {
                problems.append("frequency_caps.\(name): needs count > 0 and per as a duration like 7d, got \(cap.count) per '\(cap.per)'")
                continue
            }
            caps[channelClass] = FrequencyLimit(count: cap.count, windowSeconds: window.components.seconds)
        }
        var quietHours: DailyWindow?
        if let window = raw.quietHours {
            quietHours = DailyWindow(start: window.start, end: window.end)
            if quietHours == nil { problems.append("quiet_hours: start and end must be different HH:MM times, got \(window.start)–\(window.end)") }
        }
        let zoneName = raw.timeZone ?? "UTC"
        let zone = TimeZone(identifier: zoneName)
        if zone == nil { problems.append("time_zone: '\(zoneName)' is not an IANA time zone") }
        var validity = DeliveryPolicy.standardValidity
        for (name, text) in raw.validity ?? [:] {
            guard let priority = ActionPriority(rawValue: name) else {
                problems.append("validity.\(name): unknown priority; use low, normal, high or urgent")
                continue
            }
            guard let duration = parseDuration(text) else {
                problems.append("validity.\(name): '\(text)' is not a duration like 6h")
                continue
            }
            validity[priority] = duration.timeInterval
        }
        var retry = RetryPolicy()
        if let raw = raw.retry {
            retry.initialDelay = reader.duration(raw.initial, "retry.initial", default: retry.initialDelay, &problems)
            retry.maxDelay = reader.duration(raw.maxDelay, "retry.max_delay", default: retry.maxDelay, &problems)
            retry.multiplier = raw.multiplier ?? retry.multiplier
            retry.maxAttemptsPerChannel = raw.attemptsPerChannel ?? retry.maxAttemptsPerChannel
            retry.jitter = raw.jitter ?? retry.jitter
            if retry.multiplier < 1 { problems.append("retry.multiplier must be at least 1") }
            if retry.maxAttemptsPerChannel < 1 { problems.append("retry.attempts_per_channel must be at least 1") }
            if !(0...1).contains(retry.jitter) { problems.append("retry.jitter must be between 0 and 1") }
        }
        policy = DeliveryPolicy(
            ladders: ladders, frequencyCaps: caps, defaultQuietHours: quietHours, defaultTimeZone: zone ?? TimeZone(identifier: "UTC")!,
            defaultValidity: validity, retry: retry, maxSMSSegments: raw.sms?.maxSegments ?? 1,
            webhookEndpoint: raw.webhookEndpoint ?? raw.providers?.webhooks?.keys.sorted().first ?? "default")
        if policy.maxSMSSegments < 1 { problems.append("sms.max_segments must be at least 1") }

        var topics = NotifierTopics()
        if let raw = raw.topics {
            topics.receipts = raw.receipts ?? topics.receipts
            topics.alerts = raw.alerts ?? topics.alerts
            topics.agentTasks = raw.agentTasks ?? topics.agentTasks
            topics.crm = raw.crm ?? topics.crm
            topics.inbox = raw.inbox ?? topics.inbox
        }
        self.topics = topics
        templatesDirectory = URL(fileURLWithPath: raw.templates ?? "templates", relativeTo: baseDirectory).standardizedFileURL
        defaultLocale = raw.defaultLocale ?? "en"
        maxInFlight = raw.maxInFlight ?? 200
        if maxInFlight < 1 { problems.append("max_in_flight must be at least 1") }
        let standardBreaker = CircuitBreakerSettings()
        var coolDown = standardBreaker.coolDown
        var maxCoolDown = standardBreaker.maximumCoolDown
        if let text = raw.circuitBreaker?.coolDown {
            if let duration = parseDuration(text) { coolDown = duration } else { problems.append("circuit_breaker.cool_down: '\(text)' is not a duration") }
        }
        if let text = raw.circuitBreaker?.maxCoolDown {
            if let duration = parseDuration(text) { maxCoolDown = duration } else { problems.append("circuit_breaker.max_cool_down: '\(text)' is not a duration") }
        }
        let failures = raw.circuitBreaker?.failures ?? standardBreaker.failureThreshold
        if failures < 1 { problems.append("circuit_breaker.failures must be at least 1") }
        let breaker = CircuitBreakerSettings(failureThreshold: failures, coolDown: coolDown, maximumCoolDown: maxCoolDown)
        self.breaker = breaker

        let providers = raw.providers
        email = providers?.email.map { reader.smtp($0, &problems) }
        sms = providers?.sms.map { reader.http($0, name: "sms", &problems) }
        push = providers?.push.map { reader.http($0, name: "push", &problems) }
        webhooks = (providers?.webhooks ?? [:]).sorted { $0.key < $1.key }.map { name, raw in
            WebhookSettings(
                name: name, url: reader.text(raw.url, "providers.webhooks.\(name).url", &problems),
                secret: reader.text(raw.secret, "providers.webhooks.\(name).secret", &problems),
                timeout: .seconds(reader.duration(raw.timeout, "providers.webhooks.\(name).timeout", default: 10, &problems)))
        }
        for settings in [sms, push].compactMap({ $0 }) {
            do { try settings.validate() } catch { problems.append("providers.\(error)") }
        }
        for settings in webhooks {
            do { try settings.validate() } catch { problems.append("providers.webhooks.\(error)") }
        }
        let configured = Set([email.map { _ in Channel.email }, sms.map { _ in .sms }, push.map { _ in .push }, webhooks.isEmpty ? nil : .webhook].compactMap { $0 })
        for (channelClass, ladder) in ladders {
            for channel in ladder where !channel.isTopic && !configured.contains(channel) {
                problems.append("ladders.\(channelClass.rawValue) uses \(channel.rawValue), but providers.\(channel == .webhook ? "webhooks" : channel.rawValue) is not configured")
            }
        }
        guard problems.isEmpty else { throw NotifierConfigurationError(file: origin, problems: problems) }
    }
}

/// Every problem of a configuration file, so one edit can fix them all.
public struct NotifierConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [String]

    public var description: String {
        problems.count == 1 ? "\(file) \(problems[0])" : "\(file) has \(problems.count) problems:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

private func describe(_ error: any Error) -> String {
    if case let DecodingError.keyNotFound(key, context) = error {
        return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
    }
    if case let DecodingError.typeMismatch(_, context) = error {
        return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
    }
    return "\(error)"
}

/// Reads values that may name environment variables, collecting what is wrong.
private struct ValueReader {
    let environment: [String: String]

    /// The text with every `${NAME}` replaced by the variable's value.
    func text(_ raw: String?, _ key: String, _ problems: inout [String]) -> String {
        guard let raw else {
            problems.append("\(key) is required")
            return ""
        }
        var result = ""
        var rest = Substring(raw)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                problems.append("\(key): unterminated ${ in '\(raw)'")
                return result
            }
            let name = String(rest[start.upperBound..<end])
            if let value = environment[name] {
                result += value
            } else {
                problems.append("\(key) needs the environment variable \(name), which is not set")
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    func optionalText(_ raw: String?, _ key: String, _ problems: inout [String]) -> String? {
        raw.map { text($0, key, &problems) }
    }

    func duration(_ raw: String?, _ key: String, default value: TimeInterval, _ problems: inout [String]) -> TimeInterval {
        guard let raw else { return value }
        guard let duration = parseDuration(raw) else {
            problems.append("\(key): '\(raw)' is not a duration like 500ms, 10s or 5m")
            return value
        }
        return duration.timeInterval
    }

    func smtp(_ raw: RawConfiguration.SMTP, _ problems: inout [String]) -> SMTPSettings {
        let security: SMTPSecurity
        switch raw.security ?? "starttls-if-offered" {
        case "starttls-if-offered": security = .startTLSIfOffered
        case "starttls-required": security = .startTLSRequired
        case "plain": security = .plain
        case let other:
            problems.append("providers.email.security: '\(other)' is not one of starttls-if-offered, starttls-required, plain")
            security = .startTLSIfOffered
        }
        return SMTPSettings(
            host: text(raw.host, "providers.email.host", &problems), port: raw.port ?? 587, security: security,
            username: optionalText(raw.username, "providers.email.username", &problems),
            password: optionalText(raw.password, "providers.email.password", &problems),
            fromAddress: text(raw.from, "providers.email.from", &problems), fromName: raw.fromName,
            heloName: raw.heloName ?? "localhost", trustRootsPEMPath: raw.trustRoots,
            connectTimeout: .seconds(duration(raw.connectTimeout, "providers.email.connect_timeout", default: 10, &problems)),
            commandTimeout: .seconds(duration(raw.commandTimeout, "providers.email.command_timeout", default: 60, &problems)))
    }

    func http(_ raw: RawConfiguration.HTTPProvider, name: String, _ problems: inout [String]) -> HTTPProviderSettings {
        var headers: [String: String] = [:]
        for (header, value) in raw.headers ?? [:] { headers[header] = text(value, "providers.\(name).headers.\(header)", &problems) }
        return HTTPProviderSettings(
            name: raw.name ?? name, url: text(raw.url, "providers.\(name).url", &problems), method: raw.method ?? "POST", headers: headers,
            idempotencyHeader: raw.idempotencyHeader ?? "Idempotency-Key", body: raw.body ?? ["to": "address", "text": "text"],
            messageIDField: raw.messageIdField,
            timeout: .seconds(duration(raw.timeout, "providers.\(name).timeout", default: 10, &problems)))
    }
}

/// The file as written; checked and turned into settings by `NotifierConfiguration`.
private struct RawConfiguration: Decodable {
    var templates: String?
    var defaultLocale: String?
    var ladders: [String: [String]]?
    var frequencyCaps: [String: Cap]?
    var quietHours: Window?
    var timeZone: String?
    var validity: [String: String]?
    var retry: Retry?
    var sms: SMSLimits?
    var maxInFlight: Int?
    var circuitBreaker: Breaker?
    var webhookEndpoint: String?
    var topics: Topics?
    var providers: Providers?

    enum CodingKeys: String, CodingKey {
        case templates, ladders, validity, retry, sms, topics, providers
        case defaultLocale = "default_locale", frequencyCaps = "frequency_caps", quietHours = "quiet_hours", timeZone = "time_zone"
        case maxInFlight = "max_in_flight", circuitBreaker = "circuit_breaker", webhookEndpoint = "webhook_endpoint"
    }

    struct Cap: Decodable {
        var count: Int
        var per: String
    }

    struct Window: Decodable {
        var start: String
        var end: String
    }

    struct Retry: Decodable {
        var initial: String?
        var multiplier: Double?
        var maxDelay: String?
        var attemptsPerChannel: Int?
        var jitter: Double?

        enum CodingKeys: String, CodingKey {
            case initial, multiplier, jitter
            case maxDelay = "max_delay", attemptsPerChannel = "attempts_per_channel"
        }
    }

    struct SMSLimits: Decodable {
        var maxSegments: Int?

        enum CodingKeys: String, CodingKey {
            case maxSegments = "max_segments"
        }
    }

    struct Breaker: Decodable {
        var failures: Int?
        var coolDown: String?
        var maxCoolDown: String?

        enum CodingKeys: String, CodingKey {
            case failures
            case coolDown = "cool_down", maxCoolDown = "max_cool_down"
        }
    }

    struct Topics: Decodable {
        var receipts: String?
        var alerts: String?
        var agentTasks: String?
        var crm: String?
        var inbox: String?

        enum CodingKeys: String, CodingKey {
            case receipts, alerts, crm, inbox
            case agentTasks = "agent_tasks"
        }
    }

    struct Providers: Decodable {
        var email: SMTP?
        var sms: HTTPProvider?
        var push: HTTPProvider?
        var webhooks: [String: Webhook]?
    }

    struct SMTP: Decodable {
        var host: String?
        var port: Int?
        var security: String?
        var username: String?
        var password: String?
        var from: String?
        var fromName: String?
        var heloName: String?
        var trustRoots: String?
        var connectTimeout: String?
        var commandTimeout: String?

        enum CodingKeys: String, CodingKey {
            case host, port, security, username, password, from
            case fromName = "from_name", heloName = "helo_name", trustRoots = "trust_roots"
            case connectTimeout = "connect_timeout", commandTimeout = "command_timeout"
        }
    }

    struct HTTPProvider: Decodable {
        var name: String?
        var url: String?
        var method: String?
        var headers: [String: String]?
        var idempotencyHeader: String?
        var body: [String: String]?
        var messageIdField: String?
        var timeout: String?

        enum CodingKeys: String, CodingKey {
            case name, url, method, headers, body, timeout
            case idempotencyHeader = "idempotency_header", messageIdField = "message_id_field"
        }
    }

    struct Webhook: Decodable {
        var url: String?
        var secret: String?
        var timeout: String?
    }
}
