import Foundation

/// One record as an upstream system publishes it, with what the demo needs to replay and trace it.
public struct UpstreamRecord: Sendable, Equatable {
    public var topic: String
    /// The Kafka key: the customer id for CloudEvents and ERP records (the contract), the row's
    /// primary key for Debezium changes (what a connector really sends).
    public var key: [UInt8]?
    public var value: [UInt8]
    /// When it is published, on the simulated clock. Equal to the event's own time, so ingest's
    /// future-timestamp check sees what it would see in production.
    public var time: Date
    /// The upstream id (the CloudEvents `id`, or the id ingest derives for a Debezium or ERP
    /// record), so the report can follow one record through the stages.
    public var id: String
    /// The customer the record is about, when it names one.
    public var customer: String?
    /// The record type ingest makes of it; nil when no event results (deliberately broken
    /// records and changes the topic's mapping ignores).
    public var type: String?
    /// How ingest must end it, so tests and the report can tell a bug from an intended rejection.
    public var expected: IngestExpectation

    public init(
        topic: String, key: [UInt8]?, value: [UInt8], time: Date, id: String, customer: String?, type: String?,
        expected: IngestExpectation
    ) {
        self.topic = topic
        self.key = key
        self.value = value
        self.time = time
        self.id = id
        self.customer = customer
        self.type = type
        self.expected = expected
    }
}

/// What ingest is meant to make of an upstream record.
public enum IngestExpectation: Sendable, Equatable {
    /// A canonical event on `liaison.events.v1`.
    case event
    /// A ledger verdict `ignored`: a change the topic's mapping deliberately skips.
    case ignored
    /// A dead letter with this reason code (see `schemas/README.md`).
    case deadLetter(reason: String)
}

/// The demo's simulated time: weeks of history published at once, then a live day in which the
/// stages are killed and restarted, so the report can show what history, outages and quiet hours do.
public struct DemoTimeline: Sendable, Equatable {
    public var historyStart: Date
    public var liveStart: Date
    public var liveEnd: Date
    /// The rules stage is down: check-in reminders due in it must fire late, still valid.
    public var rulesOutage: Range<Date>
    /// The notifier is down: short-lived actions arriving in it come back `missed`.
    public var notifierOutage: Range<Date>

    public init(historyStart: Date, liveStart: Date, liveEnd: Date, rulesOutage: Range<Date>, notifierOutage: Range<Date>) {
        self.historyStart = historyStart
        self.liveStart = liveStart
        self.liveEnd = liveEnd
        self.rulesOutage = rulesOutage
        self.notifierOutage = notifierOutage
    }

    /// A Monday in November, when no customer's zone changes its offset during the live day:
    /// live from 2026-11-16T06:00Z for 20 hours after 90 days of history, rules down from +5 h
    /// to +7 h 30 min, the notifier from +12 h to +14 h.
    public static let standard: DemoTimeline = {
        let live = Date(timeIntervalSince1970: TimeInterval(Clock.epochSeconds(year: 2026, month: 11, day: 16, hour: 6)))
        let hour: TimeInterval = 3_600
        return DemoTimeline(
            historyStart: live.addingTimeInterval(-90 * 24 * hour), liveStart: live, liveEnd: live.addingTimeInterval(20 * hour),
            rulesOutage: live.addingTimeInterval(5 * hour)..<live.addingTimeInterval(7.5 * hour),
            notifierOutage: live.addingTimeInterval(12 * hour)..<live.addingTimeInterval(14 * hour))
    }()
}

/// A customer with a part in the demo's scenarios: who they are, what they do and why.
public struct DemoCastMember: Sendable, Equatable {
    public var id: String
    public var role: DemoRole
    /// The scenarios this customer exercises (a churn warning also brings a feedback discount
    /// and a behaviour change, so a member may have several).
    public var scenarios: [Int]
    /// One line for the report, with the local times of what happens.
    public var story: String
}

/// What the data set provokes for one scenario, so the report can say whether the run did it.
public struct ScenarioExpectation: Sendable, Equatable {
    public var scenario: Int
    /// At least this many of the scenario's actions end `sent` during the live phase (for 9:
    /// customer-facing messages to members with a non-English locale, a tablet or a single
    /// channel; for 10: messages sent once the customer's quiet hours ended).
    public var minimumSent: Int
    /// Reasons (the first word of a decision's or a receipt's reason) the data set provokes
    /// among the scenario's actions that were not simply sent: `expired`, `cooldown`,
    /// `no_marketing_consent`, `quiet_hours`.
    public var expectsSuppressed: [String]
    /// Whether some of the scenario's actions must end `missed` with an alert.
    public var expectsMissed: Bool
    public var description: String
    /// The customers cast in the scenario.
    public var customers: [String]
}

/// The demo's upstream data: every record the demo publishes, generated from a seed so the same
/// seed gives the same bytes, with the cast of customers whose stories the report tells and what
/// each scenario should show.
public struct DemoDataSet: Sendable {
    /// Fewer customers cannot hold one member of every role and still leave ordinary customers.
    public static let minimumCustomers = 50

    public let customerCount: Int
    public let seed: UInt64
    public let timeline: DemoTimeline
    /// Sorted by time; records with equal times keep the order they were generated in.
    public let records: [UpstreamRecord]
    /// Every upstream topic the records use, sorted.
    public let topics: [String]
    /// Every customer with a part in a scenario.
    public let cast: [DemoCastMember]
    /// The few cast members whose timelines the report shows, one or more scenarios each.
    public let featuredCustomers: [DemoCastMember]
    /// One per scenario, 1 to 10.
    public let expectations: [ScenarioExpectation]

    /// Generates the data set. `customers` scales the cast (one member of each role per 100
    /// customers, at least one) and the ordinary customers around it; it must be at least
    /// `minimumCustomers`.
    public init(customers: Int = 300, seed: UInt64 = 2026, timeline: DemoTimeline = .standard) {
        precondition(customers >= Self.minimumCustomers, "the demo needs at least \(Self.minimumCustomers) customers, not \(customers)")
        customerCount = customers
        self.seed = seed
        self.timeline = timeline
        let generated = Generator(customers: customers, seed: seed, timeline: timeline).run()
        records = generated.records
        topics = Array(Set(generated.records.map(\.topic))).sorted()
        cast = generated.cast
        featuredCustomers = generated.featured
        expectations = generated.expectations
    }
}
