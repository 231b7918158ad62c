import ArgumentParser
import Foundation
import LiaisonSinks
import Logging
import NIOCore
import ServiceLifecycle

/// `liaison sinks`: the stand-in providers on their own, for the demo's containers and for
/// running the notifier by hand. What the notifier sends is recorded and counted, and the
/// counts are printed while it runs, so a duplicate (the customer getting a message twice) shows
/// as it happens.
struct Sinks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a stand-in SMTP relay and HTTP provider that take what the notifier sends and count it.",
        discussion: """
            The SMTP sink speaks plain SMTP (set the notifier's email security to plain) and accepts any AUTH \
            credentials. The HTTP sink answers every path with 200 and a message id: point SMS at /sms, push \
            at /push and webhooks at any other path (/webhook). A summary line is printed every 10 s; SIGTERM \
            or SIGINT stops both sinks.
            """)

    @Option(help: "The HTTP sink's port (SMS, push and webhooks).")
    var httpPort = 8080

    @Option(help: "The SMTP sink's port.")
    var smtpPort = 2525

    @Option(help: "The address both sinks listen on: 0.0.0.0 in a container.")
    var host = "127.0.0.1"

    func validate() throws {
        for (name, port) in [("--http-port", httpPort), ("--smtp-port", smtpPort)] where !(0...65535).contains(port) {
            throw ValidationError("\(name) must be between 0 and 65535, not \(port)")
        }
    }

    func run() async throws {
        let http = HTTPSink(configuration: HTTPSink.Configuration(port: httpPort, host: host))
        // Messages are not kept: nothing here reads them and a long run must not grow; counts are
        // kept either way. The HTTP sink keeps its requests, which the per-path counts come from.
        let smtp = SMTPSink(SMTPSink.Configuration(port: smtpPort, host: host, keepsMessages: false, acceptsAuth: true))
        do {
            try await http.start()
        } catch {
            // NIO's bind error names the system call; the cause is what the operator can act on.
            let cause = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
            throw CommandFailure("the HTTP sink cannot listen on \(host):\(httpPort): \(cause)")
        }
        do {
            try await smtp.start()
        } catch {
            await http.stop()
            throw error
        }

        // A wildcard address is no address to connect to; the machine's name is.
        let reachable = ["0.0.0.0", "::", "[::]"].contains(host) ? ProcessInfo.processInfo.hostName : host
        let base = "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(http.port)"
        announce("SMTP sink listening on \(host):\(smtp.port) (plain SMTP, any AUTH accepted)")
        announce("HTTP sink listening on \(host):\(http.port)")
        announce("  LIAISON_SMTP_HOST=\(reachable)  (port \(smtp.port), security plain)")
        announce("  LIAISON_SMS_URL=\(base)/sms")
        announce("  LIAISON_PUSH_URL=\(base)/push")
        announce("  LIAISON_WEBHOOK_URL=\(base)/webhook")
        announce("a summary every 10 s; stop with Ctrl-C")

        let group = ServiceGroup(
            services: [SinkSummary(http: http, smtp: smtp)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "liaison.sinks"))
        try await group.run()
        await smtp.stop()
        await http.stop()
        var tally = HTTPTally()
        announce(tally.summary(http: http, smtp: smtp) + " (final)")
    }
}

/// Prints the counts every 10 s until a shutdown signal.
private struct SinkSummary: Service {
    let http: HTTPSink
    let smtp: SMTPSink

    func run() async throws {
        // Cancelled at the signal, so the sleep never holds up shutdown.
        try? await cancelWhenGracefulShutdown { () async throws -> Void in
            var tally = HTTPTally()
            while true {
                try await Task.sleep(for: .seconds(10))
                announce(tally.summary(http: http, smtp: smtp))
            }
        }
    }
}

/// The HTTP sink's requests counted by kind, and its duplicates: successful answers to an
/// idempotency key that had been answered with success before, which a provider honouring keys
/// would drop but which mean the notifier sent the same message twice. Each look counts only the
/// requests that arrived since the last one.
private struct HTTPTally {
    private var counted = 0
    private var sms = 0
    private var push = 0
    private var webhook = 0
    private var duplicates = 0
    private var deliveredKeys: Set<String> = []

    mutating func summary(http: HTTPSink, smtp: SMTPSink) -> String {
        let requests = http.requests
        for request in requests.dropFirst(counted) {
            if request.path.hasPrefix("/sms") {
                sms += 1
            } else if request.path.hasPrefix("/push") {
                push += 1
            } else {
                webhook += 1
            }
            if let key = request.idempotencyKey, let status = request.status, (200..<300).contains(status),
                !deliveredKeys.insert(key).inserted
            {
                duplicates += 1
            }
        }
        counted = requests.count
        let emailDuplicates = smtp.duplicateCount
        return "\(Date().formatted(.iso8601)) messages \(smtp.messageCount) · sms \(sms) · push \(push) · webhook \(webhook) · "
            + "duplicates \(emailDuplicates + duplicates) (email \(emailDuplicates), http \(duplicates))"
    }
}

/// Straight to standard output, unbuffered, so lines reach a container's log as they are written.
private func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
