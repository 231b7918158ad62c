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
        let spanID = hex(fnv1a(recordID, basis: 0xCBF2_9CE4_8422_2325))
        if let parent, validTraceparent(parent) != nil {
            let bytes = Array(parent.utf8)
            let traceID = String(decoding: bytes[3..<35], as: UTF8.self)
            let flags = String(decoding: bytes[53..<55], as: UTF8.self)
            return "00-\(traceID)-\(spanID)-\(flags)"
        }
        let traceID = hex(fnv1a(recordID, basis: 0x6C62_272E_07BB_0142)) + hex(fnv1a(recordID, basis: 0x8422_2325_CBF2_9CE4))
        return "00-\(traceID)-\(spanID)-01"
    }

    private static func fnv1a(_ text: String, basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash == 0 ? 1 : hash
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
