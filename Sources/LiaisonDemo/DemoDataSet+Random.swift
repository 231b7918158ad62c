import Foundation

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast and fully specified, so the same seed
/// gives the same data set on every machine and Swift version, which the system generator does
/// not promise.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// A generator for one part of the data set (a customer, the cast, the broken records), so
    /// adding records to one part leaves every other part's numbers unchanged.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    /// Uniform in the range, by rejection, so no value is favoured.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        let limit = UInt64.max - UInt64.max % span
        var draw = next()
        while draw >= limit { draw = next() }
        return range.lowerBound + Int(draw % span)
    }

    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[int(0...(elements.count - 1))]
    }

    /// Cents uniform between two amounts given in cents.
    mutating func cents(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(int(0...Int(range.upperBound - range.lowerBound)))
    }

    /// A Poisson draw (Knuth's method; the means here are small).
    mutating func poisson(_ mean: Double) -> Int {
        let limit = exp(-mean)
        var product = unit()
        var count = 0
        while product > limit {
            product *= unit()
            count += 1
        }
        return count
    }

    /// Fisher–Yates, with this generator's draws.
    mutating func shuffled<Element>(_ elements: [Element]) -> [Element] {
        var result = elements
        guard result.count > 1 else { return result }
        for index in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(index, int(0...index))
        }
        return result
    }
}

