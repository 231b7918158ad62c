import ArgumentParser
import Foundation
import GRDB
import LiaisonRuntime
import LiaisonSchema
import LiaisonStage
import LiaisonStore
import Rules
import RulesStore

/// `liaison bench rules`: the rules stage with a rule pack over enriched events of every kind,
/// with a million timers pending in its partition files, against the raw passthrough; and how
/// late the timers that come due during the run fire.
struct RulesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Raw passthrough versus the rules stage with the default pack and a million pending timers.")

    @OptionGroup var options: BenchOptions

    @Option(help: "The rule pack to evaluate.")
    var rules = "schemas/rules/default.yaml"

    @Option(help: "Distinct customers the events are about.")
    var customers = 100_000

    @Option(help: "Timers pending in the partition files before the run, due long after it.")
    var pendingTimers = 1_000_000

    @Option(help: "Timers that come due while the run goes on, spread over its first 20 seconds.")
    var dueTimers = 2_000

    @Flag(help: "Time only the stage's own work (read and process, state in memory, no Kafka, no SQLite) and print microseconds per record.")
    var stageOnly = false

    func run() async throws {
        let pack: RulePack
        do {
            pack = try RulePack(file: rules)
        } catch {
            throw ValidationError("the rule pack \(rules) does not load:\n\(error)")
        }
        guard let timedRule = pack.rules.first(where: { $0.schedule != nil && $0.action != nil }) else {
            throw ValidationError("the pack \(rules) has no timed rule to fill the stores with")
        }
        let persistence = RulesPersistence(firingHorizonSeconds: pack.firingHorizonSeconds)
        let customers = self.customers
        let nowMs = Date().epochMilliseconds
        if stageOnly {
            let records = (0..<options.records).map { index in
                InputRecord(
                    position: RecordPosition(topic: EnrichedEventV1.topic, partition: 0, offset: Int64(index)),
                    key: Array("cust-\(index % customers)".utf8), value: Array(Self.value(index, customers: customers, nowMs: nowMs).utf8))
            }
            let timing = try StageOnlyTiming(RulesStage(pack: pack), records, state: RulesState(), batchSize: options.batchMaxRecords)
            print("read \(timing.perRecord(timing.reading)) µs/record, process \(timing.perRecord(timing.processing)) µs/record, "
                + "\(timing.outputBytes / records.count) bytes out per record")
            return
        }
        let harness = try BenchHarness(options: options)
        try harness.run(
            stageName: "the rules stage (pack \(pack.name) \(pack.version))", recordSize: 1_000, customers: customers,
            dueTimers: dueTimers, pendingTimers: pendingTimers + dueTimers,
            prepare: { settings in try fillStores(settings, persistence: persistence, rule: timedRule) },
            value: { Self.value($0, customers: customers, nowMs: nowMs) }
        ) { output, settings, logger, observer in
            try StageRuntime(
                timedStage: RulesStage(pack: pack, outputTopic: output, clock: settings.clock), persistence: persistence,
                settings: settings, logger: logger, batchObserver: observer)
        }
    }

    /// Writes the pending timers into the files the runtime will open, spread over the
    /// partitions: most due a month or more from now, `dueTimers` due 3 to 23 seconds from now.
    private func fillStores(_ settings: RuntimeSettings, persistence: RulesPersistence, rule: Rule) throws {
        let started = ContinuousClock.now
        let partitions = Int(options.partitions)
        let stores = try (0..<partitions).map { partition in
            let store = try PartitionStore(
                location: PartitionStoreLocation(
                    stateDirectory: settings.stateDirectory, stage: "rules", topic: settings.inputTopics[0], partition: Int32(partition)),
                migrations: persistence.registerMigrations)
            try store.claimOwnership()
            return store
        }
        let farMs = Date().epochMilliseconds + 30 * 86_400_000
        for (partition, store) in stores.enumerated() {
            let far = stride(from: partition, to: pendingTimers, by: partitions).map { ($0, farMs + Int64($0) * 1_000) }
            try insertTimers(far, into: store, rule: rule)
        }
        // Due from 3 s after the files are full: the runtime starts right after.
        let soonMs = Date().epochMilliseconds + 3_000
        for (partition, store) in stores.enumerated() {
            let soon = stride(from: partition, to: dueTimers, by: partitions).map { index in
                (pendingTimers + index, soonMs + Int64(index) * 20_000 / Int64(max(1, dueTimers)))
            }
            try insertTimers(soon, into: store, rule: rule)
        }
        FileHandle.standardError.write(Data(
            "bench: \(pendingTimers + dueTimers) timers written in \(String(format: "%.1f", (ContinuousClock.now - started).timeInterval)) s\n".utf8))
    }

    private func insertTimers(_ timers: [(index: Int, dueMs: Int64)], into store: PartitionStore, rule: Rule) throws {
        for chunk in timers.chunked(by: 50_000) {
            try store.commit(nextOffset: nil, ledger: []) { db in
                let insert = try db.makeStatement(sql: "INSERT INTO rules_timers (customer_id, timer_key, due_at_ms, timer) VALUES (?, ?, ?, ?)")
                let encoder = JSONValueEncoder()
                for (index, dueMs) in chunk {
                    let timer = Self.timer(index, dueMs: dueMs, rule: rule)
                    try insert.execute(arguments: [timer.customerId, timer.key, dueMs, Data(try encoder.encodeBytes(timer))])
                }
            }
        }
    }

    private static func timer(_ index: Int, dueMs: Int64, rule: Rule) -> PendingTimer {
        let customer = "bench-timer-\(index)"
        let due = Timestamp(epochMilliseconds: dueMs)
        var recipient = RecipientV1()
        recipient.email = "\(customer)@example.com"
        return PendingTimer(
            customerId: customer, key: "bench:\(index)", ruleId: rule.id, due: due,
            validUntil: Timestamp(epochMilliseconds: dueMs + 23 * 3_600_000), template: rule.action?.template ?? "bench",
            channelClass: rule.action?.channelClass ?? .service, priority: rule.action?.priority ?? .normal,
            payload: JSONObject(["bookingId": .string("BK-\(index)")]), escalationPayload: nil, recipient: recipient,
            traceparent: nil,
            scheduledBy: DecisionRecordV1(
                ruleId: rule.id, packVersion: "bench", inputIds: ["bench-\(index)"],
                inputPositions: [.init(topic: "bench", partition: 0, offset: Int64(index))], reads: JSONObject(), outcome: .scheduled))
    }

    /// Enriched record `index`: an event of the mix with a context as enrich writes it. Half are
    /// card payments (some customers with a surplus), the rest every kind the default pack reads.
    /// Event times fall in the hour before `nowMs`, so expiries judge them as fresh.
    static func value(_ index: Int, customers: Int, nowMs: Int64) -> String {
        let customer = "cust-\(index % customers)"
        let time = Timestamp(epochMilliseconds: nowMs - 3_600_000 + Int64(index) * 3_600_000 / 1_000_000 % 3_600_000).text
        let departure = Timestamp(epochMilliseconds: nowMs + Int64(index % 30 + 2) * 86_400_000).text
        let (type, data): (String, String)
        switch index % 20 {
        case 0..<10:
            (type, data) = ("banking.transaction.posted", #"{"accountId":"chk-\#(customer)","accountType":"checking","amount":-\#(index % 900 + 5).50,"currency":"EUR","balanceAfter":\#(4_000 + index % 30_000).25,"description":"Card payment"}"#)
        case 10:
            (type, data) = ("banking.check.deposited", #"{"accountId":"chk-\#(customer)","depositId":"dep-\#(index)","amount":250.00,"currency":"EUR","via":"\#(index % 40 == 10 ? "branch" : "mobile")"}"#)
        case 11:
            (type, data) = ("travel.booking.confirmed", #"{"bookingId":"bk-\#(index)","flight":"LH\#(index % 900)","origin":"FRA","destination":"JFK","departure":"\#(departure)"}"#)
        case 12:
            (type, data) = ("engagement.feedback.received", #"{"channel":"chat","text":"The app is slow","rating":\#(index % 5 + 1)}"#)
        case 13:
            (type, data) = ("engagement.geo.entered", #"{"placeType":"open-house","placeId":"oh-\#(index % 300)","lat":52.52,"lon":13.4}"#)
        case 14:
            (type, data) = ("crm.case.resolved", #"{"caseId":"case-\#(index)","topic":"fees","severity":"low"}"#)
        case 15:
            (type, data) = ("finance.invoice.paid", #"{"invoiceId":"inv-\#(index)","orderId":"ord-\#(index)","amount":99.00,"currency":"EUR"}"#)
        case 16:
            (type, data) = ("travel.booking.cancelled", #"{"bookingId":"bk-\#(index - 5)"}"#)
        default:
            (type, data) = ("engagement.web.researched", #"{"topic":"\#(["mortgage", "cd", "travel-insurance"][index % 3])"}"#)
        }
        let balance = 4_000 + index % 30_000
        let context = #"{"customerId":"\#(customer)","erased":false,"asOf":"\#(time)","recipient":{"name":"Customer \#(index % customers)","locale":"de-DE","timeZone":"Europe/Berlin","email":"c\#(index % customers)@example.com","phone":"+4915112345678","pushToken":"tok-\#(index % customers)","device":"phone","marketingConsent":\#(index % 3 != 0),"serviceConsent":true,"quietHours":{"start":"22:00","end":"07:00"}},"segment":{"tier":"\#(["standard", "gold", "platinum"][index % 3])","generation":"millennial"},"productsHeld":["checking"\#(index % 4 == 0 ? #","cd""# : "")],"checkingBalance":\#(balance).25,"cashNeed":3100.00,"surplus":\#(max(0, balance - 3_100)).25,"sentiment":\#(Double(index % 21 - 10) / 10),"churnRisk":\#(Double(index % 100) / 100),"spendZScore":\#(Double(index % 61 - 30) / 10),"activityZScore":0.4,"openCases":\#(index % 3),"oldestOpenCaseDays":\#(index % 40),"upcomingTrips":[{"bookingId":"bk-\#(index)","flight":"LH\#(index % 900)","departure":"\#(departure)"}],"recentResearch":[{"topic":"mortgage","at":"\#(time)"}]}"#
        return #"{"event":{"specversion":"1.0","id":"ev-\#(index)","source":"bench","type":"\#(type)","time":"\#(time)","subject":"\#(customer)","datacontenttype":"application/json","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","data":\#(data)},"context":\#(context)}"#
    }
}

extension Array {
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
