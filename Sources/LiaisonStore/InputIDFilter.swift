/// A Bloom filter over the ledger's input ids. It answers "certainly new" for almost every id,
/// so de-duplication asks SQLite only about the few it might have seen. It lives in memory
/// and is rebuilt from the ledger whenever the partition's file is opened.
struct InputIDFilter {
    private var bits: [UInt64]
    private let hashes = 7
    private(set) var count = 0
    /// Ids it holds before false positives exceed about 1%; past that it must be rebuilt larger.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1024)
        bits = Array(repeating: 0, count: (self.capacity * 10 + 63) / 64)
    }

    var isFull: Bool { count > capacity }

    mutating func insert(_ id: String) {
        let (start, step) = Self.hashPair(id)
        let bitCount = UInt64(bits.count * 64)
        for index in 0..<UInt64(hashes) {
            let position = (start &+ index &* step) % bitCount
            bits[Int(position >> 6)] |= 1 << (position & 63)
        }
        count += 1
    }

    func mightContain(_ id: String) -> Bool {
        let (start, step) = Self.hashPair(id)
        let bitCount = UInt64(bits.count * 64)
        for index in 0..<UInt64(hashes) {
            let position = (start &+ index &* step) % bitCount
            if bits[Int(position >> 6)] & (1 << (position & 63)) == 0 { return false }
        }
        return true
    }

    /// Two independent 64-bit hashes of the id; position i is `start + i * step` (double hashing).
    private static func hashPair(_ id: String) -> (start: UInt64, step: UInt64) {
        var first = Hasher()
        first.combine(id)
        var second = Hasher()
        second.combine(0x9E37_79B9_7F4A_7C15 as UInt64)
        second.combine(id)
        return (UInt64(bitPattern: Int64(first.finalize())), UInt64(bitPattern: Int64(second.finalize())) | 1)
    }
}
