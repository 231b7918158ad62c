/// How an SMS is coded on the air. Which one a text needs decides how much of it fits in a
/// message, so one character outside GSM-7 (a typographic quote, an emoji) cuts the room by
/// more than half.
public enum SMSEncoding: String, Sendable, Hashable {
    /// The GSM 03.38 default alphabet, 7 bits a character; the extension table's characters
    /// (`^ { } \ [ ~ ] | €` and form feed) take an escape and so two septets.
    case gsm7 = "GSM-7"
    /// UTF-16 code units; a character outside the Basic Multilingual Plane takes two.
    case ucs2 = "UCS-2"

    /// Units one message holds on its own.
    public var singleSegmentUnits: Int {
        switch self {
        case .gsm7: 160
        case .ucs2: 70
        }
    }

    /// Units each part of a concatenated message holds; the rest carries the header that
    /// puts the parts back together.
    public var concatenatedSegmentUnits: Int {
        switch self {
        case .gsm7: 153
        case .ucs2: 67
        }
    }

    public var unitName: String {
        switch self {
        case .gsm7: "septets"
        case .ucs2: "UTF-16 units"
        }
    }
}

/// What a text costs as an SMS: providers bill per segment, and a text longer than the
/// configured number of segments is better sent on another channel than cut off.
public struct SMSSegments: Sendable, Hashable, CustomStringConvertible {
    public let encoding: SMSEncoding
    /// Messages the text is sent as; an empty text is still one.
    public let count: Int
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    public let units: Int

    public init(measuring text: String) {
        var costs: [Int] = []
        costs.reserveCapacity(text.unicodeScalars.count)
        var fitsGSM = true
        for scalar in text.unicodeScalars {
            if GSMAlphabet.defaultAlphabet.contains(scalar) {
                costs.append(1)
            } else if GSMAlphabet.extensionTable.contains(scalar) {
                costs.append(2)
            } else {
                fitsGSM = false
                break
            }
        }
        if !fitsGSM { costs = text.unicodeScalars.map { $0.utf16.count } }
        encoding = fitsGSM ? .gsm7 : .ucs2
        units = costs.reduce(0, +)
        count = units <= encoding.singleSegmentUnits ? 1 : Self.segmentCount(costs, capacity: encoding.concatenatedSegmentUnits)
    }

    /// Measures the text and accepts it if it fits in `maximumSegments` messages.
    public static func check(_ text: String, maximumSegments: Int) throws(SMSTooLong) -> SMSSegments {
        let segments = SMSSegments(measuring: text)
        guard segments.count <= maximumSegments else { throw SMSTooLong(segments: segments, maximumSegments: maximumSegments) }
        return segments
    }

    public var description: String {
        "\(count) \(encoding.rawValue) segment\(count == 1 ? "" : "s") (\(units) \(encoding.unitName))"
    }

    /// Parts fill up in order, and an escape sequence or a surrogate pair that does not fit in
    /// what is left of a part moves whole to the next, as handsets would not join halves.
    private static func segmentCount(_ costs: [Int], capacity: Int) -> Int {
        var segments = 1
        var used = 0
        for cost in costs {
            if used + cost > capacity {
                segments += 1
                used = 0
            }
            used += cost
        }
        return segments
    }
}

/// A text that would take more SMS segments than allowed; the notifier falls back to another
/// channel or fails the delivery with this reason.
public struct SMSTooLong: Error, Sendable, Hashable, CustomStringConvertible {
    public let segments: SMSSegments
    public let maximumSegments: Int

    public var reasonCode: String { "sms_too_long" }

    public var description: String {
        let allowed = maximumSegments == 1 ? "1 is" : "\(maximumSegments) are"
        return "the SMS needs \(segments), and at most \(allowed) allowed"
    }
}

/// GSM 03.38's default alphabet and its extension table, as Unicode.
enum GSMAlphabet {
    static let defaultAlphabet = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars
    )

    static let extensionTable: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
