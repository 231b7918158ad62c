import Foundation
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import XCTest

/// The fleet under fire: 100,000 upstream records for 10,000 customers, published over 20
/// seconds, go through the four stages, each its own process over the test broker, while a
/// driver SIGKILLs and restarts
/// them, scales enrich and rules between one and three replicas, and makes the HTTP providers
/// and the SMTP relay fail or stall. Afterwards `liaison audit` finds nothing lost and nothing
/// duplicated, and the sinks hold exactly one message per action, each to its own customer.
final class ChaosTests: XCTestCase {
    private var fleet: TestFleet!
    private let data = FleetDataSet(customers: 10_000)

    override func setUp() async throws {
        fleet = TestFleet(cluster: try TestCluster())
        // A channel is given up only after about a minute of failures, longer than any outage
        // the driver makes; the circuit breaker may still move a delivery down its ladder.
        try await fleet.start(retry: "{ initial: 200ms, max_delay: 2s, attempts_per_channel: 30 }")
    }

    override func tearDown() async throws {
        await fleet?.tearDown(succeeded: testRun?.hasSucceeded == true)
    }

    // MARK: The run

    func testNothingIsLostOrDuplicatedWhileStagesAreKilledAndScaledAndProvidersFail() throws {
        try fleet.createTopics(partitions: ["upstream": 3, "events": 6, "deliveries": 6, "enriched": 6, "actions": 3])
        let records = data.upstreamRecords(for: fleet)
        XCTAssertEqual(records.count, 100_000)
        try fleet.startAll()
        // Upstream publishes while the driver works: 5,000 records a second for 20 seconds.
        let published = fleet.publishInBackground(records, perSecond: 5_000)
        let done = data.throughTheFleet

        // A move every 2 to 4 seconds: two full rounds of every kind at least, then on until
        // the records are through or two and a half minutes have passed.
        var driver = ChaosDriver(fleet: fleet, done: done)
        let began = Date()
        var nextMove = began.addingTimeInterval(3)
        while true {
            let now = Date()
            let current = try fleet.progress()
            if driver.finishedRounds && (current == done || now.timeIntervalSince(began) > 150) { break }
            // A stage whose group never settles again holds the rounds up: give up on it.
            if now.timeIntervalSince(began) > 240 { break }
            try driver.carryOutDue(at: now)
            if now >= nextMove, try driver.move(progress: current) {
                nextMove = now.addingTimeInterval(Double.random(in: 2...4))
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        try driver.restoreAll()
        try published()
        let chaosSeconds = Date().timeIntervalSince(began)
        let settled = try eventually(timeout: 120) { try fleet.progress() == done }
        let settledSeconds = Date().timeIntervalSince(began)
        print("chaos: \(driver.log.count) moves and recoveries in \(Int(chaosSeconds)) s, settled after \(Int(settledSeconds)) s\n"
            + driver.log.joined(separator: "\n"))
        let reached = try fleet.progress()
        XCTAssertTrue(driver.finishedRounds, "the driver could not finish two rounds of moves: a stage's group never settled\n\(driver.log.joined(separator: "\n"))")
        guard settled else {
            return XCTFail("not settled: \(reached) of \(done)\n\(driver.log.joined(separator: "\n"))\n\(fleet.logTails)")
        }
        XCTAssertTrue(driver.interruptedWork, "no stage was killed while records were still on their way:\n\(driver.log.joined(separator: "\n"))")
        fleet.stopAll()

        let audit = try fleet.auditCounts()
        XCTAssertEqual(audit.status, 0, audit.output)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["upstream_records"], 100_000)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["accepted"], data.accepted)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["rejected"], data.broken)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["repeats_dropped"], data.repeated)
        XCTAssertEqual(audit.counts["stage-handoffs"]?["events_reached_enrich"], data.accepted)
        XCTAssertEqual(audit.counts["stage-handoffs"]?["enriched_reached_rules"], data.accepted)
        XCTAssertEqual(audit.counts["receipts"]?["actions"], data.actions)
        XCTAssertEqual(audit.counts["receipts"]?["final_sent"], data.actions)
        print("audit: " + audit.counts.sorted { $0.key < $1.key }.map { check in
            "\(check.key): " + check.value.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }.joined(separator: "\n       "))
        try data.assertSinksHoldOneMessagePerAction(fleet)
    }
}

/// What the driver does to the fleet: one move at a time, taking every kind once per round in
/// a random order, and putting each right again after a while, as an orchestrator and a
/// recovering provider would.
private struct ChaosDriver {
    enum Move: CaseIterable {
        case killIngest, killEnrich, killRules, killNotifier, scaleEnrich, scaleRules, failProviders, stallProvider, failRelay, stallRelay
    }

    let fleet: TestFleet
    /// The progress at which every record is through.
    let done: FleetProgress
    private(set) var log: [String] = []
    /// Whether a stage was killed while records were still on their way to it.
    private(set) var interruptedWork = false
    private var round: [Move] = []
    private var rounds = 0
    /// What is put right later: `stage` names the stage whose processes it changes.
    private var undo: [(due: Date, what: String, stage: String?, action: () throws -> Void)] = []
    /// When each stage's processes were last killed, started or stopped.
    private var changedAt: [String: Date] = [:]
    private let began = Date()

    init(fleet: TestFleet, done: FleetProgress) {
        self.fleet = fleet
        self.done = done
    }

        /// Whether two rounds of moves are complete.
    var finishedRounds: Bool { rounds >= 2 && round.isEmpty }

    private mutating func note(_ text: String) {
        log.append(String(format: "%6.1f s  ", Date().timeIntervalSince(began)) + text)
    }

    /// The stage process group a move changes, if any.
    private static func stage(movedBy move: Move) -> String? {
        switch move {
        case .killIngest: "liaison-ingest"
        case .killEnrich, .scaleEnrich: "liaison-enrich"
        case .killRules, .scaleRules: "liaison-rules"
        case .killNotifier: "liaison-notifier"
        case .failProviders, .stallProvider, .failRelay, .stallRelay: nil
        }
    }

    /// Whether the stage's consumer group has settled since its processes last changed.
    ///
    /// The test broker, Tansu 0.6.0, never completes a rebalance whose leader died or left
    /// during it: every JoinGroup is answered with the same generation and the gone leader,
    /// every SyncGroup with REBALANCE_IN_PROGRESS, for good (Kafka expires such a member and
    /// starts over). So a stage's processes are changed again only once its group is stable:
    /// 15 s after the last change at the least, every running process holding partitions,
    /// and no partition assigned or revoked in the last 5 s. The other stages and the
    /// providers get their moves meanwhile.
    private func settled(_ stage: String, at now: Date) -> Bool {
        if let changed = changedAt[stage], now.timeIntervalSince(changed) < 15 { return false }
        var lastMove = Date.distantPast
        for process in fleet.running(stage) {
            let moves = Self.assignmentChanges(in: process.logURL)
            guard moves.contains(where: \.assigned) else { return false }
            lastMove = max(lastMove, moves.last?.at ?? .distantPast)
        }
        return now.timeIntervalSince(lastMove) >= 5
    }

    /// The partition assignments and revocations a stage process logged, oldest first.
    private static func assignmentChanges(in log: URL) -> [(at: Date, assigned: Bool)] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let assigned = line.contains(#""msg":"partition assigned""#)
            guard assigned || line.contains(#""msg":"partition revoked""#),
                let start = line.range(of: #""ts":""#)?.upperBound,
                let end = line[start...].firstIndex(of: "\""),
                let at = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(String(line[start..<end]))
            else { return nil }
            return (at, assigned)
        }
    }

    /// Makes the next move of the round whose stage has settled; false when none can go yet.
    @discardableResult
    mutating func move(progress: FleetProgress) throws -> Bool {
        if round.isEmpty {
            round = Move.allCases.shuffled()
            rounds += 1
        }
        let now = Date()
        guard let index = round.firstIndex(where: { Self.stage(movedBy: $0).map { settled($0, at: now) } ?? true }) else {
            return false
        }
        let move = round.remove(at: index)
        if let stage = Self.stage(movedBy: move) { changedAt[stage] = now }
        switch move {
        case .killIngest: try kill("liaison-ingest", progress: progress)
        case .killEnrich: try kill("liaison-enrich", progress: progress)
        case .killRules: try kill("liaison-rules", progress: progress)
        case .killNotifier: try kill("liaison-notifier", progress: progress)
        case .scaleEnrich: try scale("liaison-enrich")
        case .scaleRules: try scale("liaison-rules")
        case .failProviders:
            let status = [500, 503].randomElement()!
            let reply = status == 503 ? SinkReply.status(503, retryAfter: "1") : .status(500)
            outage("HTTP providers answer \(status)", seconds: Double.random(in: 2...6)) { [sink = fleet.sink] in
                sink.script(reply)
            } restore: { [sink = fleet.sink] in sink.script(.ok) }
        case .stallProvider:
            let path = ["/push", "/sms", "/webhook"].randomElement()!
            outage("\(path) never answers", seconds: Double.random(in: 2...6)) { [sink = fleet.sink] in
                sink.script(.hang, path: path)
            } restore: { [sink = fleet.sink] in sink.script(.ok, path: path) }
        case .failRelay:
            outage("the SMTP relay answers 451", seconds: Double.random(in: 2...6)) { [mail = fleet.mail] in
                mail.script(Array(repeating: .tempFail, count: 100_000))
            } restore: { [mail = fleet.mail] in mail.script([]) }
        case .stallRelay:
            outage("the SMTP relay takes 2 s per message", seconds: Double.random(in: 3...6)) { [mail = fleet.mail] in
                mail.script(Array(repeating: .stall(.seconds(2)), count: 100_000))
            } restore: { [mail = fleet.mail] in mail.script([]) }
        }
        return true
    }

    /// SIGKILLs one of the stage's processes and starts a replacement 0.5 to 2 seconds later,
    /// unless the stage has been scaled back up to its most replicas meanwhile.
    private mutating func kill(_ stage: String, progress: FleetProgress) throws {
        guard let victim = fleet.running(stage).randomElement() else { return }
        victim.kill(SIGKILL)
        victim.waitForExit()
        let stillToDo = switch stage {
        case "liaison-ingest": progress.judged < done.judged
        case "liaison-enrich": progress.enriched < done.enriched
        case "liaison-rules": progress.decided < done.decided
        default: progress.sent < done.sent
        }
        if stillToDo { interruptedWork = true }
        note("SIGKILL \(stage) (\(progress))")
        let most = Self.mostReplicas(of: stage)
        undo.append((Date().addingTimeInterval(Double.random(in: 0.5...2)), "restart \(stage)", stage, { [fleet] in
            if fleet.running(stage).count < most { try fleet.start(stage) }
        }))
    }

    /// Enrich and rules are scaled between 1 and 3 replicas; ingest and the notifier run one each.
    private static func mostReplicas(of stage: String) -> Int {
        ["liaison-enrich", "liaison-rules"].contains(stage) ? 3 : 1
    }

    /// Moves the stage to another replica count between 1 and 3; extra replicas get SIGTERM.
    /// One replica more or fewer, between 1 and 3, as an autoscaler steps: a replica leaving
    /// gets SIGTERM. (Tansu also wedged a group that two replicas left at once.)
    private mutating func scale(_ stage: String) throws {
        let running = fleet.running(stage)
        let target = [running.count - 1, running.count + 1].filter { (1...Self.mostReplicas(of: stage)).contains($0) }.randomElement()!
        note("scale \(stage) from \(running.count) to \(target)")
        if target > running.count {
            try fleet.start(stage)
        } else {
            running.randomElement()?.kill(SIGTERM)
        }
    }

    private mutating func outage(_ what: String, seconds: Double, begin: () -> Void, restore: @escaping () -> Void) {
        begin()
        note("\(what) for \(String(format: "%.1f", seconds)) s")
        undo.append((Date().addingTimeInterval(seconds), "end: \(what)", nil, restore))
    }

    /// Carries out the restarts and recoveries that are due.
    mutating func carryOutDue(at now: Date) throws {
        let due = undo.filter { $0.due <= now }
        undo.removeAll { $0.due <= now }
        for step in due {
            try step.action()
            note(step.what)
            if let stage = step.stage { changedAt[stage] = Date() }
        }
    }

    /// Everything back: pending restarts and recoveries now, and every stage running.
    mutating func restoreAll() throws {
        try carryOutDue(at: .distantFuture)
        for stage in TestFleet.stages where fleet.running(stage).isEmpty {
            try fleet.start(stage)
            note("start \(stage)")
        }
    }
}
