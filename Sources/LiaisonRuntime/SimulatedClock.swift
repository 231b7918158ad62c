import Foundation
import LiaisonSchema
import Synchronization

/// Simulated time shared by several processes through a small file, so a demo can replay weeks
/// of records in minutes and hold time still while it loads history. Timers, validity and quiet
/// hours then all agree across the stages. The file is re-read at most every 50 ms, so whoever
/// drives the simulation can start, stop or change it while the stages run. Never for production.
public final class SimulatedClock: Sendable {
    /// The clock's setting as kept in the file.
    public struct Setting: Codable, Sendable, Equatable {
        /// Simulated time when the clock started running (or where it stands while frozen).
        public var startMs: Int64
        /// Wall time at which simulated time was `startMs`; nil while the clock is frozen.
        public var runningSinceMs: Int64?
        /// Simulated seconds per real second.
        public var rate: Double

        public init(start: Date, runningSince: Date?, rate: Double) {
            startMs = start.epochMilliseconds
            runningSinceMs = runningSince?.epochMilliseconds
            self.rate = rate
        }

        /// Simulated time at a wall-clock instant.
        public func time(atWall wall: Date) -> Date {
            let start = Date(timeIntervalSince1970: Double(startMs) / 1000)
            guard let runningSinceMs else { return start }
            let elapsed = max(0, wall.timeIntervalSince1970 - Double(runningSinceMs) / 1000)
            return start.addingTimeInterval(elapsed * rate)
        }

        /// Writes the setting so that readers never see half a file.
        public func write(to file: URL) throws {
            let staging = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString)")
            try JSONEncoder().encode(self).write(to: staging)
            guard rename(staging.path, file.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: staging)
                throw ConfigurationError("cannot write the clock file \(file.path): \(reason)")
            }
        }

        public static func read(from file: URL) throws(ConfigurationError) -> Setting {
            do {
                return try JSONDecoder().decode(Setting.self, from: Data(contentsOf: file))
            } catch {
                throw ConfigurationError(
                    "the clock file \(file.path) cannot be read as {\"startMs\", \"runningSinceMs\", \"rate\"}: \(error)")
            }
        }
    }

    private struct Cached {
        var setting: Setting
        var readAt: ContinuousClock.Instant
    }

    private let file: URL
    private let cached: Mutex<Cached>

    /// Fails at once when the file is missing or unreadable, so a mistyped path stops start-up.
    public init(file: URL) throws(ConfigurationError) {
        self.file = file
        cached = Mutex(Cached(setting: try Setting.read(from: file), readAt: .now))
    }

    /// The simulated time now. A file that cannot be read later (being replaced) keeps the
    /// last good setting.
    public func now() -> Date {
        let setting = cached.withLock { cached in
            if ContinuousClock.now - cached.readAt >= .milliseconds(50) {
                if let fresh = try? Setting.read(from: file) { cached.setting = fresh }
                cached.readAt = .now
            }
            return cached.setting
        }
        return setting.time(atWall: Date())
    }
}
