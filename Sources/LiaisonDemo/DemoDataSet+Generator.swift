import Foundation

/// What a cast member's script makes happen downstream, so the scenario expectations are the sum
/// of what the data set was built to provoke rather than numbers kept by hand beside it.
struct Outcome {
    /// Rules whose actions for this customer must end `sent` in the live phase.
    var sent: [String] = []
    /// Rules whose actions must end `missed` with an alert.
    var missed: [String] = []
    /// Reasons an action of a rule is held back (suppressed, deferred or missed), as the first word
    /// of the decision's or receipt's reason.
    var reasons: [(rule: String, reason: String)] = []
    var scenarios: [Int] = []
}

/// Builds the whole data set; `DemoDataSet` only exposes what it made.
struct Generator {
    let customers: Int
    let seed: UInt64
    /// One member of each role per hundred customers, at least one.
    let scale: Int
    let historyStart: Int64
    let liveStart: Int64
    let liveEnd: Int64
    let rulesOutage: Range<Int64>
    let notifierOutage: Range<Int64>

    struct Output {
        var records: [UpstreamRecord]
        var cast: [DemoCastMember]
        var featured: [DemoCastMember]
        var expectations: [ScenarioExpectation]
    }

    init(customers: Int, seed: UInt64, timeline: DemoTimeline) {
        self.customers = customers
        self.seed = seed
        scale = max(1, customers / 100)
        historyStart = timeline.historyStart.epochSeconds
        liveStart = timeline.liveStart.epochSeconds
        liveEnd = timeline.liveEnd.epochSeconds
        rulesOutage = timeline.rulesOutage.lowerBound.epochSeconds..<timeline.rulesOutage.upperBound.epochSeconds
        notifierOutage = timeline.notifierOutage.lowerBound.epochSeconds..<timeline.notifierOutage.upperBound.epochSeconds
    }

    func run() -> Output {
        var castRandom = SplitMix64(seed: seed, stream: 0xCA57)
        let order = castRandom.shuffled(Array(0..<customers))
        var parts: [Int: (role: DemoRole, member: Int, ordinal: Int)] = [:]
        var slot = 0
        for role in DemoRole.allCases {
            for member in 0..<role.members(scale: scale, customers: customers) {
                parts[order[slot]] = (role, member, slot)
                slot += 1
            }
        }

        var records: [UpstreamRecord] = []
        var castMembers: [(ordinal: Int, member: DemoCastMember, outcome: Outcome)] = []
        var ordinary: [Persona] = []
        for index in 0..<customers {
            var random = SplitMix64(seed: seed, stream: UInt64(index) + 1)
            var persona = Persona.random(index: index, using: &random)
            var script = Script()
            if let part = parts[index] {
                persona = part.role.persona(from: persona, member: part.member, ordinal: part.ordinal, using: &random)
                let count = part.role.members(scale: scale, customers: customers)
                script = self.script(part.role, member: part.member, of: count, persona, using: &random)
            } else {
                script.options.extras = true
                script.options.mortgageResearch = true
                script.options.rotation = ordinary.count
                ordinary.append(persona)
            }
            records += write(persona, script, using: &random)
            if let part = parts[index] {
                var outcome = script.outcome
                outcome.scenarios = Array(Set(outcome.scenarios + Self.renderingScenario(persona, outcome))).sorted()
                let member = DemoCastMember(id: persona.id, role: part.role, scenarios: outcome.scenarios, story: script.story)
                castMembers.append((part.ordinal, member, outcome))
            }
        }
        var brokenRandom = SplitMix64(seed: seed, stream: 0xBAD)
        records += brokenRecords(victims: ordinary, using: &brokenRandom)

        let sorted = records.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        castMembers.sort { $0.ordinal < $1.ordinal }
        let cast = castMembers.map(\.member)
        let featured = DemoRole.featured.compactMap { role in cast.first { $0.role == role } }
        return Output(
            records: sorted, cast: cast, featured: featured,
            expectations: expectations(castMembers.map { ($0.member, $0.outcome) }))
    }

    // MARK: One customer's records

    /// A cast member's scripted plans, what they provoke, and how their ordinary life is trimmed
    /// so nothing else in it sets a rule off.
    struct Script {
        var plans: [Plan] = []
        var story = ""
        var outcome = Outcome()
        var options = BackgroundOptions()
    }

    /// Background and script merged, salaries settled against what was spent, balances run.
    private func write(_ persona: Persona, _ script: Script, using random: inout SplitMix64) -> [UpstreamRecord] {
        let pushToken = persona.device.map { _ in
            "fcm-" + (0..<2).map { _ in
                let hex = String(random.next(), radix: 16)
                return String(repeating: "0", count: 16 - hex.count) + hex
            }.joined()
        }
        var background = Background(generator: self, persona: persona, options: script.options)
        var plans = background.plans(using: &random) + script.plans
        plans.insert(Plan(time: historyStart, activity: .profile), at: 0)
        for index in plans.indices { plans[index].order = index }
        plans.sort { ($0.time, $0.order) < ($1.time, $1.order) }

        // Payroll covers what the month spent (within a percent), so after each payday the balance
        // is back at the customer's usual level: ordinary balances never hold a surplus that would
        // make a CD offer, and only the cast's bonuses and savings do.
        let target = background.settledBalance
        var spentSincePayday: Int64 = 0
        var opening: Int64?
        for index in plans.indices {
            switch plans[index].activity {
            case let .posting(.checking, cents, _) where cents < 0:
                spentSincePayday -= cents
            case .salary:
                let amount: Int64
                if opening == nil {
                    amount = background.firstSalary
                    opening = target - amount + spentSincePayday
                } else {
                    amount = spentSincePayday * Int64(random.int(9_900...10_100)) / 10_000
                }
                plans[index].activity = .posting(.checking, cents: amount, text: "Salary")
                spentSincePayday = 0
            default:
                break
            }
        }
        var writer = RecordWriter(
            persona: persona, pushToken: pushToken, openingChecking: opening ?? target, openingSavings: background.openingSavings)
        writer.write(plans)
        return writer.records
    }

    // MARK: Times

    /// Instants around the outages that short-lived actions must avoid (an action is worth 15
    /// minutes to an hour, and the pipeline takes about ten simulated minutes), so that only the
    /// customers meant to be hit by an outage are.
    func guarded(_ instant: Int64) -> Bool {
        let rules = (rulesOutage.lowerBound - 45 * Clock.minute)..<(rulesOutage.upperBound + 20 * Clock.minute)
        let notifier = (notifierOutage.lowerBound - 30 * Clock.minute)..<(notifierOutage.upperBound + 20 * Clock.minute)
        return rules.contains(instant) || notifier.contains(instant)
    }

    /// The first live instant at or after the local time `clock` (`HH:MM`) that is daytime for
    /// the customer (08:00 to 20:30), clear of the outages and early enough for what follows it.
    /// The live day begins at a different hour in every zone, so a preferred time may be moved.
    func daytime(_ home: Home, _ clock: String) -> Int64 {
        let earliest = liveStart + 45 * Clock.minute
        let latest = liveEnd - 30 * Clock.minute
        let fits = { (instant: Int64) -> Bool in
            let minute = Zones.localMinute(instant, in: home.zone)
            return minute >= 8 * 60 && minute <= 20 * 60 + 30 && !guarded(instant) && instant >= earliest && instant <= latest
        }
        var start = Zones.instant(localDay: Zones.localDay(earliest, in: home.zone), minuteOfDay: Self.minutes(clock), in: home.zone)
        if start < earliest { start += Clock.day }
        for from in [start, earliest] {
            var candidate = from
            while candidate <= latest {
                if fits(candidate) { return candidate }
                candidate += 15 * Clock.minute
            }
        }
        return earliest
    }

    /// The first live instant at the local time `clock` inside the customer's quiet hours, clear of
    /// the outages: for the messages that must wait for the morning.
    func night(_ home: Home, _ clock: String) -> Int64 {
        let earliest = liveStart + 30 * Clock.minute
        var instant = Zones.instant(localDay: Zones.localDay(earliest, in: home.zone), minuteOfDay: Self.minutes(clock), in: home.zone)
        if instant < earliest { instant += Clock.day }
        return instant < liveEnd - 30 * Clock.minute && !guarded(instant) ? instant : earliest
    }

    /// Local time `clock` on the day `days` before the live day, never before the history starts.
    func daysBefore(_ days: Int, _ home: Home, _ clock: String) -> Int64 {
        let day = Zones.localDay(liveStart, in: home.zone) - Int64(days)
        return max(historyStart + Clock.hour, Zones.instant(localDay: day, minuteOfDay: Self.minutes(clock), in: home.zone))
    }

    /// Member `member` of `count` spread evenly over `span` from `start`, on whole five minutes
    /// as times are written in stories.
    func spread(_ start: Int64, over span: Int64, member: Int, of count: Int) -> Int64 {
        let step = 5 * Clock.minute
        return (start + Int64(member) * span / Int64(count)) / step * step
    }

    /// Keeps a follow-up inside the live phase.
    func live(_ instant: Int64) -> Int64 {
        min(instant, liveEnd - 10 * Clock.minute)
    }

    /// `HH:MM` in the customer's zone, for stories.
    func local(_ instant: Int64, _ home: Home) -> String {
        Clock.clockText(minuteOfDay: Zones.localMinute(instant, in: home.zone))
    }

    static func minutes(_ clock: String) -> Int {
        let parts = clock.split(separator: ":").compactMap { Int($0) }
        return parts[0] * 60 + parts[1]
    }

    // MARK: Expectations

    private func expectations(_ cast: [(member: DemoCastMember, outcome: Outcome)]) -> [ScenarioExpectation] {
        DemoScenario.all.map { scenario in
            let number = scenario.number
            let members = cast.filter { $0.outcome.scenarios.contains(number) }
            let inScenario = { (rule: String) in DemoScenario.scenario(forRule: rule) == number }
            var minimumSent = 0
            var missed = false
            var reasons = Set(Self.historyReasons[number] ?? [])
            switch number {
            case 9:
                minimumSent = members.map { $0.outcome.sent.filter(DemoScenario.customerFacingRules.contains).count }.reduce(0, +)
            case 10:
                for member in members {
                    let held = member.outcome.reasons.filter { ["no_marketing_consent", "quiet_hours"].contains($0.reason) }
                    reasons.formUnion(held.map(\.reason))
                    minimumSent += held.filter { $0.reason == "quiet_hours" && member.outcome.sent.contains($0.rule) }.count
                    missed = missed || !member.outcome.missed.isEmpty
                }
            default:
                for member in members {
                    minimumSent += member.outcome.sent.filter(inScenario).count
                    missed = missed || member.outcome.missed.contains(where: inScenario)
                    reasons.formUnion(member.outcome.reasons.filter { inScenario($0.rule) }.map(\.reason))
                }
            }
            return ScenarioExpectation(
                scenario: number, minimumSent: minimumSent, expectsSuppressed: reasons.sorted(), expectsMissed: missed,
                description: Self.descriptions[number - 1], customers: members.map(\.member.id))
        }
    }

    /// Reasons the ordinary customers' history provokes: actions worth a day or two, decided while
    /// the history is replayed at the live start, are long expired.
    private static let historyReasons: [Int: [String]] = [2: ["expired"], 5: ["expired"], 8: ["expired"]]

    private static let descriptions = [
        "Bonuses and long-held savings leave balances far above the cash need of customers without a CD: an offer at the bonus "
            + "(one at night, deferred to the morning), none for the customer without consent, none again within 30 days or after a CD is opened.",
        "Mobile check deposits in the customers' daytime are confirmed at once; branch deposits are not; one deposited at night and "
            + "those deposited while the notifier is down cannot be confirmed within the hour and come back missed.",
        "Customers who researched mortgages in the last 30 days walk into open houses: an advisor task and a push (no push without "
            + "consent); no research or research too old gives nothing; one visit while the notifier is down is missed.",
        "Bookings schedule check-in reminders 24 h before departure in the airport's offset: some fall due while the rules stage is "
            + "down and fire late, one flight is rescheduled, one booking cancelled, one reminder waits out the night.",
        "Negative feedback in English and German and low ratings earn a discount, and gold and platinum customers an agent's call; "
            + "positive feedback earns nothing; a second complaint within 30 days is held back by the cooldown.",
        "Customers whose recent feedback turned negative, with a case open for weeks and activity that stopped two weeks ago, cross "
            + "the churn threshold: a warning task for the account manager and a retention offer.",
        "Spending far above the 90-day baseline (a car paid from savings, a large transfer into a CD) and activity that stopped "
            + "send behaviour.changed to the CRM, once a week at most.",
        "Invoices paid in the ERP become CRM status updates (history ones too); CRM cases resolved through the Debezium feed notify "
            + "their customers, one in the middle of the night and so in the morning.",
        "The cast spans en-US, en-GB, de-DE and zh-CN, phones and tablets, app, email-only and SMS-only customers and every "
            + "generation, so the same templates render for push, email, SMS, inbox and agent tasks in en, de and zh.",
        "Offers to customers without marketing consent are suppressed; messages due in local quiet hours are deferred and sent "
            + "when the window opens; erased customers get nothing after their erasure request, not even a pending reminder.",
    ]
}
