import LiaisonSchema

/// A part a customer plays in the demo. Each role is one situation of a scenario, with the
/// outcome the stages must reach for it (sent, held back, missed, or nothing at all).
public enum DemoRole: String, Sendable, CaseIterable {
    // 1. Surplus to a 30-day CD
    /// A bonus lifts the balance far above the cash need: the offer is sent, a later posting is
    /// held back by the cooldown; the first of them opens a CD and moves money into it.
    case cdOffer
    /// The same at night: the offer waits for the end of the customer's quiet hours.
    case cdOfferAtNight
    /// A balance far above the cash need for months: history's offers expired, the live one is sent.
    case cdSaver
    /// A bonus but no marketing consent: the rule does not offer anything.
    case cdWithoutConsent
    // 2. Mobile check deposit
    /// A check deposited with the app in the customer's daytime: confirmed at once.
    case mobileDeposit
    /// Branch deposits need no confirmation.
    case branchDeposit
    /// Deposited at night: quiet hours outlast the confirmation's hour, so it is missed.
    case depositAtNight
    /// Deposited while the notifier is down: missed with an alert.
    case depositDuringOutage
    // 3. Advisor at the open house
    /// Researched mortgages lately and enters an open house: an advisor's task and a push.
    case openHouseAdvisor
    /// The advisor gets the task; the customer gets no push without marketing consent.
    case openHouseWithoutConsent
    /// Enters an open house without having researched mortgages: nothing.
    case openHouseWithoutResearch
    /// Mortgage research older than 30 days does not count.
    case openHouseStaleResearch
    /// At the open house while the notifier is down: task and push missed.
    case openHouseDuringOutage
    // 4. The 24-hour check-in reminder
    /// A booking whose reminder falls due in the live day, in the customer's daytime.
    case checkinReminder
    /// Due while the rules stage is down: fires late on restart, check-in still open.
    case checkinReminderAfterOutage
    /// The flight moves: so does the reminder.
    case checkinRescheduled
    /// The booking is cancelled: no reminder.
    case checkinCancelled
    /// Due in the customer's quiet hours: deferred to the morning, then sent.
    case checkinReminderAtNight
    // 5. Sense and respond
    /// Negative English text: a discount, and an agent's call for gold and platinum.
    case negativeFeedback
    /// German text from a gold or platinum customer: a discount and an agent's call.
    case negativeFeedbackGerman
    /// A rating of 1 with a neutral text: the rating alone makes it negative.
    case lowRating
    /// A Chinese text, which no lexicon scores, with a low rating.
    case lowRatingChinese
    /// Praise: nothing to respond to.
    case positiveFeedback
    /// Complains twice in a day: the second is held back by the cooldowns.
    case repeatedComplaint
    /// Complains without marketing consent: the discount is suppressed.
    case complaintWithoutConsent
    // 6. Churn warning
    /// Negative feedback after weeks with an open case and two silent weeks: the churn risk
    /// crosses its threshold (and the feedback and the silence bring scenarios 5 and 7 along).
    case churnRisk
    // 7. Behaviour change
    /// A car paid from savings: spending far above the baseline; a second large payment
    /// falls in the rule's cooldown.
    case spendingSpike
    /// Steady daily purchases, then two silent weeks: activity far below the baseline.
    case goneQuiet
    // 8. Records kept in sync
    /// An invoice paid in the ERP: a CRM status update.
    case invoicePaid
    /// A CRM case resolved through the Debezium feed: the customer is told.
    case caseResolved
    /// Resolved in the middle of the customer's night: the notice comes in the morning.
    case caseResolvedAtNight
    // 10. Consent, quiet hours, erasure
    /// Asks to be forgotten; what follows (a due reminder, a deposit, feedback, a bonus, an open
    /// house) must produce nothing.
    case erasure

    /// The roles whose first member's timeline the report shows.
    static let featured: [DemoRole] = [
        .cdOffer, .depositDuringOutage, .openHouseAdvisor, .checkinReminderAfterOutage, .negativeFeedbackGerman, .churnRisk,
        .spendingSpike, .caseResolvedAtNight, .erasure, .depositAtNight,
    ]

    /// How many customers play the role: the common situations grow with the data set, the
    /// single demonstrations do not.
    func members(scale: Int, customers: Int) -> Int {
        switch self {
        case .mobileDeposit, .openHouseAdvisor, .checkinReminder: 2 * scale
        case .cdOffer, .branchDeposit, .depositDuringOutage, .openHouseWithoutResearch, .checkinReminderAfterOutage, .negativeFeedback,
             .negativeFeedbackGerman, .positiveFeedback, .churnRisk, .spendingSpike, .invoicePaid, .caseResolved:
            scale
        case .erasure: customers >= 200 ? 3 : 2
        default: 1
        }
    }

    /// Where the members live, in turn: zones whose daytime and night fall where the role needs them.
    var homes: [Home] {
        switch self {
        case .cdOffer: [.newYork, .berlin, .london, .shanghai]
        case .cdOfferAtNight, .openHouseWithoutConsent: [.losAngeles]
        case .cdSaver, .checkinRescheduled, .lowRating, .complaintWithoutConsent, .goneQuiet: [.london]
        case .cdWithoutConsent, .depositAtNight, .openHouseStaleResearch, .checkinCancelled, .negativeFeedbackGerman: [.berlin]
        case .mobileDeposit: [.newYork, .london, .berlin, .losAngeles, .shanghai, .newYork]
        case .branchDeposit, .positiveFeedback, .erasure: [.berlin, .newYork, .london]
        case .depositDuringOutage: [.newYork, .london, .losAngeles]
        case .openHouseAdvisor: [.newYork, .losAngeles, .berlin, .london, .shanghai, .newYork]
        case .openHouseWithoutResearch: [.newYork, .london, .berlin]
        case .openHouseDuringOutage, .checkinReminderAtNight, .repeatedComplaint: [.newYork]
        case .checkinReminder: [.berlin, .newYork, .losAngeles, .shanghai, .london, .newYork]
        case .checkinReminderAfterOutage: [.berlin, .london, .newYork]
        case .negativeFeedback: [.newYork, .losAngeles, .london]
        case .lowRatingChinese, .caseResolvedAtNight: [.shanghai]
        case .churnRisk: [.newYork, .berlin, .london]
        case .spendingSpike: [.losAngeles, .newYork, .berlin]
        case .invoicePaid: [.newYork, .berlin, .shanghai]
        case .caseResolved: [.london, .newYork, .berlin]
        }
    }

    private var tiers: [String] {
        switch self {
        case .cdOffer: ["gold", "standard", "platinum"]
        case .cdSaver, .lowRating: ["platinum"]
        case .cdOfferAtNight, .repeatedComplaint: ["gold"]
        case .negativeFeedbackGerman: ["gold", "platinum"]
        case .churnRisk: ["platinum", "gold", "standard"]
        case .openHouseAdvisor: ["standard", "gold", "standard", "platinum"]
        default: ["standard", "standard", "gold"]
        }
    }

    /// Channels in turn, so the same templates go out by push, SMS and email; nil for app users
    /// on phones and tablets alternately.
    private var contacts: [ContactStyle]? {
        switch self {
        case .cdOffer: [.app(device: "phone"), .emailOnly, .app(device: "tablet")]
        case .mobileDeposit: [.app(device: "phone"), .phoneOnly, .app(device: "tablet"), .emailOnly, .app(device: "phone"), .emailAndPhone]
        case .checkinReminder: [.app(device: "phone"), .phoneOnly, .app(device: "tablet"), .app(device: "phone"), .emailOnly, .emailAndPhone]
        case .negativeFeedback: [.emailOnly, .app(device: "phone"), .app(device: "tablet")]
        case .negativeFeedbackGerman: [.app(device: "phone"), .app(device: "tablet"), .emailOnly]
        case .lowRatingChinese, .cdSaver: [.app(device: "tablet")]
        case .caseResolved: [.phoneOnly, .app(device: "phone"), .emailOnly]
        default: nil
        }
    }

    private var marketingConsent: Bool {
        switch self {
        case .cdWithoutConsent, .openHouseWithoutConsent, .complaintWithoutConsent: false
        default: true
        }
    }

    /// Birth years in turn over the whole cast, so every generation's tone is rendered.
    private static let birthYears = [1948, 1958, 1967, 1976, 1985, 1991, 1999, 2004]

    /// The random persona made to fit the role: home, language, tier, channels and consent as
    /// the role needs them, quiet hours 22:00 to 07:00 so nights fall where the script expects.
    func persona(from base: Persona, member: Int, ordinal: Int, using random: inout SplitMix64) -> Persona {
        var persona = base
        persona.home = homes[member % homes.count]
        persona.locale = persona.home.locale
        (persona.name, persona.handle) = Names.draw(locale: persona.locale, using: &random)
        persona.tier = tiers[member % tiers.count]
        persona.contact = contacts.map { $0[member % $0.count] } ?? .app(device: ordinal % 3 == 2 ? "tablet" : "phone")
        persona.marketingConsent = marketingConsent
        persona.quietHours = ("22:00", "07:00")
        persona.birthYear = Self.birthYears[ordinal % Self.birthYears.count]
        return persona
    }
}

extension Generator {
    /// The role's scripted plans for one member, the story told about them and what the stages
    /// must make of it.
    func script(_ role: DemoRole, member j: Int, of count: Int, _ persona: Persona, using random: inout SplitMix64) -> Script {
        var script = Script()
        let home = persona.home
        let city = home.city
        let money = { (cents: Int64) in Self.amountText(cents) + " " + persona.currency }
        func add(_ time: Int64, _ activity: Activity) { script.plans.append(Plan(time: time, activity: activity)) }
        func posting(_ time: Int64, _ cents: Int64, _ text: String, _ account: Account = .checking) {
            add(time, .posting(account, cents: cents, text: text))
        }
        func pick<T>(_ values: [T]) -> T { values[j % values.count] }
        func outcome(_ scenarios: [Int], sent: [String] = [], missed: [String] = [], _ reasons: [(String, String)] = []) {
            script.outcome = Outcome(sent: sent, missed: missed, reasons: reasons.map { (rule: $0.0, reason: $0.1) }, scenarios: scenarios)
        }
        func research(_ days: [Int]) {
            for day in days { add(daysBefore(day, home, "20:15"), .research("mortgage")) }
        }
        func openHouse(_ time: Int64) {
            let centre = home.centre
            add(time, .geo(
                type: "open-house", place: "oh-\(home.airport.code.lowercased())-\(persona.number)",
                lat: centre.lat + random.unit() * 0.1 - 0.05, lon: centre.lon + random.unit() * 0.1 - 0.05))
        }
        func booking(_ id: String, _ confirmed: Int64, _ from: Airport, _ to: Airport, _ departure: Int64) {
            add(confirmed, .booking(id: id, flight: Background.flight(from, persona.index + j), from: from, to: to, departure: departure))
        }
        let language = FeedbackTexts.language(persona.locale)
        let bookingID = "BK-\(persona.number)-7"
        let caseID = 100_000 + persona.index * 10 + 5

        switch role {
        case .cdOffer:
            script.options.liveChecking = false
            let time = daytime(home, Clock.clockText(minuteOfDay: 9 * 60 + 30 + 20 * j))
            let bonus = random.cents(240...380) * 10_000
            posting(time, bonus, "Annual bonus")
            if j == 0 {
                let opened = live(time + 4 * Clock.hour)
                let transfer: Int64 = 2_000_000
                add(opened, .productOpened(type: "cd", account: "cd-\(persona.number)", termDays: 30))
                posting(opened + 2 * Clock.minute, -transfer, "Transfer to 30-day CD")
                posting(opened + 2 * Clock.minute, transfer, "Opening deposit", .cd)
                posting(live(time + 6 * Clock.hour), -random.cents(2_000...8_000), "Grocery")
                outcome([1, 7], sent: ["surplus-to-cd", "behaviour-changed"], [("behaviour-changed", "cooldown")])
                script.story = "A \(money(bonus)) bonus posts at \(local(time, home)) in \(city): the 30-day CD offer reaches "
                    + "\(persona.name); at \(local(opened, home)) a CD is opened and \(money(transfer)) moved into it (the CRM hears of "
                    + "the large transfer), and no offer follows."
            } else {
                let later = live(time + 3 * Clock.hour)
                posting(later, -random.cents(2_000...8_000), "Grocery")
                outcome([1], sent: ["surplus-to-cd"], [("surplus-to-cd", "cooldown")])
                script.story = "A \(money(bonus)) bonus posts at \(local(time, home)) in \(city): the CD offer is sent; a purchase "
                    + "at \(local(later, home)) finds the offer in its 30-day cooldown."
            }
        case .cdOfferAtNight:
            script.options.liveChecking = false
            let time = night(home, "22:40")
            let bonus = random.cents(220...300) * 10_000
            posting(time, bonus, "Annual bonus")
            outcome([1, 10], sent: ["surplus-to-cd"], [("surplus-to-cd", "quiet_hours")])
            script.story = "A \(money(bonus)) bonus posts at \(local(time, home)) in \(city), inside quiet hours: the CD offer is "
                + "deferred and sent at 07:00."
        case .cdSaver:
            script.options.liveChecking = false
            script.options.checkingPauseFrom = liveStart - 36 * Clock.hour
            script.options.settledBalance = random.cents(420...580) * 10_000
            let time = daytime(home, "09:45")
            let later = live(time + 2 * Clock.hour)
            posting(time, -random.cents(3_000...9_000), "Grocery")
            posting(later, -random.cents(800...3_000), "Pharmacy")
            outcome([1], sent: ["surplus-to-cd"], [("surplus-to-cd", "expired"), ("surplus-to-cd", "cooldown")])
            script.story = "Has kept far more than needed in checking for months: the offers of the history are long expired; a "
                + "purchase at \(local(time, home)) in \(city) brings the offer, and the next one at \(local(later, home)) the cooldown."
        case .cdWithoutConsent:
            script.options.liveChecking = false
            let time = daytime(home, "10:00")
            let bonus = random.cents(250...350) * 10_000
            posting(time, bonus, "Annual bonus")
            outcome([1, 10])
            script.story = "A \(money(bonus)) bonus posts at \(local(time, home)) in \(city), but \(persona.name) has not agreed to "
                + "offers: no CD offer is even considered."
        case .mobileDeposit, .branchDeposit:
            let clocks = role == .mobileDeposit ? ["10:05", "09:20", "16:40", "08:15", "15:30", "11:10"] : ["11:30", "14:45", "10:10"]
            let time = daytime(home, pick(clocks))
            let cents = random.cents(12_000...240_000)
            let via = role == .mobileDeposit ? "mobile" : "branch"
            add(time, .deposit(via: via, cents: cents))
            if role == .mobileDeposit {
                outcome([2], sent: ["check-deposit-confirmation"])
                script.story = "Deposits a \(money(cents)) check with the app at \(local(time, home)) in \(city): confirmed within minutes."
            } else {
                outcome([2])
                script.story = "Deposits a \(money(cents)) check at the branch at \(local(time, home)) in \(city): nothing to confirm."
            }
        case .depositAtNight:
            let time = night(home, "23:10")
            let cents = random.cents(30_000...90_000)
            add(time, .deposit(via: "mobile", cents: cents))
            outcome([2, 10], missed: ["check-deposit-confirmation"], [("check-deposit-confirmation", "quiet_hours")])
            script.story = "Deposits a \(money(cents)) check with the app at \(local(time, home)) in \(city): quiet hours end after "
                + "the confirmation's hour is up, so it is missed and alerted."
        case .depositDuringOutage:
            let time = spread(notifierOutage.lowerBound + 15 * Clock.minute, over: 35 * Clock.minute, member: j, of: count)
            let cents = random.cents(15_000...120_000)
            add(time, .deposit(via: "mobile", cents: cents))
            outcome([2], missed: ["check-deposit-confirmation"])
            script.story = "Deposits a \(money(cents)) check with the app at \(local(time, home)) in \(city) while the notifier is "
                + "down: the confirmation comes back missed, with an alert."
        case .openHouseAdvisor:
            research([21, 9, 3])
            let time = daytime(home, pick(["11:00", "13:00", "15:30", "15:00", "16:30", "12:15"]))
            openHouse(time)
            outcome([3], sent: ["open-house-advisor-task", "open-house-advisor-push"])
            script.story = "Researched mortgages three times this month and walks into an open house at \(local(time, home)) in "
                + "\(city): an advisor is tasked and \(persona.name) is told one can talk now."
        case .openHouseWithoutConsent:
            research([6])
            let time = daytime(home, "12:45")
            openHouse(time)
            outcome([3, 10], sent: ["open-house-advisor-task"], [("open-house-advisor-push", "no_marketing_consent")])
            script.story = "Researched mortgages and visits an open house at \(local(time, home)) in \(city): the advisor is "
                + "tasked, but without marketing consent no push is sent."
        case .openHouseWithoutResearch:
            add(daysBefore(10, home, "20:00"), .research("cd"))
            let time = daytime(home, "14:00")
            openHouse(time)
            outcome([3])
            script.story = "Visits an open house at \(local(time, home)) in \(city) without having researched mortgages: nothing."
        case .openHouseStaleResearch:
            research([52, 45])
            let time = daytime(home, "16:00")
            openHouse(time)
            outcome([3])
            script.story = "Researched mortgages six weeks ago and visits an open house at \(local(time, home)) in \(city): "
                + "too long ago, nothing."
        case .openHouseDuringOutage:
            research([12, 4])
            let time = notifierOutage.lowerBound + 30 * Clock.minute
            openHouse(time)
            outcome([3], missed: ["open-house-advisor-task", "open-house-advisor-push"])
            script.story = "At an open house at \(local(time, home)) in \(city) while the notifier is down: task and push are "
                + "missed (worth 15 minutes), with alerts."
        case .checkinReminder, .checkinReminderAfterOutage, .checkinReminderAtNight:
            let due: Int64
            var from = home.airport
            var to = pick([Airport.lhr, .cdg, .nrt, .sin, .jfk, .syd])
            switch role {
            case .checkinReminder:
                due = daytime(home, pick(["09:00", "10:30", "08:00", "08:30", "14:00", "17:00"]))
                outcome([4], sent: ["checkin-reminder"])
            case .checkinReminderAfterOutage:
                let span = rulesOutage.upperBound - rulesOutage.lowerBound - 40 * Clock.minute
                due = spread(rulesOutage.lowerBound + 20 * Clock.minute, over: span, member: j, of: count)
                outcome([4], sent: ["checkin-reminder"])
            default:
                due = night(home, "03:30")
                (from, to) = (.nrt, home.airport)
                outcome([4, 10], sent: ["checkin-reminder"], [("checkin-reminder", "quiet_hours")])
            }
            if to == from { to = .pvg }
            let departure = due + Clock.day
            booking(bookingID, daysBefore(8 + 5 * j, home, "19:30"), from, to, departure)
            let when = "\(RecordWriter.departureText(departure, at: from)) from \(from.code) to \(to.code)"
            script.story = switch role {
            case .checkinReminder: "Flies \(when): the check-in reminder goes out 24 h before, at \(local(due, home)) in \(city)."
            case .checkinReminderAfterOutage: "Flies \(when): the reminder falls due while the rules stage is down and fires late "
                + "on its restart, with check-in still open."
            default: "Flies home \(when): the reminder falls due at \(local(due, home)) in \(city), is deferred through the quiet "
                + "hours and sent at 07:00."
            }
        case .checkinRescheduled:
            let from = home.airport
            let first = liveStart + 28 * Clock.hour
            let due = daytime(home, "16:30")
            let moved = liveStart + Clock.hour
            booking(bookingID, daysBefore(15, home, "18:00"), from, .jfk, first)
            add(moved, .reschedule(id: bookingID, from: from, departure: due + Clock.day))
            outcome([4], sent: ["checkin-reminder"])
            script.story = "Booked \(RecordWriter.departureText(first, at: from)) from \(from.code); the flight is moved at "
                + "\(local(moved, home)) to \(RecordWriter.departureText(due + Clock.day, at: from)), and the reminder moves with it."
        case .checkinCancelled:
            let from = home.airport
            let departure = daytime(home, "15:00") + Clock.day
            let cancelled = liveStart + 90 * Clock.minute
            booking(bookingID, daysBefore(20, home, "21:00"), from, .lhr, departure)
            add(cancelled, .cancellation(id: bookingID))
            outcome([4])
            script.story = "Cancels the booking for \(RecordWriter.departureText(departure, at: from)) at \(local(cancelled, home)): "
                + "the pending reminder is removed and never sent."
        case .negativeFeedback, .negativeFeedbackGerman, .lowRating, .lowRatingChinese, .positiveFeedback, .complaintWithoutConsent:
            let time = daytime(home, pick(feedbackTimes(role)))
            let (text, rating): (String, Int?) = switch role {
            case .negativeFeedback, .complaintWithoutConsent: (FeedbackTexts.negative(persona.locale, j + persona.index), nil)
            case .negativeFeedbackGerman: (FeedbackTexts.negative(persona.locale, j), nil)
            case .lowRating: ("The transfer took three days to arrive.", 1)
            case .lowRatingChinese: (FeedbackTexts.negative(persona.locale, j), 2)
            default: (FeedbackTexts.positive(persona.locale, j + persona.index), nil)
            }
            add(time, .feedback(channel: pick(["survey", "review", "chat"]), text: text, rating: rating, language: language))
            let said = rating.map { "rates \($0) of 5 at \(local(time, home))" } ?? "writes at \(local(time, home))"
            switch role {
            case .positiveFeedback:
                outcome([5])
                script.story = "Praises the bank (\"\(text)\") at \(local(time, home)) in \(city): nothing to respond to."
            case .complaintWithoutConsent:
                outcome([5, 10], [("negative-feedback-discount", "no_marketing_consent")])
                script.story = "Complains at \(local(time, home)) in \(city), but has not agreed to offers: the discount is suppressed."
            default:
                let call = ["gold", "platinum"].contains(persona.tier)
                outcome([5], sent: ["negative-feedback-discount"] + (call ? ["negative-feedback-agent-call"] : []))
                script.story = "A \(persona.tier) customer in \(city) \(said): \"\(text)\" — a discount"
                    + (call ? " and an agent's call." : ".")
            }
        case .repeatedComplaint:
            let first = daytime(home, "09:15")
            let second = live(first + 3 * Clock.hour)
            add(first, .feedback(channel: "chat", text: FeedbackTexts.negativeEnglish[0], rating: nil, language: "en"))
            add(second, .feedback(channel: "social", text: FeedbackTexts.negativeEnglish[2], rating: nil, language: "en"))
            outcome(
                [5], sent: ["negative-feedback-discount", "negative-feedback-agent-call"],
                [("negative-feedback-discount", "cooldown"), ("negative-feedback-agent-call", "cooldown")])
            script.story = "A gold customer in \(city) complains at \(local(first, home)) (a discount and a call) and again at "
                + "\(local(second, home)): the cooldowns hold both back."
        case .churnRisk:
            script.options.regularHabits = true
            script.options.silentFrom = (liveStart.floorDivided(by: Clock.day) - 13) * Clock.day
            let caseAge = pick([40, 25, 35])
            let opened = daysBefore(caseAge, home, "11:00")
            let praise = FeedbackTexts.positive(persona.locale, j)
            add(daysBefore(60, home, "19:00"), .feedback(channel: "survey", text: praise, rating: 4, language: language))
            add(opened, .caseOpened(id: caseID, topic: pick(["card-dispute", "fee-complaint", "mortgage-delay"]), severity: "high"))
            add(opened + 2 * Clock.day, .caseStatus(id: caseID, status: "waiting_on_customer"))
            let time = daytime(home, pick(["10:00", "11:00", "14:30"]))
            let (text, rating): (String, Int?) = j % 3 == 0
                ? (FeedbackTexts.negativeEnglish[1], 1) : (FeedbackTexts.negative(persona.locale, j), nil)
            add(time, .feedback(channel: "review", text: text, rating: rating, language: language))
            let call = ["gold", "platinum"].contains(persona.tier)
            outcome([5, 6, 7], sent: [
                "churn-warning-task", "churn-retention-offer", "negative-feedback-discount", "behaviour-changed",
            ] + (call ? ["negative-feedback-agent-call"] : []))
            script.story = "A \(persona.tier) customer in \(city) with a case open for \(caseAge) days, silent for two weeks, "
                + "writes an angry review at \(local(time, home)): churn warning, retention offer, discount and behaviour change."
        case .spendingSpike:
            script.options.savings = random.cents(350...600) * 10_000
            let first = daytime(home, pick(["11:00", "10:30", "10:00"]))
            let second = live(first + 270 * Clock.minute)
            let car = random.cents(165...220) * 10_000
            posting(first, -car, "Car dealership", .savings)
            posting(second, -random.cents(38...52) * 10_000, "Furniture store", .savings)
            outcome([7], sent: ["behaviour-changed"], [("behaviour-changed", "cooldown")])
            script.story = "Pays \(money(car)) for a car from savings at \(local(first, home)) in \(city): far above the 90-day "
                + "baseline, the CRM is told; more furniture at \(local(second, home)) is within the week's cooldown."
        case .goneQuiet:
            script.options.regularHabits = true
            script.options.silentFrom = (liveStart.floorDivided(by: Clock.day) - 13) * Clock.day
            let time = daytime(home, "12:00")
            posting(time, -random.cents(2_500...6_000), "Grocery")
            outcome([7], sent: ["behaviour-changed"])
            script.story = "Two purchases a day for months, then two weeks of silence; a purchase at \(local(time, home)) in "
                + "\(city) shows the fall in activity, and the CRM is told."
        case .invoicePaid:
            let time = daytime(home, pick(["13:10", "15:20", "16:00"]))
            let cents = random.cents(8_000...150_000)
            add(time, .invoice(number: "INV-\(persona.number)-9", order: "SO-\(persona.number)9", cents: cents))
            outcome([8], sent: ["invoice-paid-crm-update"])
            script.story = "Pays a \(money(cents)) invoice at \(local(time, home)) in \(city): the ERP's record becomes a CRM status update."
        case .caseResolved, .caseResolvedAtNight:
            let night = role == .caseResolvedAtNight
            let topic = pick(["card-replacement", "address-change", "statement-query"])
            add(daysBefore(night ? 3 : 4, home, "10:00"), .caseOpened(id: caseID, topic: topic, severity: "medium"))
            add(daysBefore(2, home, "11:30"), .caseStatus(id: caseID, status: "in_progress"))
            let time = night ? self.night(home, "23:30") : daytime(home, pick(["09:30", "15:45", "10:30"]))
            add(time, .caseStatus(id: caseID, status: "resolved"))
            if night {
                outcome([8, 10], sent: ["case-resolved-notice"], [("case-resolved-notice", "quiet_hours")])
                script.story = "A CRM case is resolved at \(local(time, home)) in \(city), in the middle of the night: the notice "
                    + "waits for 07:00."
            } else {
                outcome([8], sent: ["case-resolved-notice"])
                script.story = "A CRM case is resolved at \(local(time, home)) in \(city): the customer is told."
            }
        case .erasure:
            let time = daytime(home, pick(["09:00", "10:00", "08:30"]))
            add(time, .erasure)
            switch j % 3 {
            case 0:
                let due = max(daytime(home, "16:00"), time + 3 * Clock.hour)
                booking(bookingID, daysBefore(12, home, "20:00"), home.airport, .cdg, due + Clock.day)
                add(live(time + 2 * Clock.hour), .deposit(via: "mobile", cents: random.cents(20_000...80_000)))
                outcome([10, 4, 2])
                script.story = "Asks to be forgotten at \(local(time, home)) in \(city): the check-in reminder due at "
                    + "\(local(due, home)) is dropped and a later mobile deposit is not confirmed."
            case 1:
                posting(live(time + Clock.hour), random.cents(250...320) * 10_000, "Annual bonus")
                let complaint = FeedbackTexts.negative(persona.locale, 1)
                add(live(time + 3 * Clock.hour), .feedback(channel: "chat", text: complaint, rating: nil, language: language))
                outcome([10, 1, 5])
                script.story = "Asks to be forgotten at \(local(time, home)) in \(city): neither a later bonus nor an angry chat "
                    + "brings an offer."
            default:
                research([5])
                openHouse(live(time + 2 * Clock.hour))
                let newPhone = JSONValue.object([("contact", .object([("phone", .string(home.phone(persona.index + 5_001)))]))])
                add(live(time + 4 * Clock.hour), .profileChange(newPhone))
                outcome([10, 3])
                script.story = "Asks to be forgotten at \(local(time, home)) in \(city): an open-house visit and a profile update "
                    + "afterwards bring nothing back."
            }
        }
        return script
    }

    /// `25,700.00`: an amount as a reader of the report expects it.
    static func amountText(_ cents: Int64) -> String {
        let plain = JSONNumber(units: abs(cents), scale: 2).text
        let whole = plain.prefix { $0 != "." }
        var grouped = ""
        for (index, digit) in whole.enumerated() {
            if index > 0, (whole.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return (cents < 0 ? "-" : "") + grouped + plain.drop { $0 != "." }
    }

    private func feedbackTimes(_ role: DemoRole) -> [String] {
        switch role {
        case .negativeFeedback: ["10:40", "11:20", "09:50"]
        case .negativeFeedbackGerman: ["10:20", "16:10", "09:40"]
        case .lowRating: ["15:10"]
        case .lowRatingChinese: ["17:20"]
        case .complaintWithoutConsent: ["11:40"]
        default: ["12:00", "11:00", "16:20"]
        }
    }

    /// Scenario 9 for members who see a rendering other than the English app push: another
    /// language, a tablet, or a single channel (email or SMS).
    static func renderingScenario(_ persona: Persona, _ outcome: Outcome) -> [Int] {
        guard outcome.sent.contains(where: DemoScenario.customerFacingRules.contains) else { return [] }
        let singleChannel = switch persona.contact {
        case .emailOnly, .phoneOnly: true
        default: false
        }
        return !persona.locale.hasPrefix("en") || persona.device == "tablet" || singleChannel ? [9] : []
    }
}

extension Home {
    var city: String {
        switch self {
        case .newYork: "New York"
        case .losAngeles: "Los Angeles"
        case .london: "London"
        case .berlin: "Berlin"
        case .shanghai: "Shanghai"
        }
    }
}
