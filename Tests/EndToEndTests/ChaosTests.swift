import Foundation
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import Synchronization
import XCTest

/// The fleet under fire: 100,000 upstream records for 10,000 customers, published over 20
/// seconds, go through the four stages, each its own process over the test broker, while a
/// driver SIGKILLs and restarts
/// them, scales enrich and rules between one and three replicas, and makes the HTTP providers
/// and the SMTP relay fail or stall. Afterwards `liaison audit` finds nothing lost and nothing
/// duplicated, and the sinks hold exactly one message per action, each to its own customer.
final class ChaosTests: XCTestCase {
    private var fleet: TestFleet!
    private let customers = 10_000

    override func setUp() async throws {
        fleet = TestFleet(cluster: try TestCluster())
        // A channel is given up only after about a minute of failures, longer than any outage
        // the driver makes; the circuit breaker may still move a delivery down its ladder.
        try await fleet.start(retry: "{ initial: 200ms, max_delay: 2s, attempts_per_channel: 30 }")
    }

    override func tearDown() async throws {
        await fleet?.tearDown(succeeded: testRun?.hasSucceeded == true)
    }

    // MARK: The records

    /// Ten records per customer, in the order an upstream sends them: the profile first; a
    /// mobile check deposit for every fifth customer (a service message by push, SMS or email,
    /// as the contact allows); a paid invoice for every tenth (a CRM update by webhook); and
    /// transactions that ask for nothing. One customer in a hundred has a broken record among
    /// them and another one in a hundred a transaction sent twice.
    private func upstreamRecords() -> [OutputRecord] {
        var records: [OutputRecord] = []
        records.reserveCapacity(customers * 10)
        for index in 0..<customers {
            let customer = "cust-\(index)"
            var own = [fleet.upstreamEvent("\(index)-profile", .customerProfileUpdated, customer: customer, """
                {"name":"Person \(index)","locale":"en","timeZone":"UTC","tier":"standard","contact":\(Self.contact(index))}
                """)]
            if Self.deposits(index) {
                own.append(fleet.upstreamEvent("\(index)-deposit", .bankingCheckDeposited, customer: customer, """
                    {"accountId":"chk-\(index)","depositId":"dep-\(index)","amount":120.50,"currency":"EUR","via":"mobile"}
                    """))
            }
            if Self.paysInvoice(index) {
                own.append(fleet.upstreamEvent("\(index)-invoice", .financeInvoicePaid, customer: customer, """
                    {"invoiceId":"inv-\(index)","orderId":"ord-\(index)","amount":99.00,"currency":"EUR"}
                    """))
            }
            var transaction = 0
            while own.count < 10 {
                var record = fleet.upstreamEvent("\(index)-txn-\(transaction)", .bankingTransactionPosted, customer: customer, """
                    {"accountId":"chk-\(index)","accountType":"checking","amount":-12.00,"currency":"EUR","balanceAfter":800.00}
                    """)
                if index % 100 == 37, transaction == 0 {
                    record.value = Array(#"{"specversion":"1.0","id":"broken""#.utf8)
                } else if index % 100 == 73, transaction == 1 {
                    record = own[own.count - 1]
                }
                own.append(record)
                transaction += 1
            }
            records += own
        }
        return records
    }

    private static func contact(_ index: Int) -> String {
        switch index % 3 {
        case 0: #"{"email":"\#(email(index))","phone":"\#(phone(index))","pushToken":"push-\#(index)","device":"phone"}"#
        case 1: #"{"email":"\#(email(index))","phone":"\#(phone(index))"}"#
        default: #"{"email":"\#(email(index))"}"#
        }
    }

    private static func email(_ index: Int) -> String { "p\(index)@example.com" }
    private static func phone(_ index: Int) -> String { "+49151\(10_000_000 + index)" }
    private static func deposits(_ index: Int) -> Bool { index % 5 == 0 }
    private static func paysInvoice(_ index: Int) -> Bool { index % 10 == 1 }

    // MARK: The run

    func testNothingIsLostOrDuplicatedWhileStagesAreKilledAndScaledAndProvidersFail() throws {
        let topics = fleet.topics
        try fleet.createTopics(partitions: ["upstream": 3, "events": 6, "deliveries": 6, "enriched": 6, "actions": 3])
        let records = upstreamRecords()
        XCTAssertEqual(records.count, 100_000)
        try fleet.startAll()
        // Upstream publishes while the driver works: 5,000 records a second for 20 seconds.
        let published = DispatchSemaphore(value: 0)
        let publishingFailure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread { [cluster = fleet.cluster] in
            for chunk in stride(from: 0, to: records.count, by: 5_000) {
                do {
                    try cluster.produce(Array(records[chunk..<chunk + 5_000]))
                } catch {
                    publishingFailure.withLock { $0 = error }
                    break
                }
                Thread.sleep(forTimeInterval: 1)
            }
            published.signal()
        }

        let accepted = 100_000 - 100 - 100
        let actions = (0..<customers).filter(Self.deposits).count + (0..<customers).filter(Self.paysInvoice).count
        let progress = { [fleet = fleet!] () throws -> ChaosProgress in
            ChaosProgress(
                judged: try fleet.state.ledgerRows(stage: "ingest", topic: topics["upstream"]!),
                enriched: try fleet.state.ledgerRows(stage: "enrich", topic: topics["events"]!),
                decided: try fleet.state.ledgerRows(stage: "rules", topic: topics["enriched"]!),
                sent: try fleet.state.deliveryStatuses().values.filter { $0 == "sent" }.count)
        }
        let done = ChaosProgress(judged: accepted + 100, enriched: accepted, decided: accepted, sent: actions)

        // A move every 2 to 4 seconds: two full rounds of every kind at least, then on until
        // the records are through or two and a half minutes have passed.
        var driver = ChaosDriver(fleet: fleet, done: done)
        let began = Date()
        var nextMove = began.addingTimeInterval(3)
        while true {
            let now = Date()
            let current = try progress()
            if driver.finishedRounds && (current == done || now.timeIntervalSince(began) > 150) { break }
            try driver.carryOutDue(at: now)
            if now >= nextMove, try driver.move(progress: current) {
                nextMove = now.addingTimeInterval(Double.random(in: 2...4))
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        try driver.restoreAll()
        published.wait()
        if let failure = publishingFailure.withLock({ $0 }) { throw failure }
        let chaosSeconds = Date().timeIntervalSince(began)
        let settled = try eventually(timeout: 120) { try progress() == done }
        let settledSeconds = Date().timeIntervalSince(began)
        print("chaos: \(driver.log.count) moves and recoveries in \(Int(chaosSeconds)) s, settled after \(Int(settledSeconds)) s\n"
            + driver.log.joined(separator: "\n"))
        let reached = try progress()
        guard settled else {
            return XCTFail("not settled: \(reached) of \(done)\n\(driver.log.joined(separator: "\n"))\n\(fleet.logTails)")
        }
        XCTAssertTrue(driver.interruptedWork, "no stage was killed while records were still on their way:\n\(driver.log.joined(separator: "\n"))")
        fleet.stopAll()

        let audit = try fleet.auditCounts()
        XCTAssertEqual(audit.status, 0, audit.output)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["upstream_records"], 100_000)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["accepted"], accepted)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["rejected"], 100)
        XCTAssertEqual(audit.counts["upstream-verdicts"]?["repeats_dropped"], 100)
        XCTAssertEqual(audit.counts["stage-handoffs"]?["events_reached_enrich"], accepted)
        XCTAssertEqual(audit.counts["stage-handoffs"]?["enriched_reached_rules"], accepted)
        XCTAssertEqual(audit.counts["receipts"]?["actions"], actions)
        XCTAssertEqual(audit.counts["receipts"]?["final_sent"], actions)
        print("audit: " + audit.counts.sorted { $0.key < $1.key }.map { check in
            "\(check.key): " + check.value.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }.joined(separator: "\n       "))
        try assertSinksHoldOneMessagePerAction()
    }

    // MARK: The sinks

    /// Every depositing customer got exactly one service message, on one of their own channels,
    /// and every paying customer exactly one CRM webhook; nobody else got anything. Messages
    /// are told apart by idempotency key and Message-ID, as the providers keep them.
    private func assertSinksHoldOneMessagePerAction() throws {
        var byCustomer: [Int: [String]] = [:]
        var unknown: [String] = []
        var keys = Set<String>()
        for request in fleet.sink.requests where (200..<300).contains(request.status ?? 0) {
            guard let key = request.idempotencyKey, keys.insert("\(request.path) \(key)").inserted else { continue }
            let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], request.bodyText)
            let customer: Int? = switch request.path {
            case "/push": (body["token"] as? String).flatMap { Int($0.dropFirst("push-".count)) }
            case "/sms": (body["to"] as? String).flatMap { Int($0.dropFirst("+49151".count)) }.map { $0 - 10_000_000 }
            default: Self.customer(inWebhook: request.bodyText)
            }
            if let customer { byCustomer[customer, default: []].append(request.path) } else { unknown.append(request.bodyText) }
        }
        var messageIDs = Set<String>()
        for mail in fleet.mail.messages {
            guard messageIDs.insert(mail.messageID ?? UUID().uuidString).inserted else { continue }
            let address = mail.recipients.first ?? ""
            if address.hasPrefix("p"), address.hasSuffix("@example.com"), let customer = Int(address.dropFirst().dropLast("@example.com".count)) {
                byCustomer[customer, default: []].append("email")
            } else {
                unknown.append(address)
            }
        }
        XCTAssertEqual(unknown, [], "messages to nobody the test knows")
        var wrong: [String] = []
        for index in 0..<customers {
            let got = byCustomer[index, default: []]
            let service = got.filter { $0 != "/webhook" }
            let webhooks = got.count - service.count
            let reachable = ["/push", "/sms", "email"].suffix(3 - index % 3)
            if service.count != (Self.deposits(index) ? 1 : 0) || !service.allSatisfy(reachable.contains)
                || webhooks != (Self.paysInvoice(index) ? 1 : 0) {
                wrong.append("cust-\(index): \(got)")
            }
        }
        XCTAssertEqual(wrong, [], "customers who did not get exactly their messages (\(wrong.count))")
    }

    /// The customer a CRM webhook is about: its body names the paid invoice, `inv-<index>`.
    private static func customer(inWebhook body: String) -> Int? {
        guard let range = body.range(of: #"inv-[0-9]+"#, options: .regularExpression) else { return nil }
        return Int(body[range].dropFirst("inv-".count))
    }
}

/// How far the records got: ledger rows of ingest (upstream records judged), enrich (events
/// enriched) and rules (enriched events decided), and the notifier's deliveries sent.
private struct ChaosProgress: Equatable, CustomStringConvertible {
    var judged: Int
    var enriched: Int
    var decided: Int
    var sent: Int

    var description: String { "judged \(judged), enriched \(enriched), decided \(decided), sent \(sent)" }
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
    let done: ChaosProgress
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

    init(fleet: TestFleet, done: ChaosProgress) {
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

    /// Whether the stage's consumer group has had time to settle since it last changed.
    ///
    /// The test broker, Tansu 0.6.0, never completes a rebalance whose leader died after
    /// joining it: every JoinGroup is answered with the same generation and the dead leader,
    /// every SyncGroup with REBALANCE_IN_PROGRESS, for good (Kafka expires such a member and
    /// starts over). So a stage's processes are changed again only after its group has had
    /// the session timeout and a join round to settle; the other stages and the providers
    /// meanwhile get their moves.
    private func settled(_ stage: String, at now: Date) -> Bool {
        guard let changed = changedAt[stage] else { return true }
        return now.timeIntervalSince(changed) >= Self.settlingSeconds
    }

    private static let settlingSeconds: TimeInterval = 15

    /// Makes the next move of the round whose stage has settled; false when none can go yet.
    @discardableResult
    mutating func move(progress: ChaosProgress) throws -> Bool {
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
                mail.script([.tempFail])
            } restore: { [mail = fleet.mail] in mail.script([.accept]) }
        case .stallRelay:
            outage("the SMTP relay takes 2 s per message", seconds: Double.random(in: 3...6)) { [mail = fleet.mail] in
                mail.script([.stall(.seconds(2))])
            } restore: { [mail = fleet.mail] in mail.script([.accept]) }
        }
        return true
    }

    /// SIGKILLs one of the stage's processes and starts a replacement 0.5 to 2 seconds later,
    /// unless the stage has been scaled back up to its most replicas meanwhile.
    private mutating func kill(_ stage: String, progress: ChaosProgress) throws {
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
    private mutating func scale(_ stage: String) throws {
        let running = fleet.running(stage)
        let target = (1...Self.mostReplicas(of: stage)).filter { $0 != running.count }.randomElement()!
        note("scale \(stage) from \(running.count) to \(target)")
        if target > running.count {
            for _ in running.count..<target { try fleet.start(stage) }
        } else {
            for process in running.prefix(running.count - target) { process.kill(SIGTERM) }
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
