import LiaisonSinks

extension AuditReconciler {
    /// The channels a sink stands in for.
    static let sinkChannels = ["email", "sms", "push", "webhook"]

    /// Check 4: each channel's `sent` receipts match the distinct messages the sinks took, so
    /// no customer got a message twice and none that was recorded as sent is missing.
    ///
    /// A message sent again under the same idempotency key or Message-ID is not a second
    /// message: the notifier does that by design when it cannot know whether an attempt
    /// arrived (its process died after the provider answered, or the answer timed out), and
    /// the provider keeps one message per key (mail systems recognise a repeated Message-ID).
    /// Such resends are counted and named, not discrepancies. A second message under a key of
    /// its own shows as a channel's count exceeding its receipts. Without a report (no
    /// `--sinks`) the check is skipped.
    public static func sinkDeliveries(_ report: SinkReport?, sentByChannel: [String: Int]) -> AuditCheck {
        var check = AuditCheck(name: "sink-deliveries", title: "each channel's sinks hold exactly the messages sent, once each")
        guard let report else {
            check.skippedBecause = "no sink report to read: pass --sinks with the URL of `liaison sinks`' HTTP port"
            return check
        }
        let httpDeliveries = Dictionary(report.http.map { ($0.channel, $0.deliveries) }, uniquingKeysWith: +)
        let resentKeys = report.http.reduce(0) { $0 + $1.duplicateKeys.count }
        let resentMail = report.mail?.duplicateMessageIDs.count ?? 0
        if resentKeys + resentMail > 0 {
            let named = (report.http.flatMap(\.duplicateKeys) + (report.mail?.duplicateMessageIDs ?? [])).prefix(5)
            check.notes.append(
                "\(resentKeys) messages were sent again under the same idempotency key and \(resentMail) under the same Message-ID "
                    + "(e.g. \(named.joined(separator: ", "))): resends after an attempt whose outcome the notifier could not know, "
                    + "which providers keep once per key and mail systems recognise by Message-ID; not discrepancies")
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
        check.add("http_resent_same_key", report.http.reduce(0) { $0 + $1.duplicates })
        check.add("email_resent_same_message_id", report.mail?.duplicates ?? 0)
        return check
    }
}
