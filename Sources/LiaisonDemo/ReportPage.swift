import Foundation

/// The report as one static page: inline CSS, no script, no fonts or images to fetch, so it
/// opens from a file on a machine with no network. The same report always gives the same bytes,
/// and every list appears in the model's order.
public func renderReportHTML(_ report: DemoReport) -> String {
    ReportPage(report: report).render()
}

/// The one escape for every model string on the page, in text and in attributes alike, because
/// customer ids, free-text feedback and dead letters' bytes come from upstream systems.
func escapeHTML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}

private struct ReportPage {
    let report: DemoReport
    /// Each channel's colour slot, the report's channel list first, so a channel keeps its colour
    /// in the chart, the chips and the breakdown.
    let channelSlots: [String: Int]
    let channelOrder: [String]

    init(report: DemoReport) {
        self.report = report
        var order: [String] = []
        for name in report.channels.map(\.name) + report.scenarios.flatMap({ $0.byChannel.map(\.name) }) where !order.contains(name) {
            order.append(name)
        }
        channelOrder = order
        channelSlots = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0 % Self.paletteSize) })
    }

    static let paletteSize = 8

    func render() -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Liaison demo report · \(escapeHTML(DemoTimestamp.minute(report.generatedAt)))</title>
        <style>\(Self.style)</style>
        </head>
        <body>
        \(header())
        <nav>\(navigation())</nav>
        <main>
        \(scenarioSection())
        \(deliverySection())
        \(pipelineSection())
        \(timelineSection())
        \(deadLetterSection())
        \(missedSection())
        </main>
        <footer>Written by <code>liaison demo</code> at \(time(report.generatedAt)). \
        The same data is in the JSON file next to this page.</footer>
        </body>
        </html>

        """
    }

    // MARK: Header

    private func header() -> String {
        let simulated = report.simulatedEnd.timeIntervalSince(report.simulatedStart)
        let facts: [(String, String)] = [
            ("Cluster", escapeHTML(report.cluster)),
            ("Simulated from", time(report.simulatedStart)),
            ("Simulated to", time(report.simulatedEnd)),
            ("Clock rate", "×\(DemoFormat.decimal(report.clockRate)) <small>(1 real second = \(DemoFormat.span(report.clockRate)) simulated)</small>"),
            ("Wall time", DemoFormat.span(report.wallSeconds)),
            ("Generated", time(report.generatedAt)),
        ]
        let metCount = report.scenarios.filter(\.met).count
        let allMet = metCount == report.scenarios.count
        let tiles: [(value: String, label: String, tone: String)] = [
            ("\(metCount)/\(report.scenarios.count)", "scenarios met", allMet ? "good" : "bad"),
            (DemoFormat.count(report.upstreamRecords), "upstream records", ""),
            (DemoFormat.count(report.customers), "customers", ""),
            (DemoFormat.count(report.channels.reduce(0) { $0 + $1.count }), "engagements sent", ""),
            (DemoFormat.count(report.scenarios.reduce(0) { $0 + $1.deferred }), "deferred", ""),
            (DemoFormat.count(report.missed.count), "missed", ""),
            (DemoFormat.count(report.deadLetters.reduce(0) { $0 + $1.count }), "dead letters", ""),
            (DemoFormat.count(report.alerts), "alerts", ""),
            (DemoFormat.count(report.sinks.duplicates), "duplicates", report.sinks.duplicates == 0 ? "good" : "bad"),
        ]
        let tileMarkup = tiles.map { tile in
            "<div class=\"\(tile.tone.isEmpty ? "tile" : "tile " + tile.tone)\"><b>\(tile.value)</b><span>\(tile.label)</span></div>"
        }
        return """
            <header>
            <h1>Liaison demo report</h1>
            <p class="lede">\(DemoFormat.count(report.upstreamRecords)) upstream records for \
            \(DemoFormat.count(report.customers)) customers, replayed through \(report.stages.count) stages over \
            \(DemoFormat.span(simulated)) of simulated time in \(DemoFormat.span(report.wallSeconds)).</p>
            <dl class="facts">\(facts.map { "<div><dt>\($0.0)</dt><dd>\($0.1)</dd></div>" }.joined())</dl>
            <div class="tiles">\(tileMarkup.joined())</div>
            </header>
            """
    }

    private func navigation() -> String {
        [
            ("scenarios", "Scenarios"), ("delivery", "Delivery"), ("pipeline", "Pipeline"), ("timelines", "Customer timelines"),
            ("dead-letters", "Dead letters"), ("missed", "Missed engagements"),
        ].map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined()
    }

    // MARK: Scenarios

    private func scenarioSection() -> String {
        let rows = report.scenarios.map { scenario in
            let verdict = scenario.met ? "<span class=\"mark met\">✓ met</span>" : "<span class=\"mark unmet\">✗ not met</span>"
            let rules = scenario.rules.map { "<code>\(escapeHTML($0))</code>" }.joined(separator: " ")
            let suppressedTotal = scenario.suppressed.reduce(0) { $0 + $1.count }
            let suppressed =
                scenario.suppressed.isEmpty
                ? "<span class=\"muted\">—</span>"
                : "<b>\(DemoFormat.count(suppressedTotal))</b> \(scenario.suppressed.map { chip($0, colored: false) }.joined())"
            return """
                <tr id="scenario-\(scenario.number)" class="\(scenario.met ? "met" : "unmet")">\
                <td class="num">\(scenario.number)</td>\
                <td><strong>\(escapeHTML(scenario.title))</strong>\(rules.isEmpty ? "" : "<div class=\"rules\">\(rules)</div>")</td>\
                <td class="num">\(DemoFormat.count(scenario.sent))</td>\
                <td>\(chips(scenario.byChannel, colored: true))</td>\
                <td class="num">\(DemoFormat.count(scenario.deferred))</td>\
                <td>\(suppressed)</td>\
                <td class="num">\(quiet(scenario.missed))</td>\
                <td class="num">\(quiet(scenario.failed))</td>\
                <td>\(verdict)<div class="expect">\(escapeHTML(scenario.expectation))</div>\(shortfalls(scenario))</td>\
                </tr>
                """
        }
        let scenarios = table(
            head: "<th class=\"num\">#</th><th>Scenario and rules</th><th class=\"num\">Sent</th><th>Channels</th><th class=\"num\">Deferred</th>"
                + "<th>Suppressed</th><th class=\"num\">Missed</th><th class=\"num\">Failed</th><th>Verdict and expectation</th>",
            rows: rows, none: "No scenarios were judged.")
        return """
            <section id="scenarios">
            <h2>Scenarios</h2>
            \(scenarios)
            \(chart())
            </section>
            """
    }

    /// Engagements per scenario as horizontal bars split by channel, drawn in SVG so the page
    /// needs no script or image file.
    private func chart() -> String {
        guard !report.scenarios.isEmpty else { return "" }
        let rowHeight = 30.0
        let labelWidth = 280.0
        let barSpace = 360.0
        let height = Double(report.scenarios.count) * rowHeight + 8
        let scale = barSpace / Double(max(report.scenarios.map(\.sent).max() ?? 0, 1))
        var rows: [String] = []
        for (index, scenario) in report.scenarios.enumerated() {
            let top = 4 + Double(index) * rowHeight
            let middle = number(top + rowHeight / 2)
            /// One bar segment of this row.
            func bar(_ style: String, from x: Double, length: Double) -> String {
                "<rect class=\"\(style)\" x=\"\(number(x))\" y=\"\(number(top + 6))\" width=\"\(number(length))\" height=\"\(number(rowHeight - 12))\"/>"
            }
            var bars = bar("track", from: labelWidth, length: barSpace)
            var x = labelWidth
            var left = scenario.sent
            for share in scenario.byChannel {
                let drawn = max(min(share.count, left), 0)
                guard drawn > 0 else { continue }
                left -= drawn
                bars += bar(slotClass(share.name), from: x, length: Double(drawn) * scale)
                x += Double(drawn) * scale
            }
            // Sent but not attributed to a channel, so the bar's length still matches the count.
            if left > 0 {
                bars += bar("rest", from: x, length: Double(left) * scale)
                x += Double(left) * scale
            }
            let split = scenario.byChannel.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
            let tooltip = "Scenario \(scenario.number): \(scenario.title), \(scenario.sent) sent" + (split.isEmpty ? "" : " (\(split))")
            let label = "\(scenario.number) · \(shortened(scenario.title, to: 36))"
            rows.append(
                "<g><title>\(escapeHTML(tooltip))</title>"
                    + "<text x=\"\(number(labelWidth - 10))\" y=\"\(middle)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(escapeHTML(label))</text>"
                    + bars
                    + "<text class=\"value\" x=\"\(number(x + 6))\" y=\"\(middle)\" dominant-baseline=\"middle\">\(DemoFormat.count(scenario.sent))</text></g>"
            )
        }
        let legend = channelOrder.map { "<span class=\"chip\"><i class=\"dot \(slotClass($0))\"></i>\(escapeHTML($0))</span>" }.joined()
        return """
            <figure class="card chart-card">
            <figcaption>Engagements sent per scenario, by channel</figcaption>
            <svg class="chart" viewBox="0 0 \(number(labelWidth + barSpace + 60)) \(number(height))" role="img" aria-label="Engagements sent per scenario">
            \(rows.joined(separator: "\n"))
            </svg>
            \(legend.isEmpty ? "" : "<div class=\"legend\">\(legend)</div>")
            </figure>
            """
    }

    // MARK: Delivery

    private func deliverySection() -> String {
        let sinks = report.sinks
        let sinkRows = [
            ("Emails", sinks.emails), ("SMS", sinks.sms), ("Push", sinks.push), ("Webhooks", sinks.webhooks),
            ("Kafka messages", sinks.kafkaMessages),
        ].map { "<tr><th>\($0.0)</th><td class=\"num\">\(DemoFormat.count($0.1))</td></tr>" }
        let tone = sinks.duplicates == 0 ? "good" : "bad"
        let duplicates = "<tr class=\"\(tone)\"><th>Duplicates</th><td class=\"num\"><b>\(DemoFormat.count(sinks.duplicates))</b></td></tr>"
        let verdict = sinks.duplicates == 0 ? "Every message arrived once." : "Some messages arrived more than once."
        return """
            <section id="delivery">
            <h2>Delivery</h2>
            <div class="cols">
            <div class="card"><h3>Channels</h3>\(breakdown(report.channels, colored: true, none: "Nothing was sent."))</div>
            <div class="card"><h3>Locales</h3>\(breakdown(report.locales, colored: false, none: "Nothing was sent."))</div>
            <div class="card"><h3>Sinks</h3><table class="sinks">\(sinkRows.joined())\(duplicates)</table>\
            <p class="\(tone)">\(verdict)</p></div>
            </div>
            </section>
            """
    }

    private func breakdown(_ counts: [Count], colored: Bool, none: String) -> String {
        guard !counts.isEmpty else { return empty(none) }
        let total = counts.reduce(0) { $0 + max($1.count, 0) }
        let rows = counts.map { entry in
            let share = total > 0 ? Double(max(entry.count, 0)) / Double(total) * 100 : 0
            let slot = colored ? " class=\"\(slotClass(entry.name))\"" : ""
            return "<tr><th>\(escapeHTML(entry.name))</th><td class=\"bar\"><div class=\"meter\"><span\(slot) style=\"width:\(number(share))%\"></span></div></td>"
                + "<td class=\"num\">\(DemoFormat.count(entry.count))</td><td class=\"num muted\">\(String(format: "%.0f", share))%</td></tr>"
        }
        return "<table class=\"breakdown\">\(rows.joined())</table>"
    }

    // MARK: Pipeline

    private func pipelineSection() -> String {
        let stages = report.stages.map { stage in
            """
            <li><span class="badge \(stageClass(stage.stage))">\(escapeHTML(stage.stage))</span><dl>\
            <dt>processed</dt><dd>\(DemoFormat.count(stage.processed))</dd>\
            <dt>emitted</dt><dd>\(DemoFormat.count(stage.emitted))</dd>\
            <dt>dead-lettered</dt><dd>\(DemoFormat.count(stage.deadLettered))</dd>\
            <dt>restarts</dt><dd\(stage.restarts > 0 ? " class=\"warn\"" : "")>\(DemoFormat.count(stage.restarts))</dd></dl></li>
            """
        }
        let outages = report.outages.map { outage in
            "<tr><td><span class=\"badge \(stageClass(outage.stage))\">\(escapeHTML(outage.stage))</span></td>"
                + "<td>\(time(outage.from))</td><td>\(time(outage.to))</td>"
                + "<td class=\"num\">\(DemoFormat.span(outage.to.timeIntervalSince(outage.from)))</td><td>\(escapeHTML(outage.how))</td></tr>"
        }
        let outageTable = table(
            head: "<th>Stage</th><th>Down from</th><th>Back at</th><th class=\"num\">Down for</th><th>How</th>", rows: outages,
            none: "No stage was taken down.")
        return """
            <section id="pipeline">
            <h2>Pipeline</h2>
            \(stages.isEmpty ? empty("No stage reported.") : "<ol class=\"pipeline\">\n\(stages.joined(separator: "\n"))\n</ol>")
            <h3>Outages</h3>
            \(outageTable)
            </section>
            """
    }

    // MARK: Timelines

    private func timelineSection() -> String {
        let timelines = report.timelines.map { timeline in
            let entries = timeline.entries.map { entry in
                "<li>\(time(entry.time))<span class=\"badge \(stageClass(entry.stage))\">\(escapeHTML(entry.stage))</span>"
                    + "<div><strong>\(escapeHTML(entry.what))</strong><p class=\"detail\">\(escapeHTML(entry.detail))</p></div></li>"
            }
            let count = timeline.entries.count == 1 ? "1 entry" : "\(DemoFormat.count(timeline.entries.count)) entries"
            return """
                <details class="timeline" open><summary><code>\(escapeHTML(timeline.customer))</code> \
                <span class="story">\(escapeHTML(timeline.story))</span> <span class="muted">· \(count)</span></summary>
                \(entries.isEmpty ? empty("Nothing happened for this customer.") : "<ol>\n\(entries.joined(separator: "\n"))\n</ol>")
                </details>
                """
        }
        return """
            <section id="timelines">
            <h2>Customer timelines</h2>
            \(timelines.isEmpty ? empty("No customer was followed.") : timelines.joined(separator: "\n"))
            </section>
            """
    }

    // MARK: Dead letters and missed engagements

    private func deadLetterSection() -> String {
        let rows = report.deadLetters.map { letter in
            "<tr><td><span class=\"badge \(stageClass(letter.stage))\">\(escapeHTML(letter.stage))</span></td>"
                + "<td>\(escapeHTML(letter.reason))</td><td class=\"num\">\(DemoFormat.count(letter.count))</td>"
                + "<td><code class=\"example\">\(escapeHTML(letter.example))</code></td></tr>"
        }
        let letters = table(
            head: "<th>Stage</th><th>Reason</th><th class=\"num\">Count</th><th>Example</th>", rows: rows, none: "No record was dead-lettered.")
        return """
            <section id="dead-letters">
            <h2>Dead letters</h2>
            \(letters)
            </section>
            """
    }

    private func missedSection() -> String {
        let rows = report.missed.map { missed in
            "<tr><td><code>\(escapeHTML(missed.actionID))</code></td><td><code>\(escapeHTML(missed.customer))</code></td>"
                + "<td>\(escapeHTML(missed.template))</td><td class=\"num\">\(missed.scenario.map { "<a href=\"#scenario-\($0)\">\($0)</a>" } ?? "—")</td>"
                + "<td>\(escapeHTML(missed.reason))</td><td>\(time(missed.at))</td></tr>"
        }
        let missed = table(
            head: "<th>Action</th><th>Customer</th><th>Template</th><th class=\"num\">Scenario</th><th>Reason</th><th>At</th>", rows: rows,
            none: "No engagement was missed.")
        return """
            <section id="missed">
            <h2>Missed engagements</h2>
            \(missed)
            </section>
            """
    }

    // MARK: Pieces

    /// A scrolling table, or a sentence saying the list is empty; `head` is the page's own markup.
    private func table(head: String, rows: [String], none: String) -> String {
        guard !rows.isEmpty else { return empty(none) }
        return "<div class=\"scroll\"><table>\n<thead><tr>\(head)</tr></thead>\n<tbody>\n\(rows.joined(separator: "\n"))\n</tbody>\n</table></div>"
    }

    private func chips(_ counts: [Count], colored: Bool) -> String {
        counts.isEmpty ? "<span class=\"muted\">—</span>" : counts.map { chip($0, colored: colored) }.joined()
    }

    private func shortfalls(_ scenario: ScenarioSummary) -> String {
        guard !scenario.shortfalls.isEmpty else { return "" }
        return "<ul class=\"shortfalls\">" + scenario.shortfalls.map { "<li>\(escapeHTML($0))</li>" }.joined() + "</ul>"
    }

    private func chip(_ entry: Count, colored: Bool) -> String {
        let dot = colored ? "<i class=\"dot \(slotClass(entry.name))\"></i>" : ""
        return "<span class=\"chip\">\(dot)\(escapeHTML(entry.name)) <b>\(DemoFormat.count(entry.count))</b></span>"
    }

    /// Zero in grey and anything else in full, so the cells that matter stand out.
    private func quiet(_ value: Int) -> String {
        value == 0 ? "<span class=\"muted\">0</span>" : "<b>\(DemoFormat.count(value))</b>"
    }

    private func time(_ date: Date) -> String {
        "<time datetime=\"\(escapeHTML(DemoTimestamp.iso8601(date)))\">\(escapeHTML(DemoTimestamp.minute(date)))</time>"
    }

    private func empty(_ sentence: String) -> String {
        "<p class=\"empty\">\(sentence)</p>"
    }

    private func slotClass(_ channel: String) -> String {
        "k\(channelSlots[channel] ?? 0)"
    }

    /// A fixed class per known stage, so a stage name from the model never lands in an attribute.
    private func stageClass(_ stage: String) -> String {
        switch stage.lowercased() {
        case "ingest": "st-ingest"
        case "enrich": "st-enrich"
        case "rules": "st-rules"
        case "notifier": "st-notifier"
        case "sink", "sinks": "st-sink"
        default: "st-other"
        }
    }

    private func shortened(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// SVG coordinates with one decimal, written the same on every machine.
    private func number(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    static let style = """
        :root{--bg:#f5f6f8;--card:#fff;--ink:#1c2230;--muted:#5d6677;--line:#e2e5eb;--accent:#3b5bdb;\
        --good:#17774a;--good-bg:#e3f4ea;--bad:#b42318;--bad-bg:#fdeceb;--warn:#9a6200;\
        --p0:#4e79a7;--p1:#f28e2b;--p2:#59a14f;--p3:#e15759;--p4:#76b7b2;--p5:#d4a72c;--p6:#b07aa1;--p7:#9c755f}
        @media (prefers-color-scheme:dark){:root{--bg:#11141a;--card:#1a1f28;--ink:#e5e8ee;--muted:#98a1b1;--line:#2b323e;\
        --accent:#8ea2fb;--good:#4ade80;--good-bg:#12301f;--bad:#f87171;--bad-bg:#3b1717;--warn:#fbbf24}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        header,nav,main,footer{max-width:1200px;margin:0 auto;padding:0 24px}
        header{padding-top:32px}
        h1{font-size:28px;margin:0 0 4px}
        h2{font-size:20px;margin:44px 0 14px;padding-bottom:6px;border-bottom:2px solid var(--line)}
        h3{font-size:13px;margin:18px 0 10px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
        .card h3{margin-top:0}
        .lede{color:var(--muted);margin:0 0 20px;font-size:16px}
        .facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:10px 24px;margin:0 0 22px}
        dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
        dd{margin:0;font-weight:600}
        small{color:var(--muted);font-weight:400}
        .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:12px}
        .tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
        .tile b{display:block;font-size:26px;line-height:1.2;font-variant-numeric:tabular-nums}
        .tile span{color:var(--muted);font-size:13px}
        .tile.good{background:var(--good-bg);border-color:var(--good)}.tile.good b{color:var(--good)}
        .tile.bad{background:var(--bad-bg);border-color:var(--bad)}.tile.bad b{color:var(--bad)}
        nav{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:22px;font-size:14px}
        nav a,td a{color:var(--accent);text-decoration:none}
        .card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin:0}
        .scroll{overflow-x:auto;border:1px solid var(--line);border-radius:10px}
        table{border-collapse:collapse;width:100%;background:var(--card)}
        th,td{text-align:left;vertical-align:top;padding:8px 10px;border-bottom:1px solid var(--line)}
        tr:last-child>th,tr:last-child>td{border-bottom:0}
        thead th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;white-space:nowrap}
        .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .muted{color:var(--muted)}
        tr.unmet>td{background:var(--bad-bg)}
        .rules{margin-top:4px}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:var(--bg);\
        padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}
        .chip{display:inline-flex;align-items:center;gap:5px;padding:1px 9px;margin:2px 4px 2px 0;border:1px solid var(--line);\
        border-radius:999px;font-size:13px;white-space:nowrap;background:var(--card)}
        .dot{display:inline-block;width:9px;height:9px;border-radius:50%;background:var(--k)}
        .k0{--k:var(--p0)}.k1{--k:var(--p1)}.k2{--k:var(--p2)}.k3{--k:var(--p3)}\
        .k4{--k:var(--p4)}.k5{--k:var(--p5)}.k6{--k:var(--p6)}.k7{--k:var(--p7)}
        .mark{display:inline-block;font-weight:700;padding:2px 10px;border-radius:6px;white-space:nowrap}
        .mark.met{color:var(--good);background:var(--good-bg)}
        .mark.unmet{color:var(--card);background:var(--bad)}
        .shortfalls{margin:4px 0 0;padding-left:18px;color:var(--bad);font-size:12px}
        .expect{color:var(--muted);font-size:13px;margin-top:6px;min-width:22ch;max-width:40ch}
        .chart-card{margin-top:16px}
        figcaption{font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;margin-bottom:8px}
        .chart{display:block;width:100%;height:auto}
        .chart text{fill:var(--ink);font-size:13px}
        .chart rect{fill:var(--k)}
        .chart .track{fill:var(--bg)}
        .chart .rest{fill:var(--muted)}
        .chart .value{font-weight:700}
        .legend{margin-top:8px}
        .cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
        .breakdown td.bar{width:45%;vertical-align:middle}
        .meter{height:8px;background:var(--bg);border-radius:4px;overflow:hidden}
        .meter span{display:block;height:100%;background:var(--k,var(--accent))}
        .sinks th{font-weight:600}
        p.good,p.bad{margin:10px 0 0;font-weight:600}
        p.good{color:var(--good)}p.bad{color:var(--bad)}
        .sinks tr.good td,.sinks tr.good th{color:var(--good);background:var(--good-bg)}
        .sinks tr.bad td,.sinks tr.bad th{color:var(--bad);background:var(--bad-bg)}
        .pipeline{list-style:none;display:flex;flex-wrap:wrap;gap:28px;padding:0;margin:0}
        .pipeline li{position:relative;flex:1 1 170px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px}
        .pipeline li+li::before{content:"→";position:absolute;left:-22px;top:12px;color:var(--muted);font-size:18px}
        .pipeline dl{display:grid;grid-template-columns:1fr auto;gap:2px 12px;margin:10px 0 0}
        .pipeline dt{text-transform:none;letter-spacing:0;font-size:13px}
        .pipeline dd{text-align:right;font-variant-numeric:tabular-nums}
        .warn{color:var(--warn);font-weight:700}
        .badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.05em;\
        padding:2px 8px;border-radius:4px;color:#fff;background:var(--s);white-space:nowrap;align-self:start}
        .st-ingest{--s:#3867a6}.st-enrich{--s:#2b8179}.st-rules{--s:#8250a0}.st-notifier{--s:#b85f0c}\
        .st-sink{--s:#2e7d46}.st-other{--s:#6b7280}
        .timeline{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:0 0 12px;padding:0 16px}
        .timeline summary{cursor:pointer;padding:12px 0;font-weight:600}
        .story{font-weight:400}
        .timeline ol{list-style:none;margin:0 0 16px 6px;padding:0 0 0 20px;border-left:2px solid var(--line)}
        .timeline li{position:relative;display:grid;grid-template-columns:150px 90px 1fr;gap:12px;padding:6px 0}
        .timeline li::before{content:"";position:absolute;left:-28px;top:12px;width:10px;height:10px;border-radius:50%;\
        background:var(--card);border:2px solid var(--accent)}
        time{color:var(--muted);font-size:13px;font-variant-numeric:tabular-nums;white-space:nowrap}
        .detail{margin:0;color:var(--muted);font-size:13px;overflow-wrap:anywhere}
        .example{display:block;max-width:60ch;white-space:pre-wrap}
        .empty{color:var(--muted);font-style:italic}
        footer{color:var(--muted);font-size:13px;padding-top:36px;padding-bottom:40px}
        @media (max-width:700px){.timeline li{grid-template-columns:1fr}}
        @media print{nav{display:none}.timeline,.card,tr{break-inside:avoid}}
        """
}
