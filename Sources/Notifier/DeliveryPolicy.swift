import Foundation
import LiaisonSchema

/// How the notifier may reach people, from its configuration: which channels serve each channel
/// class and in what order, how often a customer may be reached, when they must not be
/// disturbed and how long a message is worth trying. The stage and the planner read it; neither
/// knows where it came from.
public struct DeliveryPolicy: Sendable {
    /// Channels per channel class, most preferred first: the fallback ladder of every action.
    public var ladders: [ChannelClass: [Channel]]
    /// At most this many messages per customer and channel class within the window.
    public var frequencyCaps: [ChannelClass: FrequencyLimit]
    /// Quiet hours for customers who set none; nil leaves them undisturbed never.
    public var defaultQuietHours: DailyWindow?
    /// For customers without a time zone.
    public var defaultTimeZone: TimeZone
    /// For actions without a valid-until: how long after the action was created delivery may
    /// still be tried.
    public var defaultValidity: [ActionPriority: TimeInterval]
    public var retry: RetryPolicy
    /// An SMS longer than this many segments is not sent; the next channel is tried.
    public var maxSMSSegments: Int
    /// The webhook endpoint (by name) that deliveries over the webhook channel go to.
    public var webhookEndpoint: String

    public init(
        ladders: [ChannelClass: [Channel]] = DeliveryPolicy.standardLadders,
        frequencyCaps: [ChannelClass: FrequencyLimit] = [:],
        defaultQuietHours: DailyWindow? = nil,
        defaultTimeZone: TimeZone = TimeZone(identifier: "UTC")!,
        defaultValidity: [ActionPriority: TimeInterval] = DeliveryPolicy.standardValidity,
        retry: RetryPolicy = RetryPolicy(),
        maxSMSSegments: Int = 1,
        webhookEndpoint: String = "default"
    ) {
        self.ladders = ladders
        self.frequencyCaps = frequencyCaps
        self.defaultQuietHours = defaultQuietHours
        self.defaultTimeZone = defaultTimeZone
        self.defaultValidity = defaultValidity
        self.retry = retry
        self.maxSMSSegments = maxSMSSegments
        self.webhookEndpoint = webhookEndpoint
    }

    public static let standardLadders: [ChannelClass: [Channel]] = [
        .service: [.push, .sms, .email, .inbox],
        .marketing: [.push, .email, .inbox],
        .agentTask: [.agentTask],
        .crmUpdate: [.crm],
    ]

    public static let standardValidity: [ActionPriority: TimeInterval] = [
        .urgent: 3_600, .high: 6 * 3_600, .normal: 2 * 86_400, .low: 7 * 86_400,
    ]

    /// The channels an action may use, in order: its class's ladder, with the customer's
    /// preferred channel (an open `preferredChannel` field on the recipient) moved to the front.
    public func ladder(for action: ActionV1) -> [Channel] {
        var ladder = ladders[action.channelClass] ?? []
        if let preferred = action.recipient?.extra["preferredChannel"]?.stringValue.flatMap(Channel.init(rawValue:)),
           let index = ladder.firstIndex(of: preferred) {
            ladder.remove(at: index)
            ladder.insert(preferred, at: 0)
        }
        return ladder
    }

    /// When delivery stops being worth trying.
    public func deadline(of action: ActionV1) -> Date {
        if let validUntil = action.validUntil { return validUntil.date }
        return action.createdAt.date.addingTimeInterval(defaultValidity[action.priority] ?? 86_400)
    }
}

/// A number of messages per rolling window.
public struct FrequencyLimit: Sendable, Equatable {
    public var count: Int
    public var windowSeconds: Int64

    public init(count: Int, windowSeconds: Int64) {
        self.count = count
        self.windowSeconds = windowSeconds
    }
}

/// Exponential back-off with jitter. The jitter is drawn from the idempotency key and the attempt
/// number, so the schedule is the same whoever computes it, and it is stored with the delivery.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: TimeInterval
    public var multiplier: Double
    public var maxDelay: TimeInterval
    /// Attempts on one channel before the next channel of the ladder is tried.
    public var maxAttemptsPerChannel: Int
    /// The delay varies by up to this fraction either way.
    public var jitter: Double

    public init(initialDelay: TimeInterval = 1, multiplier: Double = 2, maxDelay: TimeInterval = 600, maxAttemptsPerChannel: Int = 5, jitter: Double = 0.2) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.maxAttemptsPerChannel = maxAttemptsPerChannel
        self.jitter = jitter
    }

    /// The wait after the `attempt`-th failed attempt (1-based) of the message with this key.
    public func delay(afterAttempt attempt: Int, key: String) -> TimeInterval {
        let base = min(maxDelay, initialDelay * pow(multiplier, Double(max(0, attempt - 1))))
        let unit = Double(stableHash(key, attempt) % 10_000) / 10_000
        return base * (1 + jitter * (2 * unit - 1))
    }
}

/// FNV-1a over the key and attempt: stable across processes, unlike `Hasher`.
func stableHash(_ key: String, _ salt: Int) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01b3
    }
    hash ^= UInt64(truncatingIfNeeded: salt)
    hash &*= 0x100_0000_01b3
    return hash
}

/// A daily span of local wall-clock time, such as quiet hours from 22:00 to 07:00. It may wrap
/// midnight.
public struct DailyWindow: Sendable, Equatable {
    public var start: (hour: Int, minute: Int)
    public var end: (hour: Int, minute: Int)

    /// From `HH:MM` texts; nil when either is not a time of day or both are equal.
    public init?(start: String, end: String) {
        guard let start = Self.timeOfDay(start), let end = Self.timeOfDay(end), start != end else { return nil }
        self.start = start
        self.end = end
    }

    public static func == (lhs: DailyWindow, rhs: DailyWindow) -> Bool {
        lhs.start == rhs.start && lhs.end == rhs.end
    }

    private static func timeOfDay(_ text: String) -> (hour: Int, minute: Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        return (hour, minute)
    }

    /// If `instant` falls inside the window in `timeZone`, the instant the window ends (the next
    /// local `end` time, which daylight saving moves correctly); nil outside it.
    public func end(ofWindowContaining instant: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let local = calendar.dateComponents([.hour, .minute], from: instant)
        let minute = (local.hour ?? 0) * 60 + (local.minute ?? 0)
        let startMinute = start.hour * 60 + start.minute
        let endMinute = end.hour * 60 + end.minute
        let inside = startMinute < endMinute
            ? minute >= startMinute && minute < endMinute
            : minute >= startMinute || minute < endMinute
        guard inside else { return nil }
        return calendar.nextDate(
            after: instant, matching: DateComponents(hour: end.hour, minute: end.minute, second: 0), matchingPolicy: .nextTime)
    }
}
