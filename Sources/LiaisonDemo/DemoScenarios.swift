/// One of the ten acceptance scenarios (`SCENARIOS.md`), as the demo names them: the report and the
/// live view group what happened by scenario, so every rule of the default pack has to belong to one.
public struct DemoScenario: Sendable, Equatable {
    /// 1 to 10, as numbered in `SCENARIOS.md`.
    public var number: Int
    public var title: String
    /// Ids of the default pack's rules (`schemas/rules/default.yaml`) that implement the scenario.
    /// Scenarios 9 and 10 have none: rendering, consent, quiet hours and erasure are the
    /// notifier's and every stage's business, not a rule's.
    public var rules: [String]

    public init(number: Int, title: String, rules: [String]) {
        self.number = number
        self.title = title
        self.rules = rules
    }

    /// The ten scenarios, in order.
    public static let all: [DemoScenario] = [
        DemoScenario(number: 1, title: "Surplus to a 30-day CD", rules: ["surplus-to-cd"]),
        DemoScenario(number: 2, title: "Mobile check deposit", rules: ["check-deposit-confirmation"]),
        DemoScenario(number: 3, title: "Advisor at the open house", rules: ["open-house-advisor-task", "open-house-advisor-push"]),
        DemoScenario(
            number: 4, title: "The 24-hour check-in reminder",
            rules: ["checkin-reminder", "checkin-reminder-cancel", "checkin-reminder-withdrawn"]),
        DemoScenario(number: 5, title: "Sense and respond", rules: ["negative-feedback-discount", "negative-feedback-agent-call"]),
        DemoScenario(number: 6, title: "Churn warning", rules: ["churn-warning-task", "churn-retention-offer"]),
        DemoScenario(number: 7, title: "Behaviour change", rules: ["behaviour-changed"]),
        DemoScenario(number: 8, title: "Records kept in sync", rules: ["invoice-paid-crm-update", "case-resolved-notice"]),
        DemoScenario(number: 9, title: "Omni-channel, not one size", rules: []),
        DemoScenario(number: 10, title: "Consent, quiet hours, erasure", rules: []),
    ]

    /// The scenario a rule of the default pack belongs to, or nil for a rule the demo does not
    /// know (a pack changed since), so the report can still list its actions apart.
    public static func scenario(forRule id: String) -> Int? {
        all.first { $0.rules.contains(id) }?.number
    }

    /// Rules whose actions go to the customer (service or marketing messages) rather than to an
    /// agent's desk or the CRM: only these are rendered per channel, locale, device and segment,
    /// and only these are held back by consent and quiet hours.
    static let customerFacingRules: Set<String> = [
        "surplus-to-cd", "check-deposit-confirmation", "open-house-advisor-push", "checkin-reminder",
        "negative-feedback-discount", "churn-retention-offer", "case-resolved-notice",
    ]
}
