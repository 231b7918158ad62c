import LiaisonSinks

extension AuditReconciler {
    /// The channels a sink stands in for.
    static let sinkChannels = ["email", "sms", "push", "webhook"]

    /// Check 4: no message reached a provider twice, and each channel's `sent` receipts match the
    /// distinct messages the sinks took. Without a report (no `--sinks`) the check is skipped.
    public static func sinkDeliveries(_ report: SinkReport?, sentByChannel: [String: Int]) -> AuditCheck {
        var check = AuditCheck(name: "sink-deliveries", title: "no delivery happened twice at the sinks, and the sinks hold what was sent")
        guard let report else {
            check.skippedBecause = "no sink report to read: pass --sinks with the URL of `liaison sinks`' HTTP port"
            return check
        }
        let httpDeliveries = Dictionary(report.http.map { ($0.channel, $0.deliveries) }, uniquingKeysWith: +)
        for path in report.http {
            for key in path.duplicateKeys {
                check.discrepancies.append(Discrepancy(
                    kind: "sink-duplicate", stage: "notifier", id: key,
                    detail: "the HTTP sink accepted this idempotency key on \(path.path) more than once: the same \(path.channel) message sent twice"))
            }
        }
        for messageID in report.mail?.duplicateMessageIDs ?? [] {
            check.discrepancies.append(Discrepancy(
                kind: "sink-duplicate", stage: "notifier", id: messageID,
                detail: "the SMTP sink took this Message-ID more than once: the same email sent twice"))
        }
        if report.mail == nil { check.notes.append("the report has no SMTP sink: email was not cross-checked") }
        for channel in sinkChannels {
            let sent = sentByChannel[channel, default: 0]
            check.add("sent_receipts_\(channel)", sent)
            guard let taken = channel == "email" ? report.mail?.distinct : httpDeliveries[channel, default: 0] else { continue }
            check.add("sink_deliveries_\(channel)", taken)
            if sent != taken {
                check.discrepancies.append(Discrepancy(
                    kind: "channel-count-mismatch", stage: "notifier", id: channel,
                    detail: "\(sent) actions have a sent receipt for \(channel), but the sinks hold \(taken) distinct \(channel) messages "
                        + "(a sink restarted or shared with another run also shows as this)"))
            }
        }
        check.add("http_duplicates", report.http.reduce(0) { $0 + $1.duplicates })
        check.add("email_duplicates", report.mail?.duplicates ?? 0)
        return check
    }
}
