import Foundation
import LiaisonSchema

extension CustomerProfile {
    /// Upcoming trips and research topics a snapshot carries at most: rules look at the next
    /// few, and the snapshot rides along with every event.
    public static let snapshotTrips = 5
    public static let snapshotResearch = 10

    /// The bounded snapshot rules read: reachability, segment and the derived features as of the
    /// profile's newest event. An erased customer's snapshot says so and holds nothing else.
    public func context(_ settings: FeatureSettings) -> CustomerContextV1 {
        var context = CustomerContextV1(customerId: customerId, erased: isErased)
        guard !isErased, let nowMs = latestEventMs else { return context }
        let asOf = utcDay(epochMilliseconds: nowMs)
        context.asOf = Timestamp(epochMilliseconds: nowMs)
        context.recipient = recipient
        if tier != nil || birthYear != nil {
            context.segment = SegmentV1(tier: tier?.value, generation: birthYear.map { Features.generation(birthYear: $0.value) })
        }
        let products = Set(accounts.values.map(\.productType))
        if !products.isEmpty { context.productsHeld = products.sorted() }

        let checking = accounts.values.filter { $0.productType == AccountType.checking.rawValue }.compactMap(\.balance)
        if !checking.isEmpty { context.checkingBalance = checking.reduce(0, +) }
        context.cashNeed = Features.cashNeed(activity, asOf: asOf, buffer: settings.cashNeedBuffer)
        if let balance = context.checkingBalance, let need = context.cashNeed {
            context.surplus = max(0, balance - need)
        }

        context.sentiment = sentiments.last.map { Features.rounded($0.score, places: 4) }
        let dayMs: Int64 = 86_400_000
        let recentSentiment = Features.meanSentiment(sentiments, fromMs: nowMs - 30 * dayMs, toMs: nowMs + 1)
        let priorSentiment = Features.meanSentiment(sentiments, fromMs: nowMs - 120 * dayMs, toMs: nowMs - 30 * dayMs)
        let spendZ = Features.zScore(activity, asOf: asOf, minimumDays: settings.minimumBaselineDays) { $0.spend }
        let activityZ = Features.zScore(activity, asOf: asOf, minimumDays: settings.minimumBaselineDays) { Double($0.events) }
        context.spendZScore = spendZ.map { Features.rounded($0, places: 4) }
        context.activityZScore = activityZ.map { Features.rounded($0, places: 4) }

        let openedTimes = cases.values.filter { $0.resolvedAtMs == nil }.compactMap(\.openedAtMs)
        context.openCases = openedTimes.count
        let oldestOpenCaseDays = openedTimes.min().map { Int(max(0, nowMs - $0) / dayMs) }
        context.oldestOpenCaseDays = oldestOpenCaseDays
        context.churnRisk = Features.rounded(
            Features.churnRisk(
                sentimentRecent: recentSentiment, sentimentPrior: priorSentiment, oldestOpenCaseDays: oldestOpenCaseDays,
                activityZ: activityZ, settings: settings),
            places: 4)

        let upcoming = trips.compactMap { bookingId, trip -> TripV1? in
            guard trip.cancelledAtMs == nil, let departure = trip.departure, departure.epochMilliseconds > nowMs else { return nil }
            var snapshot = TripV1(bookingId: bookingId, departure: departure)
            snapshot.flight = trip.flight
            snapshot.origin = trip.origin
            snapshot.destination = trip.destination
            return snapshot
        }
        if !upcoming.isEmpty {
            context.upcomingTrips = Array(upcoming.sorted { ($0.departure, $0.bookingId) < ($1.departure, $1.bookingId) }.prefix(Self.snapshotTrips))
        }
        if !research.isEmpty {
            context.recentResearch = research.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(Self.snapshotResearch)
                .map { ResearchV1(topic: $0.key, at: Timestamp(epochMilliseconds: $0.value)) }
        }
        if !lastContactByChannel.isEmpty { context.lastContactByChannel = lastContactByChannel.mapValues(Timestamp.init(epochMilliseconds:)) }
        if !lastContactByTemplate.isEmpty { context.lastContactByTemplate = lastContactByTemplate.mapValues(Timestamp.init(epochMilliseconds:)) }
        return context
    }

    private var recipient: RecipientV1? {
        var recipient = RecipientV1()
        recipient.name = name?.value
        recipient.locale = locale?.value
        recipient.timeZone = timeZone?.value
        recipient.email = email?.value
        recipient.phone = phone?.value
        recipient.pushToken = pushToken?.value
        recipient.device = device?.value
        recipient.marketingConsent = marketingConsent?.value
        recipient.serviceConsent = serviceConsent?.value
        recipient.quietHours = quietHours?.value
        recipient.generation = birthYear.map { Features.generation(birthYear: $0.value) }
        return recipient == RecipientV1() ? nil : recipient
    }
}
