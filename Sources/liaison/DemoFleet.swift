import ArgumentParser
import Foundation

/// The four stages as separate processes, each appending to its own log, so the demo can
/// kill one mid-flight and start it again the way an orchestrator would.
final class DemoFleet {
    struct Stage {
        var name: String
        var executable: String
        var arguments: [String]
    }

    private let binaries: URL
    private let logs: URL
    private let common: [String]
    private let stages: [String: Stage]
    private var processes: [String: Process] = [:]
    private(set) var restarts: [String: Int] = [:]

    /// `common` are the runtime options every stage gets; each stage adds its own.
    init(stages: [Stage], common: [String], logs: URL) throws {
        guard let binaries = Bundle.main.executableURL?.deletingLastPathComponent() else {
            throw ValidationError("cannot tell where liaison was started from")
        }
        for stage in stages where !FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(stage.executable).path) {
            throw ValidationError("\(stage.executable) is not built next to liaison in \(binaries.path): run `swift build` first")
        }
        self.binaries = binaries
        self.logs = logs
        self.common = common
        self.stages = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) })
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
    }

    var names: [String] { ["ingest", "enrich", "rules", "notifier"].filter { stages[$0] != nil } }

    func logFile(of stage: String) -> URL { logs.appendingPathComponent("\(stage).log") }

    func isRunning(_ stage: String) -> Bool { processes[stage]?.isRunning ?? false }

    /// The stage's process while it runs, to read its memory from /proc.
    func processIdentifier(of stage: String) -> Int32? {
        processes[stage].flatMap { $0.isRunning ? $0.processIdentifier : nil }
    }

    func start(_ name: String) throws {
        guard let stage = stages[name] else { return }
        let log = logFile(of: name)
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(stage.executable)
        process.arguments = common + stage.arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        if processes[name] != nil { restarts[name, default: 0] += 1 }
        processes[name] = process
    }

    func startAll() throws {
        for name in names { try start(name) }
    }

    /// SIGKILL: no chance to finish the batch, checkpoint or leave the group.
    func kill(_ name: String) {
        guard let process = processes[name], process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM to all, as a deployment stops; whoever has not left within the grace period is killed.
    func stopAll(grace: TimeInterval = 30) {
        for process in processes.values where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(grace)
        while processes.values.contains(where: \.isRunning), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        for process in processes.values where process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        for process in processes.values { process.waitUntilExit() }
    }

    /// A stage that died without being told to (a configuration error, a crash), with its log's end.
    func unexpectedExit() -> (stage: String, status: Int32, logTail: String)? {
        for name in names {
            guard let process = processes[name], !process.isRunning, process.terminationReason == .exit else { continue }
            let text = (try? String(contentsOf: logFile(of: name), encoding: .utf8)) ?? ""
            return (name, process.terminationStatus, text.split(separator: "\n").suffix(15).joined(separator: "\n"))
        }
        return nil
    }
}
