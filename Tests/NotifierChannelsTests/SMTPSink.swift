import Foundation
import XCTest

/// Servers/smtp_sink.py (aiosmtpd) as a subprocess on a loopback port, for one test.
final class SMTPSink {
    struct Options {
        /// Which server answers; everything but `smtp` is a fixed script (see smtp_sink.py).
        enum Mode: String {
            /// aiosmtpd, with the options below.
            case smtp
            /// Accepts connections and never answers, not even with a greeting.
            case silent
            /// Refuses EHLO, takes mail after HELO.
            case helo
            /// Follows its 220 to STARTTLS with a second, clear-text reply.
            case inject
        }

        var mode = Mode.smtp
        var offersSTARTTLS = true
        var requiresAuth = false
        var offersPlain = true
    }

    /// What the sink wrote for one accepted message; the parsed fields are Python's `email`
    /// package's reading of the raw data.
    struct Mail: Decodable {
        struct Part: Decodable {
            var contentType: String
            var charset: String?
            var transferEncoding: String?
            var content: String

            enum CodingKeys: String, CodingKey {
                case contentType = "content_type", charset, transferEncoding = "transfer_encoding", content
            }
        }

        var mailFrom: String
        var rcptTos: [String]
        var tls: Bool
        var authenticated: Bool
        var queueID: String
        var raw: String
        var headers: [[String]]
        var contentType: String
        var parts: [Part]
        var defects: [String]

        enum CodingKeys: String, CodingKey {
            case mailFrom = "mail_from", rcptTos = "rcpt_tos", tls, authenticated, queueID = "queue_id", raw, headers
            case contentType = "content_type", parts, defects
        }

        /// The decoded value of the first header of that name.
        func header(_ name: String) -> String? {
            headers.first { $0.first?.lowercased() == name.lowercased() }?.last
        }
    }

    static let username = "liaison"
    static let password = "s3cret-pässword"

    let port: Int
    let directory: URL
    private let process: Process
    private let input: Pipe

    /// The CA that issued the sink's certificate, for the channel's trust roots.
    var caPath: String { directory.appendingPathComponent("ca.pem").path }
    private var outFile: URL { directory.appendingPathComponent("received.jsonl") }
    private var errorFile: URL { directory.appendingPathComponent("stderr.txt") }

    init(_ options: Options = Options()) throws {
        try Self.checkPython()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-smtp-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port")
        var arguments = [
            "python3", Self.script.path, "--out", directory.appendingPathComponent("received.jsonl").path, "--dir", directory.path,
            "--port-file", portFile.path,
        ]
        arguments += ["--mode", options.mode.rawValue]
        if !options.offersSTARTTLS { arguments.append("--no-starttls") }
        if options.requiresAuth { arguments.append("--require-auth") }
        if !options.offersPlain { arguments.append("--no-plain") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("stderr.txt").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr.txt"))
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            if let text = try? String(contentsOf: portFile, encoding: .utf8) {
                found = Int(text)
            } else {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        guard let found else {
            let errors = (try? String(contentsOf: directory.appendingPathComponent("stderr.txt"), encoding: .utf8)) ?? ""
            process.terminate()
            throw SinkFailure(description: "the SMTP sink did not start listening: \(errors)")
        }
        port = found
    }

    /// Every message accepted so far, in order.
    func received() throws -> [Mail] {
        guard let data = try? Data(contentsOf: outFile) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Mail.self, from: Data($0)) }
    }

    /// What the sink wrote on stderr, for failure messages.
    var log: String {
        (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    }

    func stop() {
        if process.isRunning {
            process.terminate()
        }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    struct SinkFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Servers/smtp_sink.py")
    }

    /// Skips, rather than fails, only where the sink cannot run at all; `scripts/test`
    /// installs what it needs, so there it always runs.
    private static func checkPython() throws {
        if let pythonProblem {
            throw XCTSkip(pythonProblem)
        }
    }

    private static let pythonProblem: String? = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import aiosmtpd, cryptography"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "python3 cannot be run (\(error)); the SMTP tests need it with aiosmtpd and cryptography"
        }
        process.waitUntilExit()
        switch process.terminationStatus {
        case 0: return nil
        case 127: return "python3 is not on PATH; the SMTP tests need it with aiosmtpd and cryptography"
        default: return "python3 lacks aiosmtpd or cryptography; run `python3 -m pip install -r scripts/requirements-test.txt`"
        }
    }()
}
