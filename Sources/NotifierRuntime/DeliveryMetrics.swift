import Metrics
import Notifier

/// What ops watch on the notifier: deliveries by channel and final status, provider attempts by
/// outcome and duration, and how many messages are in flight. Missed engagements show as
/// records produced to the alert topic (`liaison_records_produced_total`).
struct DeliveryMetrics: Sendable {
    let inFlight = Gauge(label: "liaison_deliveries_in_flight")

    func attempt(_ channel: Channel, outcome: String, seconds: Duration) {
        Counter(label: "liaison_delivery_attempts_total", dimensions: [("channel", channel.rawValue), ("outcome", outcome)]).increment()
        if outcome != "circuit_open" {
            Metrics.Timer(label: "liaison_delivery_duration_seconds", dimensions: [("channel", channel.rawValue)]).record(duration: seconds)
        }
    }

    func settled(_ settlement: Settlement) {
        guard let status = settlement.status else { return }
        Counter(label: "liaison_deliveries_total", dimensions: [
            ("channel", settlement.channel?.rawValue ?? "none"), ("status", status.rawValue),
        ]).increment()
    }
}
