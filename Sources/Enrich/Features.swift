import Foundation
import LiaisonSchema

/// The tunable parts of the derived features, read from the enrich configuration file.
public struct FeatureSettings: Sendable, Equatable {
    /// Fraction added to the largest 30-day checking outflow to get the cash need.
    public var cashNeedBuffer: Decimal = Decimal(string: "0.1")!
    public var churnWeights = ChurnWeights()
    /// A case counts towards churn risk once it has been open this many days.
    public var unresolvedCaseDays = 7
    /// A case open this many days counts fully.
    public var caseAgeSaturationDays = 30
    /// Fewer baseline days than this (a new customer) gives no z-score.
    public var minimumBaselineDays = 28

    public struct ChurnWeights: Sendable, Equatable {
        public var sentiment = 0.4
        public var cases = 0.35
        public var activity = 0.25

        public init(sentiment: Double = 0.4, cases: Double = 0.35, activity: Double = 0.25) {
            self.sentiment = sentiment
            self.cases = cases
            self.activity = activity
        }
    }

    public init() {}
}

/// The derived features, each a pure function of the profile as of its newest event day
/// (`asOf`), so replaying the same events gives the same numbers whenever it runs.
public enum Features {
    /// Checking outflow the customer needs: the largest sum of checking debits over any 30
    /// consecutive days inside the last 90 (windows [d−29, d] for d in [asOf−60, asOf]),
    /// times (1 + buffer), rounded to cents. nil without any checking debit in the 90 days.
    public static func cashNeed(_ activity: DailyActivity, asOf: Int, buffer: Decimal) -> Decimal? {
        let debits = activity.days(in: (asOf - 89)...asOf).filter { $0.checkingDebitMicros > 0 }
        guard !debits.isEmpty else { return nil }
        // A window's sum only grows when a debit day enters it, so the largest is at the first
        // window's end or at a debit day's; one pass with the window sliding along.
        let ends = [asOf - 60] + debits.map(\.day).filter { $0 > asOf - 60 }
        var largestMicros: Int64 = 0
        var sum: Int64 = 0
        var entering = 0
        var leaving = 0
        for end in ends {
            while entering < debits.count, debits[entering].day <= end {
                sum = sum.addingSaturated(debits[entering].checkingDebitMicros)
                entering += 1
            }
            while leaving < entering, debits[leaving].day <= end - 30 {
                sum -= debits[leaving].checkingDebitMicros
                leaving += 1
            }
            largestMicros = max(largestMicros, sum)
        }
        let largest = Decimal(sign: .plus, exponent: -6, significand: Decimal(largestMicros))
        return rounded(largest * (1 + buffer), places: 2)
    }

    /// How far the last 14 days (asOf−13 … asOf) depart from the 90 days before them
    /// (asOf−103 … asOf−14), in standard deviations of a baseline day:
    /// z = (mean of the recent days − μ) / σ, with μ and σ the mean and population standard
    /// deviation of the baseline days. Days without activity count as zero; baseline days before
    /// the customer's first activity do not count. nil with fewer than `minimumDays` baseline
    /// days or σ = 0.
    public static func zScore(
        _ activity: DailyActivity, asOf: Int, minimumDays: Int, value: (DailyActivity.Day) -> Double
    ) -> Double? {
        guard let first = activity.firstDay else { return nil }
        let baselineStart = max(asOf - 103, first)
        let baselineEnd = asOf - 14
        let count = baselineEnd - baselineStart + 1
        guard count >= minimumDays else { return nil }
        let baseline = activity.days(in: baselineStart...baselineEnd).map(value)
        let mean = baseline.reduce(0, +) / Double(count)
        // Days without activity are zeros: each adds mean² to the sum of squared deviations.
        let squares = baseline.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } + Double(count - baseline.count) * mean * mean
        let deviation = (squares / Double(count)).squareRoot()
        guard deviation > 0 else { return nil }
        let recent = activity.days(in: (asOf - 13)...asOf).map(value).reduce(0, +) / 14
        return (recent - mean) / deviation
    }

    /// Churn risk in [0, 1]: w_s·S + w_c·C + w_a·A, clamped, where
    /// - S (sentiment) = clamp(max(0, −r) + max(0, p − r) / 2, 0, 1), r the mean feedback score
    ///   of the last 30 days and p of the 90 days before; a falling trend adds to a negative level;
    /// - C (cases) = 0 while the oldest unresolved case is younger than `unresolvedCaseDays`,
    ///   else min(1, its age in days / `caseAgeSaturationDays`);
    /// - A (activity) = clamp(−z / 3, 0, 1) for the activity z-score: a drop of 3σ counts fully.
    public static func churnRisk(
        sentimentRecent: Double?, sentimentPrior: Double?, oldestOpenCaseDays: Int?, activityZ: Double?,
        settings: FeatureSettings
    ) -> Double {
        var sentimentTerm = 0.0
        if let recent = sentimentRecent {
            sentimentTerm = max(0, -recent) + max(0, (sentimentPrior ?? recent) - recent) / 2
        }
        var caseTerm = 0.0
        if let age = oldestOpenCaseDays, age >= settings.unresolvedCaseDays {
            caseTerm = min(1, Double(age) / Double(max(1, settings.caseAgeSaturationDays)))
        }
        let activityTerm = activityZ.map { clamp(-$0 / 3) } ?? 0
        let weights = settings.churnWeights
        return clamp(weights.sentiment * clamp(sentimentTerm) + weights.cases * caseTerm + weights.activity * activityTerm)
    }

    /// Generation band by birth year (Pew Research's boundaries, with gen-alpha after 2012).
    public static func generation(birthYear: Int) -> String {
        switch birthYear {
        case ..<1946: "silent"
        case ..<1965: "boomer"
        case ..<1981: "gen-x"
        case ..<1997: "millennial"
        case ..<2013: "gen-z"
        default: "gen-alpha"
        }
    }

    /// The mean score of the points with times in [fromMs, toMs), or nil when there are none.
    static func meanSentiment(_ points: [CustomerProfile.SentimentPoint], fromMs: Int64, toMs: Int64) -> Double? {
        let scores = points.filter { $0.atMs >= fromMs && $0.atMs < toMs }.map(\.score)
        return scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
    }

    static func rounded(_ value: Decimal, places: Int) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, places, .plain)
        return output
    }

    static func rounded(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }

    private static func clamp(_ value: Double) -> Double { min(1, max(0, value)) }
}
