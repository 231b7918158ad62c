import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A stand-in provider on loopback: it records what the notifier sends and answers as scripted,
/// so tests, `liaison bench notifier` and the demo exercise the real HTTP path without a real
/// provider. Like a provider honouring idempotency keys, it answers a repeated key with the
/// message id it gave the first time and counts the message once.
public final class HTTPSink: Sendable {
    public struct Configuration: Sendable {
        /// 0 picks a free port; `port` tells which after `start()`.
        public var port: Int
        /// The address listened on: loopback for tests, `0.0.0.0` in a container.
        public var host: String
        /// The headers a request's idempotency key is read from, first present wins: providers'
        /// `Idempotency-Key` and Standard Webhooks' `webhook-id` by default.
        public var idempotencyHeaders: [String]
        /// Whether requests are kept for `requests`. A benchmark turns this off so memory stays
        /// flat; counts are kept either way.
        public var keepsRequests: Bool
        /// Requests with larger bodies are refused with 413.
        public var maximumBodySize: Int
        /// Judges each request's signature (with `WebhookSignature` in the tests); a request
        /// that fails is answered 401, counted in `badSignatures` and never a delivery.
        public var signatureCheck: (@Sendable (RecordedRequest) -> Bool)?
        /// Whether `GET /sinks/report` answers with `report()` (and is not recorded as a request),
        /// for `liaison audit --sinks`.
        public var servesReport: Bool
        /// The SMTP sink whose counts the report includes.
        public var reportedMail: SMTPSink?
        public var logger: Logger

        public init(
            port: Int = 0, host: String = "127.0.0.1", idempotencyHeaders: [String] = ["Idempotency-Key", "webhook-id"],
            keepsRequests: Bool = true, maximumBodySize: Int = 1 << 20, signatureCheck: (@Sendable (RecordedRequest) -> Bool)? = nil,
            servesReport: Bool = false, reportedMail: SMTPSink? = nil, logger: Logger = HTTPSink.quietLogger
        ) {
            self.port = port
            self.host = host
            self.idempotencyHeaders = idempotencyHeaders
            self.keepsRequests = keepsRequests
            self.maximumBodySize = maximumBodySize
            self.signatureCheck = signatureCheck
            self.servesReport = servesReport
            self.reportedMail = reportedMail
            self.logger = logger
        }
    }

    /// Critical messages only. The sink stops by cancelling its server, dropping held
    /// requests, which the server reports as an error each time; a failure to listen reaches
    /// the caller through `start()` instead.
    public static var quietLogger: Logger {
        var logger = Logger(label: "liaison.sink")
        logger.logLevel = .critical
        return logger
    }

    /// Why `start()` failed.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    private struct Scripts {
        var global: [SinkReply] = [.ok]
        var byPath: [String: [SinkReply]] = [:]
        /// Requests answered so far per script (`nil` key: the global one), to step through it.
        var positions: [String?: Int] = [:]

        mutating func nextReply(path: String) -> SinkReply {
            let key: String? = byPath[path] == nil ? nil : path
            let replies = key.flatMap { byPath[$0] } ?? global
            let position = positions[key, default: 0]
            positions[key] = position + 1
            return replies[min(position, replies.count - 1)]
        }
    }

    private struct Records {
        var requests: [RecordedRequest] = []
        var requestCount = 0
        var deliveries = 0
        var badSignatures = 0
        var messageIDs: [String: String] = [:]
        var arrivals: [String: Int] = [:]
        var paths: [String: SinkReport.HTTPPath] = [:]
        var nextMessageNumber = 1
    }

    private struct Lifecycle {
        var port = 0
        var server: Task<Void, Never>?
    }

    public let configuration: Configuration
    /// `idempotencyHeaders` lowercased, as `HTTPFields` keeps names for comparison.
    private let idempotencyNames: [String]
    private let scripts = Mutex(Scripts())
    private let records = Mutex(Records())
    private let lifecycle = Mutex(Lifecycle())

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        idempotencyNames = configuration.idempotencyHeaders.map { $0.lowercased() }
    }

    // MARK: Running

    /// Starts listening on `host` and returns once connections are accepted.
    public func start() async throws {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let failure = Mutex<(any Error)?>(nil)
        let application = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await self.respond(to: request) },
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: configuration.logger)
        let server = Task {
            do {
                try await application.run()
            } catch {
                failure.withLock { $0 = error }
            }
            portContinuation.finish()
        }
        for await port in ports {
            lifecycle.withLock {
                $0.port = port
                $0.server = server
            }
            return
        }
        throw failure.withLock { $0 } ?? StartError(description: "the sink stopped before it was listening")
    }

    /// Stops listening and drops requests still held (hanging or delayed ones); returns once
    /// the server is down. Records stay readable.
    public func stop() async {
        let server = lifecycle.withLock { lifecycle in
            defer { lifecycle.server = nil }
            return lifecycle.server
        }
        server?.cancel()
        await server?.value
    }

    /// The port listened on; 0 before `start()`.
    public var port: Int { lifecycle.withLock { $0.port } }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The URL of a path on the sink, e.g. `url("/sms")`.
    public func url(_ path: String) -> String {
        baseURL + (path.hasPrefix("/") ? path : "/" + path)
    }

    // MARK: Scripting

    /// Answers requests to `path` (every path without a script of its own when `nil`) with
    /// `replies` in turn, the last one from then on: `[.status(503), .status(503), .ok]`.
    /// Replaces the path's script and starts it from the beginning.
    public func script(_ replies: [SinkReply], path: String? = nil) {
        let replies = replies.isEmpty ? [SinkReply.ok] : replies
        scripts.withLock { scripts in
            if let path {
                scripts.byPath[path] = replies
            } else {
                scripts.global = replies
            }
            scripts.positions[path] = 0
        }
    }

    /// Answers every request to `path` (or everywhere) with `reply`.
    public func script(_ reply: SinkReply, path: String? = nil) {
        script([reply], path: path)
    }

    // MARK: What arrived

    /// Every request received, in order of arrival (empty when `keepsRequests` is off).
    public var requests: [RecordedRequest] { records.withLock { $0.requests } }

    public func requests(path: String) -> [RecordedRequest] {
        records.withLock { $0.requests.filter { $0.path == path } }
    }

    /// Requests received, answered or not.
    public var requestCount: Int { records.withLock { $0.requestCount } }

    /// Messages delivered: successful answers, a repeated idempotency key counted once. What
    /// the customer would have received.
    public var deliveries: Int { records.withLock { $0.deliveries } }

    /// Requests whose signature failed `signatureCheck`.
    public var badSignatures: Int { records.withLock { $0.badSignatures } }

    /// How many requests carried `key`, whatever they were answered.
    public func arrivals(ofKey key: String) -> Int {
        records.withLock { $0.arrivals[key, default: 0] }
    }

    /// The message id given for `key`, once a request carrying it was answered with success.
    public func messageID(forKey key: String) -> String? {
        records.withLock { $0.messageIDs[key] }
    }

    /// Per path: requests, keys, deliveries and duplicates; with the SMTP sink's counts when
    /// `reportedMail` is set. What `GET /sinks/report` answers.
    public func report() -> SinkReport {
        let paths = records.withLock { $0.paths.values.sorted { $0.path < $1.path } }
        return SinkReport(http: paths, mail: configuration.reportedMail?.report)
    }

    /// Forgets every request, count and message id; scripts stay.
    public func reset() {
        records.withLock { $0 = Records() }
    }

    // MARK: Answering

    private func respond(to request: Request) async throws -> Response {
        if configuration.servesReport, request.method == .get, request.uri.path == SinkReport.path {
            return try reportResponse()
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maximumBodySize)
        } catch {
            return Response(status: .contentTooLarge)
        }
        let headers = request.headers
        var recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.path,
            headers: headers.map { (name: $0.name.rawName, value: $0.value) }, body: Array(body.readableBytesView),
            receivedAt: Date(), idempotencyKey: idempotencyKey(in: headers))
        if let check = configuration.signatureCheck {
            recorded.signatureValid = check(recorded)
        }
        let scripted = scripts.withLock { $0.nextReply(path: recorded.path) }
        let reply = recorded.signatureValid == false ? SinkReply.status(401, body: #"{"error":"bad signature"}"#) : scripted
        let messageID = record(&recorded, reply: reply)

        if reply.hangs {
            while true { try await Task.sleep(for: .seconds(3_600)) }
        }
        if reply.delay > .zero {
            try await Task.sleep(for: reply.delay)
        }
        var answerHeaders: HTTPFields = [.contentType: "application/json"]
        if let retryAfter = reply.retryAfter {
            answerHeaders[.retryAfter] = retryAfter
        }
        let text = reply.body ?? messageID.map { #"{"id":"\#($0)"}"# } ?? #"{"error":"scripted \#(reply.status)"}"#
        let answer = ByteBuffer(string: text)
        guard reply.holdsBodyOpen else {
            return Response(status: .init(code: reply.status), headers: answerHeaders, body: .init(byteBuffer: answer))
        }
        return Response(
            status: .init(code: reply.status), headers: answerHeaders,
            body: ResponseBody { writer in
                try await writer.write(answer)
                while true { try await Task.sleep(for: .seconds(3_600)) }
            })
    }

    private func reportResponse() throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(report()))))
    }

    private func idempotencyKey(in headers: HTTPFields) -> String? {
        for name in idempotencyNames {
            if let field = headers.first(where: { $0.name.canonicalName == name }) { return field.value }
        }
        return nil
    }

    /// Counts the request and, for a successful answer, the delivery; returns the message id
    /// to answer with (the first one given, when the key repeats).
    private func record(_ request: inout RecordedRequest, reply: SinkReply) -> String? {
        request.status = reply.hangs ? nil : reply.status
        let succeeds = !reply.hangs && (200..<300).contains(reply.status)
        let keepsRequests = configuration.keepsRequests
        let path = request.path
        let key = request.idempotencyKey
        return records.withLock { records in
            records.requestCount += 1
            var tally = records.paths[path] ?? SinkReport.HTTPPath(path: path)
            defer { records.paths[path] = tally }
            tally.requests += 1
            if let key {
                records.arrivals[key, default: 0] += 1
                switch records.arrivals[key] {
                case 1: tally.keys += 1
                case 2: tally.keysReceivedMoreThanOnce += 1
                default: break
                }
            }
            if request.signatureValid == false { records.badSignatures += 1 }
            if keepsRequests { records.requests.append(request) }
            guard succeeds else { return nil }
            if let key, let known = records.messageIDs[key] {
                tally.duplicates += 1
                if !tally.duplicateKeys.contains(key) { tally.duplicateKeys.append(key) }
                return known
            }
            let messageID = "msg-\(records.nextMessageNumber)"
            records.nextMessageNumber += 1
            records.deliveries += 1
            tally.deliveries += 1
            if let key { records.messageIDs[key] = messageID }
            return messageID
        }
    }
}
