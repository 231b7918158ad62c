import ArgumentParser
import Foundation
import LiaisonKafka
import LiaisonRuntime
import LiaisonSchema
import LiaisonSinks
import LiaisonStage
import Logging
import Synchronization

/// `liaison bench fleet`: the four stages as their own processes, upstream record to delivery
/// receipt, against four bare consume→produce hops chained over topics in the same run; then
/// the fleet's end-to-end latency at half the rate it reached. With `--soak-seconds` it runs
/// the fleet at a steady rate instead and follows each stage's resident memory.
struct FleetBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Raw four-hop chain versus ingest → enrich → rules → notifier as processes, upstream record to delivery receipt.",
        discussion: """
            Every record is a card payment, which asks for nothing, except one in --action-every: a mobile check \
            deposit, which the default rule pack confirms by SMS through a local HTTP provider. Each customer's \
            profile comes first. The fleet's time runs from starting the stages until every record has its rules \
            decision and every deposit its sent receipt; the chain's from starting its hops until the last record \
            came out of the fourth. Latency runs from publishing a deposit to its sent receipt arriving, while \
            records are published at half the fleet's measured rate. The stages must be built next to liaison \
            (`swift build -c release`).
            """)

    @OptionGroup var options: BenchOptions

    @Option(help: "Distinct customers the records are about.")
    var customers = 10_000

    @Option(help: "One record in this many is a deposit that ends as an SMS.")
    var actionEvery = 20

    @Option(help: "Seconds of publishing at half the peak rate for the latency figures.")
    var latencySeconds = 20

    @Option(help: "Records per second for the latency figures, instead of half the fleet's measured rate.")
    var latencyRate: Double?

    @Option(help: "The repository, for the rule pack and the templates.")
    var repository = "."

    @Option(help: "The stages' --batch-max-wait-ms: how long a stage waits to fill a batch.")
    var stageBatchWaitMs = 20

    @Option(help: "Soak instead: publish at --soak-rate for this many seconds, sampling every stage's resident memory.")
    var soakSeconds: Int?

    @Option(help: "Records per second during a soak.")
    var soakRate = 1_000

    @Option(help: "Seconds between memory samples during a soak.")
    var sampleSeconds = 30

    func validate() throws {
        guard actionEvery >= 1, customers >= 1, latencySeconds >= 1, soakRate >= 1, sampleSeconds >= 1 else {
            throw ValidationError("--action-every, --customers, --latency-seconds, --soak-rate and --sample-seconds must be at least 1")
        }
    }

    func run() async throws {
        let brokers = try options.cluster.requiredBrokers()
        let properties = try options.cluster.properties(brokers: brokers)
        let mail = SMTPSink()
        try await mail.start()
        let provider = HTTPSink(configuration: HTTPSink.Configuration(keepsRequests: false))
        try await provider.start()
        let outcome = Result { () throws -> String in
            let fleet = try BenchFleet(
                properties: properties, options: options, repository: repository, smsURL: provider.url("/sms"), smtpPort: mail.port,
                batchWaitMs: stageBatchWaitMs)
            defer { fleet.stop() }
            let workload = FleetWorkload(customers: customers, actionEvery: actionEvery, run: fleet.run)
            if let soakSeconds {
                return try soak(fleet, workload, seconds: soakSeconds)
            }
            return try measure(fleet, workload, properties: properties)
        }
        await provider.stop()
        await mail.stop()
        print(try outcome.get())
    }

    private func measure(_ fleet: BenchFleet, _ workload: FleetWorkload, properties: KafkaProperties) throws -> String {
        let records = options.records
        progress("publishing \(records) records (\(workload.actions(in: 0..<records)) deposits) to the fleet's and the chain's first topics")
        try fleet.publish(0..<records, of: workload, to: [fleet.topics.upstream, fleet.chain[0]])
        progress("raw chain: four consume→produce hops")
        let baseline = try RawChain(properties: properties, topics: fleet.chain, records: records).run()
        progress("fleet: ingest, enrich, rules and the notifier as processes")
        let started = ContinuousClock.now
        try fleet.start()
        try fleet.waitUntilThrough(decisions: records, sent: workload.actions(in: 0..<records), timeout: .seconds(1_200))
        let throughput = Double(records) / (ContinuousClock.now - started).timeInterval

        let rate = max(1, latencyRate ?? throughput / 2)
        let latencyRecords = workload.range(after: records, count: Int(rate * Double(latencySeconds)))
        progress("latency: \(latencyRecords.count) records at \(Int(rate)) records/s")
        let sentBefore = fleet.receipts.sentCount
        try fleet.publish(paced: workload.records(latencyRecords, topics: [fleet.topics.upstream]), perSecond: rate, notingTimes: true)
        try fleet.waitUntilThrough(
            decisions: records + latencyRecords.count, sent: sentBefore + workload.actions(in: latencyRecords), timeout: .seconds(600))
        let latencies = fleet.receipts.latencies(publishedAt: fleet.publishedAt)
        let memory = fleet.peakResidentMegabytes()

        var result = BenchResult(
            baselinePerSecond: baseline, throughputPerSecond: throughput, p50Ms: latencies.percentile(0.50), p99Ms: latencies.percentile(0.99),
            rssMB: memory.values.reduce(0, +))
        result.fleet = FleetFigures(latencyRatePerSecond: rate, latencySamples: latencies.count, stagePeakRSSMB: memory)
        guard !options.json else { return result.json }
        return """
            records:            \(records) over \(options.partitions) partitions, \(workload.actions(in: 0..<records)) of them deposits that end as an SMS
            raw chain:          \(Int(baseline)) records/s through four consume→produce hops
            fleet:              \(Int(throughput)) records/s upstream → decision, and → sent receipt for the deposits
            ratio:              \(String(format: "%.3f", result.ratio))
            latency:            p50 \(String(format: "%.1f", result.p50Ms)) ms, p99 \(String(format: "%.1f", result.p99Ms)) ms, deposit published → sent receipt, \
            \(latencies.count) deposits among \(latencyRecords.count) records at \(Int(rate)) records/s
            stage peak RSS:     \(memory.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value)) MB" }.joined(separator: ", "))
            """
    }

    private func soak(_ fleet: BenchFleet, _ workload: FleetWorkload, seconds: Int) throws -> String {
        progress("soak: \(soakRate) records/s for \(seconds) s, resident memory every \(sampleSeconds) s")
        try fleet.publish(0..<customers, of: workload, to: [fleet.topics.upstream])
        try fleet.start()
        var curves: [String: ResidentMemoryCurve] = [:]
        let started = ContinuousClock.now
        var next = customers
        var nextSample = started
        FileHandle.standardOutput.write(Data("seconds,\(BenchFleet.stages.joined(separator: ",")),sent\n".utf8))
        while ContinuousClock.now - started < .seconds(seconds) {
            let batch = workload.range(after: next, count: soakRate)
            next = batch.upperBound
            try fleet.publish(paced: workload.records(batch, topics: [fleet.topics.upstream]), perSecond: Double(soakRate), notingTimes: false)
            guard ContinuousClock.now >= nextSample else { continue }
            nextSample = nextSample + .seconds(sampleSeconds)
            let elapsed = (ContinuousClock.now - started).timeInterval
            let resident = fleet.residentMegabytes()
            for (stage, megabytes) in resident { curves[stage, default: ResidentMemoryCurve()].add(seconds: elapsed, megabytes: megabytes) }
            let row = BenchFleet.stages.map { String(format: "%.1f", resident[$0] ?? 0) }.joined(separator: ",")
            FileHandle.standardOutput.write(Data("\(Int(elapsed)),\(row),\(fleet.receipts.sentCount)\n".utf8))
        }
        try fleet.waitUntilThrough(decisions: next, sent: workload.actions(in: 0..<next), timeout: .seconds(600))
        return BenchFleet.stages.map { stage in
            guard let curve = curves[stage], let growth = curve.growthAfterWarmUp, let flat = curve.isFlat() else {
                return "\(stage): too few samples for a verdict"
            }
            return "\(stage): peak \(Int(growth.middle)) MB in the middle third, \(Int(growth.late)) MB in the last: "
                + (flat ? "flat after warm-up" : "GROWING after warm-up")
        }.joined(separator: "\n")
    }
}

/// The bench's records: customer `index mod customers`, a profile on each customer's first
/// record, then card payments with a mobile check deposit every `actionEvery`th record.
struct FleetWorkload: Sendable {
    let customers: Int
    let actionEvery: Int
    let run: String

    func isDeposit(_ index: Int) -> Bool { index >= customers && index % actionEvery == 0 }

    func actions(in range: Range<Int>) -> Int { range.filter(isDeposit).count }

    /// `count` indexes after `start`, never giving a customer a second first record.
    func range(after start: Int, count: Int) -> Range<Int> {
        let from = max(start, customers)
        return from..<from + max(1, count)
    }

    func records(_ range: Range<Int>, topics: [String]) -> [OutputRecord] {
        range.flatMap { index in
            let customer = "cust-\(index % customers)"
            let value = Array(event(index, customer: customer).utf8)
            return topics.map { OutputRecord(id: "\(run)-\(index)", topic: $0, key: Array(customer.utf8), value: value) }
        }
    }

    private func event(_ index: Int, customer: String) -> String {
        let (type, data): (EventType, String)
        if index < customers {
            (type, data) = (.customerProfileUpdated, #"{"name":"Customer \#(index)","locale":"en","timeZone":"UTC","tier":"standard","contact":{"phone":"+49151\#(10_000_000 + index)","email":"c\#(index)@example.com"}}"#)
        } else if isDeposit(index) {
            (type, data) = (.bankingCheckDeposited, #"{"accountId":"chk-\#(customer)","depositId":"dep-\#(index)","amount":120.50,"currency":"EUR","via":"mobile"}"#)
        } else {
            (type, data) = (.bankingTransactionPosted, #"{"accountId":"chk-\#(customer)","accountType":"checking","amount":-\#(index % 90 + 5).25,"currency":"EUR","balanceAfter":800.00}"#)
        }
        return #"{"specversion":"1.0","id":"\#(run)-\#(index)","source":"bench","type":"\#(type.rawValue)","time":"\#(Timestamp(Date()).text)","#
            + #""subject":"\#(customer)","datacontenttype":"application/json","data":\#(data)}"#
    }
}

/// The figures only the fleet bench has.
struct FleetFigures {
    var latencyRatePerSecond: Double
    var latencySamples: Int
    var stagePeakRSSMB: [String: Double]
}

private func progress(_ message: String) {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
}
