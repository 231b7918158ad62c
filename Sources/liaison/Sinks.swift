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
            at /push and webhooks at any other path (/webhook). GET /sinks/report on the HTTP port answers with \
            both sinks' counts as JSON, duplicates named (what `liaison audit --sinks` reads). A summary line is \
            printed every 10 s; SIGTERM or SIGINT stops both sinks.
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
        // Messages are not kept: nothing here reads them and a long run must not grow; counts are
        // kept either way. The HTTP sink keeps its requests too, for the same reason.
        let smtp = SMTPSink(SMTPSink.Configuration(port: smtpPort, host: host, keepsMessages: false, acceptsAuth: true))
        let http = HTTPSink(
            configuration: HTTPSink.Configuration(port: httpPort, host: host, keepsRequests: false, servesReport: true, reportedMail: smtp))
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
        announce("both sinks' counts: GET \(base)\(SinkReport.path) (liaison audit --sinks \(base))")
        announce("a summary every 10 s; stop with Ctrl-C")

        let group = ServiceGroup(
            services: [SinkSummary(http: http)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "liaison.sinks"))
        try await group.run()
        await smtp.stop()
        await http.stop()
        announce(summary(http.report()) + " (final)")
    }
}

/// Prints the counts every 10 s until a shutdown signal.
private struct SinkSummary: Service {
    let http: HTTPSink

    func run() async throws {
        // Cancelled at the signal, so the sleep never holds up shutdown.
        try? await cancelWhenGracefulShutdown { () async throws -> Void in
            while true {
                try await Task.sleep(for: .seconds(10))
                announce(summary(http.report()))
            }
        }
    }
}

/// Requests by channel and the duplicates: messages a customer would have received twice.
private func summary(_ report: SinkReport) -> String {
    let requests = Dictionary(report.http.map { ($0.channel, $0.requests) }, uniquingKeysWith: +)
    let httpDuplicates = report.http.reduce(0) { $0 + $1.duplicates }
    let emailDuplicates = report.mail?.duplicates ?? 0
    return "\(Date().formatted(.iso8601)) messages \(report.mail?.taken ?? 0) · sms \(requests["sms", default: 0]) · "
        + "push \(requests["push", default: 0]) · webhook \(requests["webhook", default: 0]) · "
        + "duplicates \(emailDuplicates + httpDuplicates) (email \(emailDuplicates), http \(httpDuplicates))"
}

/// Straight to standard output, unbuffered, so lines reach a container's log as they are written.
private func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
