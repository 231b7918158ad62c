import ArgumentParser
import Foundation
import LiaisonDemo
import LiaisonSchema

/// The demo's progress: a live frame on a terminal, otherwise a line now and then.
struct DemoView {
    let console: DemoConsole
    let fleet: DemoFleet
    let files: FleetFiles
    let observer: DemoObserver
    let lag: DemoLag
    let started: Date
    let rate: Double
    private var notes: [String] = []
    private var drawnAt = Date.distantPast
    private var printedAt = Date()

    init(console: DemoConsole, fleet: DemoFleet, files: FleetFiles, observer: DemoObserver, lag: DemoLag, started: Date, rate: Double) {
        self.console = console
        self.fleet = fleet
        self.files = files
        self.observer = observer
        self.lag = lag
        self.started = started
        self.rate = rate
    }

    mutating func note(_ line: String) {
        notes.append(line)
        if notes.count > 5 { notes.removeFirst() }
        console.say(line)
    }

    /// Redraws at most twice a second; without a terminal, prints a progress line every 10 s.
    mutating func refresh(phase: String, simulated: Date) {
        let now = Date()
        if console.live {
            guard now.timeIntervalSince(drawnAt) >= 0.5 else { return }
            drawnAt = now
            let width = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100
            console.draw(renderLiveFrame(snapshot(phase: phase, simulated: simulated), width: width, colors: true))
        } else if now.timeIntervalSince(printedAt) >= 10 {
            printedAt = now
            let tally = observer.snapshot
            let counts = fleet.names.map { "\($0) \(files.ledgerCounts(of: $0).processed)" }.joined(separator: ", ")
            console.say("  [\(phase) \(simulated.isoMinute)] processed: \(counts); actions \(tally.actionOrder.count), receipts \(tally.finalReceipts.count)")
        }
    }

    func finish() {
        console.clearFrame()
    }

    /// Waits until every record published so far has gone through every stage: ingest has
    /// judged them all, no group is behind, and every open action is held in the notifier's
    /// ledger (deferred or retrying) rather than in flight. Two checks in a row must agree.
    mutating func waitUntilSettled(phase: String, simulated: Date, expectedIngest: Int, limit: TimeInterval) async throws {
        let deadline = Date().addingTimeInterval(limit)
        var agreed = 0
        var why = ""
        while agreed < 2 {
            guard Date() < deadline else {
                throw CommandFailure("the fleet did not settle within \(Int(limit)) s after the \(phase) phase (\(why)); see the logs in \(fleet.logFile(of: "ingest").deletingLastPathComponent().path)")
            }
            if let crash = fleet.unexpectedExit() {
                throw CommandFailure("\(crash.stage) exited with status \(crash.status):\n\(crash.logTail)")
            }
            refresh(phase: phase, simulated: simulated)
            try await Task.sleep(for: .milliseconds(500))
            let ingested = files.ledgerCounts(of: "ingest").processed
            let behind = lag.perStage(fresh: true)
            let open = observer.snapshot.openActions
            let held = try? files.heldDeliveries().count
            if ingested < expectedIngest {
                why = "ingest has judged \(ingested) of \(expectedIngest) records"
            } else if behind.count < fleet.names.count || behind.values.contains(where: { $0 > 0 }) {
                why = "lag \(behind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
            } else if open != held {
                why = held.map { "\(open) actions without a final receipt, \($0) held by the notifier" } ?? "the notifier's files cannot be read"
            } else {
                agreed += 1
                continue
            }
            agreed = 0
        }
    }

    private func snapshot(phase: String, simulated: Date) -> LiveSnapshot {
        let tally = observer.snapshot
        let behind = lag.perStage()
        let stages = fleet.names.map { name in
            LiveStage(
                stage: name, processed: files.ledgerCounts(of: name).processed, lag: behind[name].map(Int.init),
                running: fleet.isRunning(name), replicas: fleet.isRunning(name) ? 1 : 0)
        }
        var scenarios: [LiveScenario] = []
        for scenario in DemoScenario.all where !scenario.rules.isEmpty {
            var byChannel: [String: Int] = [:]
            for id in tally.actionOrder where scenario.rules.contains(tally.actions[id]?.rule ?? "") {
                if let receipt = tally.finalReceipt(of: id), receipt.status == .sent { byChannel[receipt.channel ?? "?", default: 0] += 1 }
            }
            scenarios.append(LiveScenario(
                number: scenario.number, title: scenario.title, sent: byChannel.values.reduce(0, +),
                byChannel: byChannel.sorted { $0.key < $1.key }.map { Count(name: $0.key, count: $0.value) }))
        }
        let finals = tally.finalReceipts
        let count = { (status: DeliveryStatus) in finals.filter { $0.status == status }.count }
        return LiveSnapshot(
            simulatedTime: simulated, wallSeconds: Date().timeIntervalSince(started), phase: phase, stages: stages, scenarios: scenarios,
            sent: count(.sent), deferred: tally.actionOrder.filter { tally.wasDeferred($0) && tally.finalReceipt(of: $0) == nil }.count,
            suppressed: count(.suppressed), missed: count(.missed), failed: count(.failed),
            deadLetters: tally.deadLetters.values.flatMap(\.values).reduce(0) { $0 + $1.count }, events: notes)
    }
}
