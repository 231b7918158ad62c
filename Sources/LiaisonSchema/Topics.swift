/// The topics the fleet talks over. Every record is keyed by customer id.
public enum LiaisonTopics {
    public static let events = "liaison.events.v1"
    public static let enriched = "liaison.enriched.v1"
    public static let actions = "liaison.actions.v1"
    public static let deliveries = "liaison.deliveries.v1"
    public static let deadLetters = DeadLetterV1.topic
    public static let alerts = EngagementAlertV1.topic
    public static let agentTasks = "liaison.agent-tasks.v1"
    public static let crmUpdates = "liaison.crm-updates.v1"
    public static let inbox = "liaison.inbox.v1"

    public static let all = [events, enriched, actions, deliveries, deadLetters, alerts, agentTasks, crmUpdates, inbox]
}
