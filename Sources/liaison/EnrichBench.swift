import ArgumentParser
import Enrich
import EnrichStore
import Foundation
import LiaisonSchema
import LiaisonStage

/// `liaison bench enrich`: enrich over 100,000 customers' events of every kind, profiles read
/// from and written to SQLite, against the raw passthrough.
struct EnrichBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrich",
        abstract: "Raw passthrough versus the enrich stage on a realistic mix of events for many customers.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Distinct customers the events are about.")
    var customers = 100_000

    @Flag(help: "Time only the stage's own work (read and process, profiles in memory, no Kafka, no SQLite) and print microseconds per record.")
    var stageOnly = false

    func run() async throws {
        let stage = EnrichStage(features: FeatureSettings(), sentiment: SentimentScorer(lexicons: try SentimentLexicon.bundled()))
        if stageOnly {
            try measureStageOnly(stage)
            return
        }
        let customers = self.customers
        let harness = try BenchHarness(options: options)
        try harness.run(
            stageName: "the enrich stage", recordSize: 330, customers: customers,
            stage: { EnrichStage(features: stage.features, sentiment: stage.sentiment, outputTopic: $0) },
            persistence: ProfilePersistence()
        ) { Self.value($0, customers: customers) }
    }

    private func measureStageOnly(_ stage: EnrichStage) throws {
        let records = (0..<options.records).map { index in
            InputRecord(
                position: RecordPosition(topic: EventV1.topic, partition: 0, offset: Int64(index)),
                key: Array("cust-\(index % customers)".utf8), value: Array(Self.value(index, customers: customers).utf8))
        }
        var coding = Duration.zero
        var storedBytes = 0
        let timing = try StageOnlyTiming(stage, records, state: ProfileState(), batchSize: options.batchMaxRecords) { batch, state in
            // What the store adds per record: writing the changed profile and reading it back.
            let codingStarted = ContinuousClock.now
            for record in batch {
                guard let key = record.keyString, let profile = state.profiles[key] else { continue }
                let stored = profile.jsonBytes()
                storedBytes += stored.count
                _ = try CustomerProfile(json: stored)
            }
            coding += ContinuousClock.now - codingStarted
        }
        print(
            "read \(timing.perRecord(timing.reading)) µs/record, process \(timing.perRecord(timing.processing)) µs/record, "
                + "profile encode+decode \(timing.perRecord(coding)) µs/record (\(storedBytes / records.count) bytes), "
                + "\(timing.outputBytes / records.count) bytes out per record")
    }

    /// Record `index` of the mix: half card payments, the rest profile updates, research, feedback
    /// in English and German, deposits, visits, bookings and cases, over the last 120 days.
    static func value(_ index: Int, customers: Int) -> String {
        let customer = "cust-\(index % customers)"
        let round = index / customers
        let dayMs: Int64 = 86_400_000
        let time = Timestamp(epochMilliseconds: 1_782_820_800_000 - Int64(120 - (round * 7 + index % 5) % 120) * dayMs).text
        let (type, data): (EventType, String)
        switch index % 20 {
        case 0..<10:
            let account = index % 20 < 8 ? "checking" : "savings"
            (type, data) = (.bankingTransactionPosted, #"{"accountId":"\#(account)-\#(customer)","accountType":"\#(account)","amount":-\#(index % 900 + 5).\#(index % 90 + 10),"currency":"EUR","balanceAfter":\#(4000 + index % 7000).25,"description":"Card payment"}"#)
        case 10:
            (type, data) = (.customerProfileUpdated, #"{"name":"Customer \#(index % customers)","birthYear":\#(1940 + index % 70),"locale":"de-DE","timeZone":"Europe/Berlin","tier":"gold","contact":{"email":"c\#(index % customers)@example.com","phone":"+4915112345678","device":"phone"},"consent":{"marketing":true}}"#)
        case 11, 12:
            (type, data) = (.engagementWebResearched, #"{"topic":"\#(["mortgage", "cd", "travel-insurance"][index % 3])"}"#)
        case 13:
            (type, data) = (.engagementFeedbackReceived, #"{"channel":"chat","text":"The app is very slow and the fees are not fair, but the staff were friendly"}"#)
        case 14:
            (type, data) = (.engagementFeedbackReceived, #"{"channel":"review","text":"Der Service war leider sehr schlecht und niemand hat geholfen","language":"de"}"#)
        case 15:
            (type, data) = (.bankingCheckDeposited, #"{"accountId":"checking-\#(customer)","depositId":"dep-\#(index)","amount":250.00,"currency":"EUR","via":"mobile"}"#)
        case 16:
            (type, data) = (.engagementGeoEntered, #"{"placeType":"branch","placeId":"branch-\#(index % 300)","lat":52.52,"lon":13.4}"#)
        case 17:
            let departure = Timestamp(epochMilliseconds: 1_782_820_800_000 + Int64(index % 30) * dayMs).text
            (type, data) = (.travelBookingConfirmed, #"{"bookingId":"bk-\#(index)","flight":"LH\#(index % 900)","origin":"FRA","destination":"JFK","departure":"\#(departure)"}"#)
        case 18:
            (type, data) = (.crmCaseOpened, #"{"caseId":"case-\#(customer)-\#(round)","topic":"fees"}"#)
        default:
            (type, data) = (.crmCaseResolved, #"{"caseId":"case-\#(customer)-\#(max(0, round - 1))"}"#)
        }
        return #"{"specversion":"1.0","id":"ev-\#(index)","source":"bench","type":"\#(type.rawValue)","time":"\#(time)","subject":"\#(customer)","datacontenttype":"application/json","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","data":\#(data)}"#
    }
}
