import LiaisonSchema

/// How a customer's ordinary life is shaped around their part in a scenario.
struct BackgroundOptions {
    /// Cases, invoices, bookings, feedback, products and profile changes: only for customers
    /// without a part, whose own events must not set the scenarios' rules off.
    var extras = false
    /// The customer's position among the customers without a part, which decides (by simple
    /// rotation, so even 60 customers get each) which extras they have.
    var rotation = 0
    /// Two purchases every day and nothing else: a baseline steady enough that stopping shows.
    var regularHabits = false
    /// No activity of their own from this instant on: the customer has gone quiet.
    var silentFrom: Int64?
    /// Ordinary checking postings in the live phase; off where a balance must be exactly what
    /// the script makes it.
    var liveChecking = true
    /// No checking postings from this instant until the live phase, so a surplus held for
    /// months is acted on in the live phase and not in the last hours of history.
    var checkingPauseFrom: Int64?
    /// Whether ordinary research may be about mortgages: not for the cast, so that only the
    /// open-house roles' own research decides whether an advisor is called.
    var mortgageResearch = false
    /// A savings account holding this much, in cents.
    var savings: Int64?
    /// The checking balance right after payday, in cents, for a customer who keeps far more
    /// than they spend.
    var settledBalance: Int64?
}

/// A customer's ordinary 90 days: salary, rent, card purchases, transfers, deposits, research,
/// branch visits and, for customers without a part, the occasional case, invoice, trip,
/// feedback or new product.
struct Background {
    let generator: Generator
    let persona: Persona
    let options: BackgroundOptions
    /// The first month's salary; later ones cover what the month spent.
    private(set) var firstSalary: Int64 = 0
    /// The checking balance after each payday.
    private(set) var settledBalance: Int64 = 0
    private(set) var openingSavings: Int64 = 0

    init(generator: Generator, persona: Persona, options: BackgroundOptions) {
        self.generator = generator
        self.persona = persona
        self.options = options
    }

    /// Card purchases: what, and how much in cents. The ranges keep a month's spending near
    /// its expected value, which the salary follows.
    private static let purchases: [(String, ClosedRange<Int64>)] = [
        ("Grocery", 1_200...14_000), ("Coffee shop", 300...900), ("Restaurant", 1_800...9_500), ("Public transport", 250...1_500),
        ("Fuel", 3_000...8_500), ("Pharmacy", 600...4_500), ("Online retail", 1_500...18_000), ("Streaming service", 999...1_799),
        ("Bookshop", 800...4_000), ("Department store", 2_500...22_000),
    ]
    private static let meanPurchase: Int64 = 4_700

    private static let researchTopics = [
        "cd", "travel-insurance", "credit-card", "savings", "auto-loan", "retirement", "home-insurance", "student-loan", "mortgage",
    ]

    /// The customer's ordinary plans, kept to the data set's span and the options' quiet spells.
    /// Also settles the amounts the salaries and balances start from.
    mutating func plans(using random: inout SplitMix64) -> [Plan] {
        let payday = random.pick([1, 15, 25, 28])
        let rentDay = random.pick([1, 2, 3, 5])
        let rent = random.cents(60_000...150_000)
        let purchasesPerDay = options.regularHabits ? 2 : 0.5 + random.unit() * 0.7
        let hasSavings = options.savings != nil || (options.extras && options.rotation % 3 == 0)
        openingSavings = options.savings ?? (hasSavings ? random.cents(200_000...1_500_000) : 0)
        let savingsTransfer = hasSavings ? random.cents(10_000...30_000) : 0
        firstSalary = rent + Int64(purchasesPerDay * 30) * (options.regularHabits ? 1_200 : Self.meanPurchase) + savingsTransfer
        // After payday the balance is back here: a little over a month's spending, and below the
        // CD offer's threshold even with no cash need at all.
        settledBalance = options.settledBalance ?? min(470_000, firstSalary * Int64(random.int(120...135)) / 100 + 20_000)

        var plans: [Plan] = []
        let zone = persona.zone
        let firstDay = Zones.localDay(generator.historyStart, in: zone)
        let lastDay = Zones.localDay(generator.liveEnd, in: zone)
        for day in firstDay...lastDay {
            let date = CivilCalendar.date(days: day)
            func at(_ minute: Int) -> Int64 { Zones.instant(localDay: day, minuteOfDay: minute, in: zone) }
            func spend(_ minute: Int, _ cents: Int64, _ text: String) {
                plans.append(Plan(time: at(minute), activity: .posting(.checking, cents: -cents, text: text)))
            }
            if date.day == payday { plans.append(Plan(time: at(6 * 60 + random.int(0...50)), activity: .salary)) }
            if date.day == rentDay { spend(7 * 60 + random.int(0...50), rent, "Rent") }
            if savingsTransfer > 0, date.day == 16 {
                let time = at(8 * 60 + random.int(0...30))
                plans.append(Plan(time: time, activity: .posting(.checking, cents: -savingsTransfer, text: "Transfer to savings")))
                plans.append(Plan(time: time, activity: .posting(.savings, cents: savingsTransfer, text: "Transfer from checking")))
            }
            if options.regularHabits {
                spend(8 * 60 + random.int(0...50), random.cents(350...680), "Coffee shop")
                spend(12 * 60 + random.int(0...80), random.cents(900...1_800), "Restaurant")
                continue
            }
            for _ in 0..<random.poisson(purchasesPerDay) {
                let (text, range) = random.pick(Self.purchases)
                spend(random.int(7 * 60 + 30...21 * 60 + 30), random.cents(range), text)
            }
            for _ in 0..<random.poisson(0.06) {
                let topics = options.mortgageResearch ? Self.researchTopics : Self.researchTopics.filter { $0 != "mortgage" }
                plans.append(Plan(time: at(random.int(8 * 60...23 * 60)), activity: .research(random.pick(topics))))
            }
            if random.chance(0.035) {
                let centre = persona.home.centre
                plans.append(Plan(time: at(random.int(9 * 60...17 * 60)), activity: .geo(
                    type: "branch", place: "branch-\(persona.home.airport.code.lowercased())-\(random.int(1...12))",
                    lat: centre.lat + random.unit() * 0.08 - 0.04, lon: centre.lon + random.unit() * 0.08 - 0.04)))
            }
        }
        if !options.regularHabits { plans += deposits(using: &random) }
        if options.extras { plans += extras(using: &random) }
        return plans.filter(keep)
    }

    /// History only, well before the live start, so none is still worth confirming when the
    /// history is replayed there; the first always with the app.
    private func deposits(using random: inout SplitMix64) -> [Plan] {
        (0..<random.int(1...3)).map { index in
            let time = generator.daysBefore(random.int(3...85), persona.home, Clock.clockText(minuteOfDay: random.int(9 * 60...19 * 60)))
            let via = index == 0 || random.chance(0.65) ? "mobile" : "branch"
            return Plan(time: time, activity: .deposit(via: via, cents: random.cents(5_000...250_000)))
        }
    }

    /// What ordinary customers have now and then, by rotation over their position so that every
    /// kind occurs however few customers there are. Nothing here sets a rule off in the live
    /// phase: cases are resolved or young, negative feedback is old, departures come after it.
    private func extras(using random: inout SplitMix64) -> [Plan] {
        var plans: [Plan] = []
        let home = persona.home
        let rotation = options.rotation
        let number = persona.number
        func someday(_ range: ClosedRange<Int>) -> Int64 {
            generator.daysBefore(random.int(range), home, Clock.clockText(minuteOfDay: random.int(9 * 60...18 * 60)))
        }
        if rotation % 4 == 0 {
            let id = 100_000 + persona.index * 10
            let opened = someday(12...80)
            let topic = random.pick(["card-replacement", "statement-query", "address-change", "fee-question"])
            plans.append(Plan(time: opened, activity: .caseOpened(id: id, topic: topic, severity: "low")))
            plans.append(Plan(time: opened + Clock.day, activity: .caseStatus(id: id, status: "in_progress")))
            plans.append(Plan(time: opened + Int64(random.int(2...6)) * Clock.day, activity: .caseStatus(id: id, status: "resolved")))
        }
        if rotation % 20 == 9 {
            let id = 100_000 + persona.index * 10 + 1
            plans.append(Plan(time: someday(1...5), activity: .caseOpened(id: id, topic: "card-replacement", severity: "low")))
        }
        if rotation % 5 == 2 {
            for (index, days) in [75, 45, 15].enumerated() {
                let time = generator.daysBefore(days + random.int(-3...3), home, "14:10")
                let invoice = Activity.invoice(number: "INV-\(number)-\(index + 1)", order: "SO-\(number)\(index + 1)", cents: random.cents(4_000...90_000))
                plans.append(Plan(time: time, activity: invoice))
            }
        }
        if rotation % 7 == 3 {
            let from = home.airport
            let to = random.pick(Airport.all.filter { $0 != from })
            let departure = Zones.instant(
                localDay: Zones.localDay(generator.liveStart, in: from.zone) + Int64(random.int(3...35)),
                minuteOfDay: random.int(6 * 12...22 * 12) * 5, in: from.zone)
            plans.append(Plan(time: someday(3...60), activity: .booking(
                id: "BK-\(number)-1", flight: Self.flight(from, persona.index), from: from, to: to, departure: departure)))
        }
        if rotation % 10 == 4 {
            let opened = someday(20...85)
            plans.append(Plan(time: opened, activity: .productOpened(type: "cd", account: "cd-\(number)", termDays: random.pick([90, 180, 365]))))
            let deposit = random.cents(500_000...2_500_000)
            plans.append(Plan(time: opened + Clock.minute, activity: .posting(.cd, cents: deposit, text: "Opening deposit")))
        }
        if rotation % 10 == 7 {
            plans.append(Plan(time: someday(10...80), activity: .productOpened(type: "credit-card", account: "cc-\(number)", termDays: nil)))
        }
        if rotation % 9 == 8, let email = persona.email {
            let changed = email.replacingOccurrences(of: "@example.com", with: "@example.net")
            plans.append(Plan(time: someday(10...70), activity: .profileChange(.object([("contact", .object([("email", .string(changed))]))]))))
        }
        if rotation % 6 == 1 {
            plans.append(Plan(time: someday(40...80), activity: .feedback(
                channel: "review", text: FeedbackTexts.negative(persona.locale, rotation), rating: 2,
                language: FeedbackTexts.language(persona.locale))))
        } else if random.chance(0.35) {
            plans.append(Plan(time: someday(3...85), activity: .feedback(
                channel: random.pick(["survey", "review", "chat"]), text: FeedbackTexts.positive(persona.locale, rotation),
                rating: random.int(4...5), language: FeedbackTexts.language(persona.locale))))
        }
        return plans
    }

    /// Keeps plans inside the data set's span and out of the quiet spells the options ask for.
    private func keep(_ plan: Plan) -> Bool {
        guard plan.time > generator.historyStart, plan.time < generator.liveEnd else { return false }
        if let silentFrom = options.silentFrom, plan.time >= silentFrom { return false }
        guard case let .posting(account, _, _) = plan.activity, account == .checking else { return true }
        if !options.liveChecking, plan.time >= generator.liveStart { return false }
        if let pause = options.checkingPauseFrom, plan.time >= pause, plan.time < generator.liveStart { return false }
        return true
    }

    /// A flight number of the airline based at the airport.
    static func flight(_ from: Airport, _ salt: Int) -> String {
        let airlines = ["JFK": "DL", "LAX": "UA", "LHR": "BA", "BER": "LH", "CDG": "AF", "PVG": "MU", "NRT": "JL", "SYD": "QF", "SIN": "SQ"]
        let airline = airlines[from.code] ?? "XX"
        return airline + String(100 + (salt * 37) % 900)
    }
}

/// Feedback as customers write it, in their language. The negative texts score at or below the
/// pack's negative-sentiment threshold with the bundled lexicons (the tests check it); Chinese
/// has no lexicon, so Chinese feedback carries a rating.
enum FeedbackTexts {
    static let negativeEnglish = [
        "The app keeps crashing and the support was terrible. Very disappointed.",
        "Hidden fees again! This is the worst service I have ever had from a bank.",
        "Waited forty minutes on hold, the agent was rude and the problem is still not fixed. Awful.",
        "Really bad experience: my card was blocked for no reason and nobody helped. Frustrating and useless.",
    ]
    static let negativeGerman = [
        "Sehr enttäuscht: Die Überweisung hängt seit Tagen und der Kundenservice ist unfreundlich.",
        "Schlechter Service, lange Wartezeiten und versteckte Gebühren. Ärgerlich!",
        "Die App stürzt ständig ab, das ist einfach katastrophal.",
    ]
    static let positiveEnglish = [
        "Great app, the transfer was fast and the staff were really helpful.",
        "Excellent service at the branch, quick and friendly.",
        "Love the new card design and the instant notifications. Thank you!",
    ]
    static let positiveGerman = [
        "Sehr freundliche Beratung in der Filiale, vielen Dank!",
        "Tolle App, alles schnell und einfach erledigt.",
    ]
    static let positiveChinese = ["服务很好，转账很快，谢谢！", "App 很好用，客服也很耐心。"]
    static let negativeChinese = ["转账太慢了，客服也一直没有回复。", "手续费太高，体验很差。"]

    static func negative(_ locale: String, _ variant: Int) -> String {
        let texts = locale.hasPrefix("de") ? negativeGerman : locale.hasPrefix("zh") ? negativeChinese : negativeEnglish
        return texts[variant % texts.count]
    }

    static func positive(_ locale: String, _ variant: Int) -> String {
        let texts = locale.hasPrefix("de") ? positiveGerman : locale.hasPrefix("zh") ? positiveChinese : positiveEnglish
        return texts[variant % texts.count]
    }

    /// The primary language subtag, as feedback tools tag a text.
    static func language(_ locale: String) -> String {
        String(locale.prefix { $0 != "-" })
    }
}
