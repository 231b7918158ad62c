import Foundation

extension Duration {
    /// The duration as seconds in a `Double`, for arithmetic with `Date` and rates.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
