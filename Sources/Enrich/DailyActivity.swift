import Foundation

/// A customer's money movements and activity per UTC day. The days the features read (the last
/// `retainedDays` before the newest) are kept one by one; older days are folded into running
/// totals, so a profile stays the same size however long the customer lives.
public struct DailyActivity: Sendable, Equatable {
    /// One day's totals.
    public struct Day: Sendable, Equatable {
        /// Days since 1970-01-01, UTC.
        public var day: Int
        /// Sum of the debits' absolute amounts on checking accounts, in millionths of the
        /// currency unit (amounts have at most six places, so this is exact): the cash-need input.
        public var checkingDebitMicros: Int64
        /// Sum of the debits' absolute amounts on any account: the spend baseline's input. A
        /// binary double, because it only feeds statistics.
        public var spend: Double
        /// Events of the customer's own doing (transactions, deposits, research, visits, feedback…).
        public var events: Int
    }

    /// Totals of the days folded away, for lifetime figures.
    public struct Folded: Sendable, Equatable {
        public var days = 0
        public var spend = 0.0
        public var events = 0
    }

    /// 90 baseline days plus 14 recent ones plus slack for events that arrive a little late.
    public static let retainedDays = 120

    /// Ascending by day, at most `retainedDays` long, only days with something in them.
    public private(set) var days: [Day] = []
    public private(set) var folded = Folded()
    /// The first day anything was recorded, so a baseline does not count days before the customer existed.
    public private(set) var firstDay: Int?

    public init() {}

    /// Restores stored series; `days` must be ascending and within the retained window.
    init(days: [Day], folded: Folded, firstDay: Int?) {
        self.days = days
        self.folded = folded
        self.firstDay = firstDay
    }

    /// Adds to a day's totals. A late day lands in its own place; a day already older than the
    /// retained window goes straight into the folded totals.
    public mutating func add(day: Int, checkingDebitMicros: Int64 = 0, spend: Double = 0, events: Int = 0) {
        firstDay = min(firstDay ?? day, day)
        if let newest = days.last?.day, day <= newest - Self.retainedDays {
            folded.days += 1
            folded.spend += spend
            folded.events += events
            return
        }
        let index = days.firstIndex { $0.day >= day } ?? days.endIndex
        if index < days.endIndex, days[index].day == day {
            days[index].checkingDebitMicros = days[index].checkingDebitMicros.addingSaturated(checkingDebitMicros)
            days[index].spend += spend
            days[index].events += events
        } else {
            days.insert(Day(day: day, checkingDebitMicros: checkingDebitMicros, spend: spend, events: events), at: index)
        }
        foldOldDays()
    }

    private mutating func foldOldDays() {
        guard let newest = days.last?.day else { return }
        let keep = days.firstIndex { $0.day > newest - Self.retainedDays } ?? days.endIndex
        for old in days[..<keep] {
            folded.days += 1
            folded.spend += old.spend
            folded.events += old.events
        }
        days.removeFirst(keep)
    }

    /// The retained days within `range`, ascending.
    public func days(in range: ClosedRange<Int>) -> ArraySlice<Day> {
        let start = days.firstIndex { $0.day >= range.lowerBound } ?? days.endIndex
        let end = days[start...].firstIndex { $0.day > range.upperBound } ?? days.endIndex
        return days[start..<end]
    }
}

/// Days since 1970-01-01 UTC of an instant in milliseconds.
func utcDay(epochMilliseconds: Int64) -> Int {
    Int((epochMilliseconds >= 0 ? epochMilliseconds : epochMilliseconds - 86_399_999) / 86_400_000)
}

extension Int64 {
    /// Stays at the largest value instead of trapping: a sum of amounts that large is nonsense
    /// upstream, not a reason to stop the partition.
    func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
