import Foundation

/// A process's resident memory sampled over a long run, and whether it levelled off: a leak
/// shows as growth after warm-up, which a single peak figure cannot tell from a large but
/// steady working set.
public struct ResidentMemoryCurve: Sendable {
    /// Seconds since the run began and resident megabytes, in order of time.
    public private(set) var samples: [(seconds: Double, megabytes: Double)] = []

    public init() {}

    public mutating func add(seconds: Double, megabytes: Double) {
        samples.append((seconds, megabytes))
    }

    /// The run cut in thirds: the first is warm-up and not judged; the curve is flat when the
    /// highest sample of the last third is at most `tolerance` (a fraction) plus `slackMB`
    /// above the highest of the middle third. `nil` until each third has a sample.
    public func isFlat(tolerance: Double = 0.10, slackMB: Double = 16) -> Bool? {
        guard let growth = growthAfterWarmUp else { return nil }
        return growth.late <= growth.middle * (1 + tolerance) + slackMB
    }

    /// The highest samples of the middle and last thirds of the run.
    public var growthAfterWarmUp: (middle: Double, late: Double)? {
        guard let end = samples.last?.seconds, end > 0 else { return nil }
        let middle = samples.filter { $0.seconds > end / 3 && $0.seconds <= end * 2 / 3 }.map(\.megabytes)
        let late = samples.filter { $0.seconds > end * 2 / 3 }.map(\.megabytes)
        guard let middlePeak = middle.max(), let latePeak = late.max() else { return nil }
        return (middlePeak, latePeak)
    }

    /// Resident and peak resident megabytes of a running process (VmRSS and VmHWM), from
    /// `/proc`; nil once it has gone.
    public static func read(processIdentifier: Int32) -> (resident: Double, peak: Double)? {
        guard let status = try? String(contentsOfFile: "/proc/\(processIdentifier)/status", encoding: .utf8) else { return nil }
        func megabytes(_ field: String) -> Double? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
                let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
            else { return nil }
            return kilobytes / 1024
        }
        guard let resident = megabytes("VmRSS:"), let peak = megabytes("VmHWM:") else { return nil }
        return (resident, peak)
    }
}
