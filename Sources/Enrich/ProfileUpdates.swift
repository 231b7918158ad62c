import Foundation
import LiaisonSchema

extension CustomerProfile {
    /// Folds one event into the profile by its event time: an event older than what a field holds
    /// leaves that field alone, and its money and activity land on its own day. `sentiment` is the
    /// feedback's score when the event is feedback. The profile of an erased customer stays a tombstone.
    public mutating func apply(_ event: EventV1, sentiment: Double?) {
        guard !isErased else { return }
        let atMs = event.time.epochMilliseconds
        if case .customerErasureRequested = event.data {
            self = CustomerProfile(customerId: customerId)
            erasedAtMs = atMs
            latestEventMs = atMs
            return
        }
        latestEventMs = max(latestEventMs ?? atMs, atMs)
        let day = utcDay(epochMilliseconds: atMs)
        switch event.data {
        case let .customerProfileUpdated(update):
            apply(update, at: atMs)
        case .customerErasureRequested:
            break
        case let .bankingTransactionPosted(transaction):
            var account = accounts[transaction.accountId] ?? Account(productType: transaction.accountType.rawValue)
            if account.balanceAtMs.map({ $0 <= atMs }) ?? true {
                account.balance = transaction.balanceAfter
                account.currency = transaction.currency
                account.balanceAtMs = atMs
            }
            accounts[transaction.accountId] = account
            let debitMicros = transaction.amount < 0 ? micros(-transaction.amount) : 0
            activity.add(
                day: day, checkingDebitMicros: transaction.accountType == .checking ? debitMicros : 0,
                spend: Double(debitMicros) / 1e6, events: 1)
        case let .bankingProductOpened(product):
            var account = accounts[product.accountId] ?? Account(productType: product.productType)
            account.productType = product.productType
            account.openedAtMs = min(account.openedAtMs ?? atMs, atMs)
            accounts[product.accountId] = account
            activity.add(day: day, events: 1)
        case let .travelBookingConfirmed(booking):
            var trip = trips[booking.bookingId] ?? Trip()
            trip.flight = booking.flight
            trip.origin = booking.origin
            trip.destination = booking.destination
            if trip.departureAtMs.map({ $0 <= atMs }) ?? true {
                trip.departure = booking.departure
                trip.departureAtMs = atMs
            }
            trips[booking.bookingId] = trip
        case let .travelFlightRescheduled(change):
            var trip = trips[change.bookingId] ?? Trip()
            if trip.departureAtMs.map({ $0 <= atMs }) ?? true {
                trip.departure = change.departure
                trip.departureAtMs = atMs
            }
            trips[change.bookingId] = trip
        case let .travelBookingCancelled(cancellation):
            var trip = trips[cancellation.bookingId] ?? Trip()
            trip.cancelledAtMs = min(trip.cancelledAtMs ?? atMs, atMs)
            trips[cancellation.bookingId] = trip
        case let .crmCase(crmCase):
            var known = cases[crmCase.caseId] ?? Case()
            if event.type == .crmCaseResolved {
                known.resolvedAtMs = max(known.resolvedAtMs ?? atMs, atMs)
            } else {
                known.openedAtMs = min(known.openedAtMs ?? atMs, atMs)
                known.topic = crmCase.topic ?? known.topic
            }
            cases[crmCase.caseId] = known
        case .engagementFeedbackReceived:
            if let sentiment {
                sentiments.append(SentimentPoint(atMs: atMs, score: sentiment))
                sentiments.sort { $0.atMs < $1.atMs }
                if sentiments.count > Self.maxSentimentPoints { sentiments.removeFirst(sentiments.count - Self.maxSentimentPoints) }
            }
            activity.add(day: day, events: 1)
        case let .engagementWebResearched(research):
            self.research[research.topic] = max(self.research[research.topic] ?? atMs, atMs)
            activity.add(day: day, events: 1)
        case .bankingCheckDeposited, .engagementGeoEntered, .financeInvoicePaid:
            activity.add(day: day, events: 1)
        }
        trimLists()
    }

    private mutating func apply(_ update: CustomerProfileUpdatedV1, at atMs: Int64) {
        name.set(update.name, at: atMs)
        birthYear.set(update.birthYear, at: atMs)
        locale.set(update.locale, at: atMs)
        timeZone.set(update.timeZone, at: atMs)
        tier.set(update.tier, at: atMs)
        email.set(update.contact?.email, at: atMs)
        phone.set(update.contact?.phone, at: atMs)
        pushToken.set(update.contact?.pushToken, at: atMs)
        device.set(update.contact?.device, at: atMs)
        marketingConsent.set(update.consent?.marketing, at: atMs)
        serviceConsent.set(update.consent?.service, at: atMs)
        quietHours.set(update.quietHours, at: atMs)
    }

    /// Folds a delivery receipt into last contact. Only `sent` counts as contact; the newest wins.
    public mutating func apply(_ receipt: DeliveryReceiptV1) {
        guard !isErased, receipt.status == .sent else { return }
        let atMs = receipt.at.epochMilliseconds
        if let channel = receipt.channel {
            lastContactByChannel[channel] = max(lastContactByChannel[channel] ?? atMs, atMs)
        }
        if let template = receipt.template {
            lastContactByTemplate[template] = max(lastContactByTemplate[template] ?? atMs, atMs)
        }
        trimLists()
    }

    /// Keeps every list within its bound, dropping what matters least first: departed trips,
    /// then cancelled ones and the furthest away; resolved cases, then the newest open ones (the
    /// oldest open case drives churn risk); the oldest research topics, templates and accounts.
    private mutating func trimLists() {
        if let nowMs = latestEventMs {
            let departed = { (trip: Trip) in trip.departure.map { $0.epochMilliseconds <= nowMs - 86_400_000 } ?? false }
            if trips.values.contains(where: departed) { trips = trips.filter { !departed($0.value) } }
        }
        trips = keepNewest(trips, Self.maxTrips) { trip in
            (trip.cancelledAtMs == nil ? 1 : 0, -(trip.departure?.epochMilliseconds ?? Int64.max))
        }
        cases = keepNewest(cases, Self.maxCases) { known in
            known.resolvedAtMs == nil ? (1, -(known.openedAtMs ?? 0)) : (0, known.resolvedAtMs!)
        }
        research = keepNewest(research, Self.maxResearchTopics) { (1, $0) }
        lastContactByTemplate = keepNewest(lastContactByTemplate, Self.maxTemplates) { (1, $0) }
        accounts = keepNewest(accounts, Self.maxAccounts) { account in
            (1, max(account.balanceAtMs ?? 0, account.openedAtMs ?? 0))
        }
    }
}

/// The `limit` entries ranking highest by `rank` (first element, then second), ties broken by key.
private func keepNewest<Value>(_ entries: [String: Value], _ limit: Int, rank: (Value) -> (Int, Int64)) -> [String: Value] {
    guard entries.count > limit else { return entries }
    let kept = entries.sorted { lhs, rhs in
        let left = rank(lhs.value)
        let right = rank(rhs.value)
        return left != right ? left > right : lhs.key < rhs.key
    }.prefix(limit)
    return Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
}

/// An amount in millionths of its unit. Amounts have at most six places (the schema module
/// enforces it), so this is exact; beyond Int64 it saturates.
func micros(_ amount: Decimal) -> Int64 {
    let scaled = NSDecimalNumber(decimal: amount * 1_000_000)
    if scaled.compare(NSDecimalNumber(value: Int64.max)) != .orderedAscending { return .max }
    return scaled.int64Value
}
