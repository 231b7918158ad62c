import LiaisonSchema

/// Where a customer lives: the zone their quiet hours are read in, their language, currency,
/// phone numbering and the places they visit. Five zones whose days fall differently on the live
/// day, so quiet hours begin and end at many points of it.
enum Home: Int, CaseIterable {
    case newYork, losAngeles, london, berlin, shanghai

    var zone: String {
        switch self {
        case .newYork: "America/New_York"
        case .losAngeles: "America/Los_Angeles"
        case .london: "Europe/London"
        case .berlin: "Europe/Berlin"
        case .shanghai: "Asia/Shanghai"
        }
    }

    var locale: String {
        switch self {
        case .newYork, .losAngeles: "en-US"
        case .london: "en-GB"
        case .berlin: "de-DE"
        case .shanghai: "zh-CN"
        }
    }

    var currency: String {
        switch self {
        case .newYork, .losAngeles: "USD"
        case .london: "GBP"
        case .berlin: "EUR"
        case .shanghai: "CNY"
        }
    }

    /// The city centre, around which branches and open houses lie.
    var centre: (lat: Double, lon: Double) {
        switch self {
        case .newYork: (40.7128, -74.0060)
        case .losAngeles: (34.0522, -118.2437)
        case .london: (51.5074, -0.1278)
        case .berlin: (52.5200, 13.4050)
        case .shanghai: (31.2304, 121.4737)
        }
    }

    var airport: Airport {
        switch self {
        case .newYork: .jfk
        case .losAngeles: .lax
        case .london: .lhr
        case .berlin: .ber
        case .shanghai: .pvg
        }
    }

    /// A mobile number in E.164 form, unique per customer number.
    func phone(_ number: Int) -> String {
        let tail = String(number % 10_000)
        let four = String(repeating: "0", count: 4 - tail.count) + tail
        switch self {
        case .newYork: return "+1212555" + four
        case .losAngeles: return "+1310555" + four
        case .london: return "+4477009" + four
        case .berlin: return "+4915123" + four + "7"
        case .shanghai: return "+8613800" + four + "21"
        }
    }
}

/// An airport, with the zone its departure times are written in (the offset the airline
/// publishes, daylight saving included).
struct Airport: Equatable {
    var code: String
    var zone: String

    static let jfk = Airport(code: "JFK", zone: "America/New_York")
    static let lax = Airport(code: "LAX", zone: "America/Los_Angeles")
    static let lhr = Airport(code: "LHR", zone: "Europe/London")
    static let ber = Airport(code: "BER", zone: "Europe/Berlin")
    static let cdg = Airport(code: "CDG", zone: "Europe/Paris")
    static let pvg = Airport(code: "PVG", zone: "Asia/Shanghai")
    static let nrt = Airport(code: "NRT", zone: "Asia/Tokyo")
    static let syd = Airport(code: "SYD", zone: "Australia/Sydney")
    static let sin = Airport(code: "SIN", zone: "Asia/Singapore")

    static let all: [Airport] = [.jfk, .lax, .lhr, .ber, .cdg, .pvg, .nrt, .syd, .sin]
}

/// How a customer can be reached: the mix decides which channel of a ladder each message takes.
enum ContactStyle {
    /// Email, phone and the app's push token on this device.
    case app(device: String)
    case emailAndPhone
    case emailOnly
    case phoneOnly
}

/// A customer's profile as the customer master publishes it.
struct Persona {
    var index: Int
    var home: Home
    var name: String
    /// ASCII form of the name for the email address.
    var handle: String
    var birthYear: Int
    var locale: String
    var tier: String
    var contact: ContactStyle
    var marketingConsent: Bool
    /// Local `HH:MM` start and end; nil leaves the notifier's default in force.
    var quietHours: (start: String, end: String)?

    var id: String { "cust-" + number }
    var number: String {
        let digits = String(index + 1)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
    var zone: String { home.zone }
    var currency: String { home.currency }

    var email: String? {
        if case .phoneOnly = contact { return nil }
        return "\(handle).\(number)@example.com"
    }

    var phone: String? {
        if case .emailOnly = contact { return nil }
        return home.phone(index + 1)
    }

    var device: String? {
        if case let .app(device) = contact { return device }
        return nil
    }

    /// The `data` of `customer.profile.updated`; absent fields are left out rather than null.
    func profileData(pushToken: String?) -> JSONValue {
        var contactMembers: [(String, JSONValue)] = []
        if let email { contactMembers.append(("email", .string(email))) }
        if let phone { contactMembers.append(("phone", .string(phone))) }
        if let device, let pushToken {
            contactMembers.append(("pushToken", .string(pushToken)))
            contactMembers.append(("device", .string(device)))
        }
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("birthYear", .integer(birthYear)), ("locale", .string(locale)), ("timeZone", .string(zone)),
            ("tier", .string(tier)), ("contact", .object(contactMembers)),
            ("consent", .object([("marketing", .bool(marketingConsent)), ("service", .bool(true))])),
        ]
        if let quietHours {
            members.append(("quietHours", .object([("start", .string(quietHours.start)), ("end", .string(quietHours.end))])))
        }
        return .object(members)
    }

    /// A random ordinary customer: mostly living where their language is spoken, mostly
    /// reachable in the app, mostly consenting to offers and keeping the usual quiet hours.
    static func random(index: Int, using random: inout SplitMix64) -> Persona {
        let homeDraw = random.unit()
        let home: Home = homeDraw < 0.25 ? .newYork : homeDraw < 0.40 ? .losAngeles : homeDraw < 0.60 ? .london
            : homeDraw < 0.80 ? .berlin : .shanghai
        var locale = home.locale
        if random.chance(0.1) {
            locale = random.pick(Home.allCases.map(\.locale).filter { $0 != home.locale })
        }
        let (name, handle) = Names.draw(locale: locale, using: &random)
        let tierDraw = random.unit()
        let contactDraw = random.unit()
        let contact: ContactStyle = contactDraw < 0.65
            ? .app(device: random.chance(0.75) ? "phone" : "tablet")
            : contactDraw < 0.77 ? .emailOnly : contactDraw < 0.85 ? .phoneOnly : .emailAndPhone
        let quietDraw = random.unit()
        let quietHours: (String, String)? = quietDraw < 0.80 ? ("22:00", "07:00") : quietDraw < 0.88 ? ("23:00", "06:30")
            : quietDraw < 0.92 ? ("21:00", "08:00") : nil
        return Persona(
            index: index, home: home, name: name, handle: handle, birthYear: random.int(1940...2006), locale: locale,
            tier: tierDraw < 0.7 ? "standard" : tierDraw < 0.9 ? "gold" : "platinum", contact: contact,
            marketingConsent: random.chance(0.85), quietHours: quietHours)
    }
}

/// Names per language, each with the ASCII handle its email address is built from.
enum Names {
    private static let english: (given: [(String, String)], family: [(String, String)]) = (
        ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara",
         "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Emily", "Oliver", "Amelia", "George", "Isla",
         "Harry", "Grace", "Chloe", "Noah"].map { ($0, $0.lowercased()) },
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson",
         "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Evans", "Wright", "Walker",
         "Hughes"].map { ($0, $0.lowercased()) })
    private static let german: (given: [(String, String)], family: [(String, String)]) = (
        [("Lukas", "lukas"), ("Anna", "anna"), ("Leon", "leon"), ("Lena", "lena"), ("Felix", "felix"), ("Marie", "marie"),
         ("Jonas", "jonas"), ("Sophie", "sophie"), ("Paul", "paul"), ("Laura", "laura"), ("Jürgen", "juergen"),
         ("Sabine", "sabine"), ("Uwe", "uwe"), ("Monika", "monika"), ("Günter", "guenter"), ("Jörg", "joerg")],
        [("Müller", "mueller"), ("Schmidt", "schmidt"), ("Schneider", "schneider"), ("Fischer", "fischer"), ("Weber", "weber"),
         ("Meyer", "meyer"), ("Wagner", "wagner"), ("Becker", "becker"), ("Schulz", "schulz"), ("Hoffmann", "hoffmann"),
         ("Schröder", "schroeder"), ("Koch", "koch"), ("Bauer", "bauer"), ("Weiß", "weiss"), ("Groß", "gross"), ("Krüger", "krueger")])
    private static let chinese: (given: [(String, String)], family: [(String, String)]) = (
        [("伟", "wei"), ("娜", "na"), ("敏", "min"), ("洋", "yang"), ("静", "jing"), ("帆", "fan"), ("磊", "lei"), ("丽", "li"),
         ("杰", "jie"), ("芳", "fang"), ("涛", "tao"), ("悦", "yue"), ("军", "jun"), ("琳", "lin"), ("翔", "xiang"), ("晓", "xiao")],
        [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("赵", "zhao"), ("黄", "huang"),
         ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun")])

    /// A display name in the language's order (family name first in Chinese) and its handle.
    static func draw(locale: String, using random: inout SplitMix64) -> (String, String) {
        if locale.hasPrefix("zh") {
            let family = random.pick(chinese.family)
            let given = random.pick(chinese.given)
            return (family.0 + given.0, family.1 + "." + given.1)
        }
        let table = locale.hasPrefix("de") ? german : english
        let given = random.pick(table.given)
        let family = random.pick(table.family)
        return (given.0 + " " + family.0, given.1 + "." + family.1)
    }
}
