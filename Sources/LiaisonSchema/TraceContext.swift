/// W3C Trace Context (`traceparent`), so one record can be followed through every stage.
/// Span ids are derived from the record's id rather than drawn at random, so a re-processed
/// record carries the same trace context as the first time.
public enum TraceContext {
    public static let headerName = "traceparent"

    /// The value when it is a well-formed version-00 `traceparent`, else nil (and a new trace starts).
    public static func validTraceparent(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.count == 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-") else { return nil }
        func isHex(_ range: Range<Int>) -> Bool {
            bytes[range].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        }
        guard isHex(0..<2), isHex(3..<35), isHex(36..<52), isHex(53..<55), value.hasPrefix("00") else { return nil }
        let traceID = bytes[3..<35]
        let parentID = bytes[36..<52]
        guard traceID.contains(where: { $0 != UInt8(ascii: "0") }), parentID.contains(where: { $0 != UInt8(ascii: "0") }) else { return nil }
        return value
    }

    /// A `traceparent` for the work done on `recordID`: a child span of `parent` when there is
    /// one, else the root of a new trace, sampled.
    public static func child(of parent: String?, recordID: String) -> String {
        var bytes = Array("00-".utf8)
        bytes.reserveCapacity(55)
        var state = fnv1a(recordID)
        let spanID = mix(&state)
        if let parent, validTraceparent(parent) != nil {
            let parentBytes = Array(parent.utf8)
            bytes.append(contentsOf: parentBytes[3..<36])
            appendHex(spanID, to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            bytes.append(contentsOf: parentBytes[53..<55])
        } else {
            appendHex(mix(&state), to: &bytes)
            appendHex(mix(&state), to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            appendHex(spanID, to: &bytes)
            bytes.append(contentsOf: "-01".utf8)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The next value of a SplitMix64 sequence seeded with the record id's hash: well spread,
    /// and never zero (an all-zero trace or span id is invalid).
    private static func mix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z == 0 ? 1 : z
    }

    /// Sixteen lower-case hex digits.
    private static func appendHex(_ value: UInt64, to bytes: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(digits[Int(value >> UInt64(shift) & 0xF)])
        }
    }
}
