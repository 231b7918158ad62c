import Foundation

extension AuditReport {
    /// The report as a terminal shows it: the verdict, then per check its outcome, counts, notes
    /// and every discrepancy, one a line.
    public var text: String {
        var lines = [
            passed
                ? "audit passed: no discrepancies in \(checks.count) checks"
                : "audit FAILED: \(discrepancyCount) \(discrepancyCount == 1 ? "discrepancy" : "discrepancies")"
        ]
        for check in checks {
            lines.append("")
            lines.append("\(check.name): \(check.outcome.rawValue) — \(check.title)")
            if let reason = check.skippedBecause { lines.append("  skipped: \(reason)") }
            for count in check.counts {
                let label = count.name.replacingOccurrences(of: "_", with: " ")
                lines.append("  " + label.padding(toLength: 34, withPad: " ", startingAt: 0) + " \(count.value)")
            }
            for note in check.notes { lines.append("  note: \(note)") }
            for discrepancy in check.discrepancies { lines.append("  " + discrepancy.line) }
        }
        return lines.joined(separator: "\n")
    }
}

extension Discrepancy {
    /// `kind [stage] topic/partition@offset id: detail`.
    public var line: String {
        "\(kind) [\(stage)]" + (position.map { " \($0)" } ?? "") + (id.map { " \($0)" } ?? "") + ": \(detail)"
    }
}
