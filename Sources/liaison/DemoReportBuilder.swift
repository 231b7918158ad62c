import Foundation
import LiaisonDemo
import LiaisonSchema
import LiaisonSinks

/// Turns what the demo observed into the report: per scenario, what was sent, deferred,
/// suppressed and missed, judged against what the data set was built to show.
struct DemoReportBuilder {
    let data: DemoDataSet
    let timeline: DemoTimeline
    let tally: DemoTally
    let decisions: [FleetFiles.Decision]
    let files: FleetFiles
    let restarts: [String: Int]
    let outages: [Outage]
    let http: HTTPSink
    let smtp: SMTPSink
    let cluster: String
    let rate: Double
    let wallSeconds: Double

    func report() -> DemoReport {
        let finals = tally.finalReceipts
        let sent = finals.filter { $0.status == .sent }
        return DemoReport(
            generatedAt: Date(), cluster: cluster, simulatedStart: timeline.historyStart, simulatedEnd: timeline.liveEnd,
            clockRate: rate, wallSeconds: wallSeconds, customers: data.customerCount, upstreamRecords: data.records.count,
            stages: stages(), scenarios: DemoScenario.all.map(summary),
            channels: counted(sent.map { $0.channel ?? "unknown" }),
            locales: counted(sent.map { tally.actions[$0.actionId]?.locale ?? "unknown" }),
            timelines: data.featuredCustomers.map { timeline(of: $0.id, story: $0.story) },
            deadLetters: tally.deadLetters.sorted { $0.key < $1.key }.flatMap { stage, reasons in
                reasons.sorted { $0.key < $1.key }.map { DeadLetterSummary(stage: stage, reason: $0.key, count: $0.value.count, example: $0.value.example) }
            },
            missed: finals.filter { $0.status == .missed }.map { receipt in
                MissedEngagement(
                    actionID: receipt.actionId, customer: receipt.customerId, template: receipt.template ?? "",
                    scenario: receipt.ruleId.flatMap(DemoScenario.scenario(forRule:)), reason: receipt.reason ?? "", at: receipt.at.date)
            },
            alerts: tally.alerts, sinks: sinkTotals(), outages: outages)
    }

    private func stages() -> [StageSummary] {
        let letters = { (stage: String) in tally.deadLetters[stage]?.values.reduce(0) { $0 + $1.count } ?? 0 }
        let receipts = tally.receipts.values.reduce(0) { $0 + $1.count }
        return ["ingest", "enrich", "rules", "notifier"].map { stage in
            let counts = files.ledgerCounts(of: stage)
            let emitted: Int
            switch stage {
            case "rules": emitted = tally.actionOrder.count
            case "notifier": emitted = receipts
            default: emitted = counts.processed - counts.rejected
            }
            return StageSummary(
                stage: stage, processed: counts.processed, emitted: emitted, deadLettered: letters(stage), restarts: restarts[stage] ?? 0)
        }
    }

    private func summary(_ scenario: DemoScenario) -> ScenarioSummary {
        let expectation = data.expectations.first { $0.scenario == scenario.number }
        let actions: [String]
        switch scenario.number {
        case 9, 10: actions = tally.actionOrder.filter { tally.actions[$0]?.kind == .engage }
        default: actions = tally.actionOrder.filter { scenario.rules.contains(tally.actions[$0]?.rule ?? "") }
        }
        let finals = actions.compactMap { tally.finalReceipt(of: $0) }
        let deferred = actions.filter { tally.wasDeferred($0) }
        var suppressed = finals.filter { $0.status == .suppressed }.map { $0.reason ?? "unknown" }
        suppressed += decisions.filter { $0.outcome == "suppressed" && scenario.rules.contains($0.rule) }.map { $0.reason ?? "unknown" }
        var sent = finals.filter { $0.status == .sent }
        if scenario.number == 10 {
            sent = deferred.compactMap { tally.finalReceipt(of: $0) }.filter { $0.status == .sent }
        }
        let missed = finals.filter { $0.status == .missed }.count
        var shortfalls: [String] = []
        if let expectation {
            if sent.count < expectation.minimumSent {
                shortfalls.append("\(sent.count) sent, the script has at least \(expectation.minimumSent)")
            }
            let heldOrMissed = actions.flatMap { tally.receipts[$0] ?? [] }.filter { $0.status == .deferred || $0.status == .missed }
            let reasons = Set(suppressed + heldOrMissed.compactMap(\.reason))
            for wanted in expectation.expectsSuppressed where !reasons.contains(where: { $0.contains(wanted) }) {
                shortfalls.append("nothing held back for \(wanted)")
            }
            if expectation.expectsMissed, missed == 0 { shortfalls.append("nothing missed, the script has a missed engagement") }
            if scenario.number == 9, Set(sent.compactMap(\.channel)).count < 3 { shortfalls.append("fewer than three channels used") }
        } else if sent.isEmpty {
            shortfalls.append("nothing sent")
        }
        return ScenarioSummary(
            number: scenario.number, title: scenario.title, rules: scenario.rules, sent: sent.count,
            byChannel: counted(sent.map { $0.channel ?? "unknown" }), deferred: deferred.count, suppressed: counted(suppressed),
            missed: missed, failed: finals.filter { $0.status == .failed }.count,
            expectation: expectation?.description ?? "at least one engagement", shortfalls: shortfalls)
    }

    private func timeline(of customer: String, story: String) -> CustomerTimeline {
        var entries: [TimelineEntry] = []
        for record in data.records where record.customer == customer {
            guard record.time >= timeline.liveStart || record.type != "banking.transaction.posted" else { continue }
            entries.append(TimelineEntry(time: record.time, stage: "ingest", what: record.type ?? "unreadable record", detail: "\(record.topic) · \(record.id)"))
        }
        for decision in decisions where decision.customer == customer {
            entries.append(TimelineEntry(time: decision.at, stage: "rules", what: "\(decision.rule): \(decision.outcome)", detail: decision.reason ?? ""))
        }
        for id in tally.actionOrder {
            guard let action = tally.actions[id], action.customer == customer else { continue }
            entries.append(TimelineEntry(time: action.createdAt, stage: "rules", what: "action \(action.template)", detail: id))
            for receipt in tally.receipts[id] ?? [] {
                var detail = receipt.reason ?? ""
                if let until = receipt.deferredUntil { detail = "until \(until.text)" }
                entries.append(TimelineEntry(
                    time: receipt.at.date, stage: "notifier", what: [receipt.status.rawValue, receipt.channel].compactMap { $0 }.joined(separator: " via "),
                    detail: detail.isEmpty ? receipt.actionId : detail))
            }
        }
        entries.sort { $0.time < $1.time }
        return CustomerTimeline(customer: customer, story: story, entries: Array(entries.suffix(40)))
    }

    private func sinkTotals() -> SinkTotals {
        let keys = { (path: String) in
            Set(http.requests(path: path).compactMap { request in
                request.headers.first { ["idempotency-key", "webhook-id"].contains($0.name.lowercased()) }?.value
            }).count
        }
        return SinkTotals(
            emails: smtp.acceptedCount, sms: keys("/sms"), push: keys("/push"), webhooks: keys("/webhook"),
            kafkaMessages: tally.kafkaChannelMessages, duplicates: smtp.duplicateCount)
    }
}

/// Counts per name, most first, then by name, so the report reads the same every run.
func counted(_ names: [String]) -> [Count] {
    Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
        .sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        .map { Count(name: $0.key, count: $0.value) }
}
