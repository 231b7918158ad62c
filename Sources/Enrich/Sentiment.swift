import Foundation
import Yams

// MARK: - Lexicon

/// The words, valences and modifiers the sentiment scorer uses for one language.
///
/// Why a lexicon and not a model: scoring runs once per event in a stream, so it must be cheap,
/// deterministic and explainable (an operator can say *why* a text scored -0.6), it must work
/// without model weights on machines that have no network, and it must be tunable by the people
/// who know the customers: an operator edits a YAML file instead of retraining anything. The
/// price is that it cannot read sarcasm or negations that come after their word ("gefällt mir
/// nicht"); the score is a signal for dashboards and routing, not a verdict on a customer.
///
/// The YAML form (`Lexicon/sentiment-en.yaml` and `Lexicon/sentiment-de.yaml` are the bundled ones):
///
/// ```yaml
/// language: en            # BCP 47 primary language subtag ("de-DE" is read as "de")
/// words:                  # valence per word, -4 ... 4; 0 means "a known word that carries no sentiment"
///   good: 2
///   terrible: -3.5
/// negations: [not, never, "no", "don't"]   # flip and dampen the sentiment words that follow
/// intensifiers:           # factor 0 ... 4 for the next sentiment word (below 1 dampens)
///   very: 1.5
///   slightly: 0.6
/// contrasts: [but, however]   # optional: the clause after the last one weighs more
/// greetings: [regards]        # optional: a sentiment word right before one of these is a formula ("Kind regards")
/// markers: [the, and]         # optional: common words of the language, used only to detect it
/// suffixes: [es, s]           # optional: endings stripped from a token that is not listed under `words`
/// ```
///
/// Every entry must be one token as ``SentimentScorer`` splits text (letters, digits and
/// apostrophes; case does not matter; `’` is read as `'`), and may appear in one section only.
/// A problem is reported as a ``SentimentLexiconError`` that names the file, the language and
/// the entry. Quote YAML words that YAML would read as something else (`"no"`, `"yes"`, `"on"`,
/// `"off"`, `"null"`, `"true"`).
public struct SentimentLexicon: Sendable {
    /// Lowercased primary language subtag, such as `en` or `de`.
    public let language: String
    /// Where the lexicon came from (a file name), for messages.
    public let origin: String
    /// Valence per lowercased word, within ``valenceRange``.
    public let words: [String: Double]
    public let negations: Set<String>
    /// Factor per intensifier, within ``factorRange``; below 1 dampens ("slightly").
    public let intensifiers: [String: Double]
    public let contrasts: Set<String>
    public let greetings: Set<String>
    public let markers: Set<String>
    /// Endings tried, longest first, on a token that is not a listed entry: `freundlichen` →
    /// `freundlich`, `fees` → `fee`. Only words (not negations and the like) are found this way,
    /// and only when at least ``minimumStemLength`` characters remain.
    public let suffixes: [String]

    public static let valenceRange: ClosedRange<Double> = -4...4
    public static let factorRange: ClosedRange<Double> = 0...4
    public static let minimumStemLength = 3

    /// Every entry of every section in one table, so the scorer looks each token up once.
    let entries: [String: SentimentEntry]

    /// Reads and validates the YAML form. `origin` names the source (usually the file name) in errors.
    public init(yaml: String, origin: String) throws(SentimentLexiconError) {
        let document: LexiconDocument
        do {
            document = try YAMLDecoder().decode(LexiconDocument.self, from: yaml)
        } catch let error as DecodingError {
            throw SentimentLexiconError(decoding: error, origin: origin)
        } catch {
            throw SentimentLexiconError(origin: origin, reason: "cannot be read as YAML: \(error)")
        }
        try self.init(
            language: document.language, words: document.words, negations: document.negations,
            intensifiers: document.intensifiers, contrasts: document.contrasts, greetings: document.greetings,
            markers: document.markers, suffixes: document.suffixes, origin: origin
        )
    }

    /// Reads the YAML form from UTF-8 bytes (a file's contents, `Data`, a ConfigMap value).
    public init(utf8 bytes: some Collection<UInt8>, origin: String) throws(SentimentLexiconError) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SentimentLexiconError(origin: origin, reason: "is not valid UTF-8")
        }
        try self.init(yaml: text, origin: origin)
    }

    /// Builds and validates a lexicon from values; the YAML initialisers end here.
    public init(
        language: String,
        words: [String: Double],
        negations: [String] = [],
        intensifiers: [String: Double] = [:],
        contrasts: [String] = [],
        greetings: [String] = [],
        markers: [String] = [],
        suffixes: [String] = [],
        origin: String = "in-memory lexicon"
    ) throws(SentimentLexiconError) {
        var builder = Builder(origin: origin)
        self.language = try builder.languageSubtag(language)
        builder.language = self.language
        guard !words.isEmpty else {
            throw builder.error(section: "words", reason: "has no entries; a lexicon needs at least one sentiment word")
        }
        var normalizedWords: [String: Double] = [:]
        for (raw, valence) in words.sorted(by: { $0.key < $1.key }) {
            guard valence.isFinite, Self.valenceRange.contains(valence) else {
                throw builder.error(
                    section: "words", entry: raw,
                    reason: "valence \(formatted(valence)) is outside \(formatted(Self.valenceRange.lowerBound))...\(formatted(Self.valenceRange.upperBound))"
                )
            }
            let word = try builder.add(raw, section: "words", entry: .word(valence))
            normalizedWords[word] = valence
        }
        var normalizedIntensifiers: [String: Double] = [:]
        for (raw, factor) in intensifiers.sorted(by: { $0.key < $1.key }) {
            guard factor.isFinite, Self.factorRange.contains(factor) else {
                throw builder.error(
                    section: "intensifiers", entry: raw,
                    reason: "factor \(formatted(factor)) is outside \(formatted(Self.factorRange.lowerBound))...\(formatted(Self.factorRange.upperBound))"
                )
            }
            let word = try builder.add(raw, section: "intensifiers", entry: .intensifier(factor))
            normalizedIntensifiers[word] = factor
        }
        self.negations = try builder.addAll(negations, section: "negations", entry: .negation)
        self.contrasts = try builder.addAll(contrasts, section: "contrasts", entry: .contrast)
        self.greetings = try builder.addAll(greetings, section: "greetings", entry: .greeting)
        self.markers = try builder.addAll(markers, section: "markers", entry: .marker)
        var normalizedSuffixes: [String] = []
        for raw in suffixes {
            let suffix = try builder.token(raw, section: "suffixes")
            guard suffix.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic }) else {
                throw builder.error(section: "suffixes", entry: raw, reason: "a suffix may contain letters only")
            }
            guard !normalizedSuffixes.contains(suffix) else {
                throw builder.error(section: "suffixes", entry: raw, reason: "is listed twice")
            }
            normalizedSuffixes.append(suffix)
        }
        self.words = normalizedWords
        self.intensifiers = normalizedIntensifiers
        // Longest first: when two endings would each leave a listed word, the longer one wins.
        self.suffixes = normalizedSuffixes.enumerated()
            .sorted { $0.element.count != $1.element.count ? $0.element.count > $1.element.count : $0.offset < $1.offset }
            .map(\.element)
        self.origin = origin
        self.entries = builder.entries
    }

    /// The lexicons shipped in the Enrich resource bundle, English first (detection ties go to the
    /// first lexicon). Parsed once per process; a broken bundle is reported the same way as a broken
    /// operator file.
    public static func bundled() throws(SentimentLexiconError) -> [SentimentLexicon] {
        try bundledLexicons.get()
    }

    /// File names (without `.yaml`) in the bundle's `Lexicon` folder, in the order `bundled()` returns them.
    public static let bundledFileNames = ["sentiment-en", "sentiment-de"]

    private static let bundledLexicons: Result<[SentimentLexicon], SentimentLexiconError> = {
        var lexicons: [SentimentLexicon] = []
        for name in bundledFileNames {
            let origin = "Lexicon/\(name).yaml"
            // `.copy("Lexicon")` keeps the folder; `.process` would flatten it, so look there too.
            guard let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Lexicon")
                ?? Bundle.module.url(forResource: name, withExtension: "yaml")
            else {
                return .failure(SentimentLexiconError(origin: origin, reason: "is missing from the Enrich resource bundle"))
            }
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                return .failure(SentimentLexiconError(origin: origin, reason: "cannot be read: \(error)"))
            }
            do throws(SentimentLexiconError) {
                lexicons.append(try SentimentLexicon(yaml: text, origin: origin))
            } catch {
                return .failure(error)
            }
        }
        return .success(lexicons)
    }()

    /// The entry a token stands for: listed as it is, or a word once one of the suffixes is taken off.
    func entry(for token: String) -> SentimentEntry? {
        if let entry = entries[token] { return entry }
        guard !suffixes.isEmpty else { return nil }
        let utf8Count = token.utf8.count
        for suffix in suffixes where utf8Count >= suffix.utf8.count + Self.minimumStemLength && token.hasSuffix(suffix) {
            let stem = token.dropLast(suffix.count)
            guard stem.count >= Self.minimumStemLength else { continue }
            if let found = entries[String(stem)], case .word = found { return found }
        }
        return nil
    }

    /// Collects entries while checking them, so every error can name the section and the entry.
    private struct Builder {
        let origin: String
        var language: String?
        var entries: [String: SentimentEntry] = [:]
        var sources: [String: (section: String, raw: String)] = [:]

        init(origin: String) {
            self.origin = origin
        }

        func error(section: String? = nil, entry: String? = nil, reason: String) -> SentimentLexiconError {
            SentimentLexiconError(origin: origin, language: language, section: section, entry: entry, reason: reason)
        }

        func languageSubtag(_ raw: String) throws(SentimentLexiconError) -> String {
            let subtag = SentimentScorer.primarySubtag(of: raw)
            guard (2...8).contains(subtag.utf8.count), subtag.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) else {
                throw error(
                    section: "language", entry: raw,
                    reason: "is not a BCP 47 language subtag (2 to 8 letters, such as en or de)"
                )
            }
            return subtag
        }

        /// The entry as the tokeniser would produce it, or an error saying why it never could.
        func token(_ raw: String, section: String) throws(SentimentLexiconError) -> String {
            switch SentimentTokenizer.normalizedWord(raw) {
            case let .success(word):
                return word
            case .failure(.empty):
                throw error(section: section, entry: raw, reason: "an entry must not be empty")
            case let .failure(.separator(scalar)):
                throw error(
                    section: section, entry: raw,
                    reason: "contains '\(scalar.escaped(asASCII: false))', where the scorer splits text, so it could never match; list single words"
                )
            case .failure(.edgeApostrophe):
                throw error(
                    section: section, entry: raw,
                    reason: "starts or ends with an apostrophe, which the scorer strips from tokens, so it could never match"
                )
            }
        }

        mutating func add(_ raw: String, section: String, entry: SentimentEntry) throws(SentimentLexiconError) -> String {
            let word = try token(raw, section: section)
            if let earlier = sources[word] {
                if earlier.section == section {
                    throw error(section: section, entry: raw, reason: "is listed twice (also as '\(earlier.raw)')")
                }
                throw error(
                    section: section, entry: raw,
                    reason: "is also listed under \(earlier.section); an entry may appear in one section only"
                )
            }
            sources[word] = (section, raw)
            entries[word] = entry
            return word
        }

        mutating func addAll(_ raws: [String], section: String, entry: SentimentEntry) throws(SentimentLexiconError) -> Set<String> {
            var words: Set<String> = []
            for raw in raws {
                words.insert(try add(raw, section: section, entry: entry))
            }
            return words
        }
    }
}

/// What a token means in one lexicon.
enum SentimentEntry: Sendable, Equatable {
    case word(Double)
    case negation
    case intensifier(Double)
    case contrast
    case greeting
    case marker
}

/// A lexicon that cannot be used, naming the file, the language, the section and the entry, with
/// what is wrong. Its `description` is the whole message:
/// `sentiment lexicon custom-en.yaml (language en): words entry 'awful': valence 9 is outside -4...4`.
public struct SentimentLexiconError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name (or other origin) given when loading.
    public var origin: String
    /// The lexicon's language, once it is known.
    public var language: String?
    /// The YAML key the problem is under (`words`, `intensifiers`, ...), if any.
    public var section: String?
    /// The entry as written in the file, if the problem is one entry.
    public var entry: String?
    public var reason: String

    public init(origin: String, language: String? = nil, section: String? = nil, entry: String? = nil, reason: String) {
        self.origin = origin
        self.language = language
        self.section = section
        self.entry = entry
        self.reason = reason
    }

    init(decoding error: DecodingError, origin: String) {
        let context: DecodingError.Context
        let reason: String
        switch error {
        case let .keyNotFound(key, keyContext):
            context = DecodingError.Context(codingPath: keyContext.codingPath + [key], debugDescription: "")
            reason = "is required"
        case let .typeMismatch(type, mismatchContext), let .valueNotFound(type, mismatchContext):
            context = mismatchContext
            if mismatchContext.codingPath.isEmpty {
                reason = "must be a YAML mapping with the keys \(LexiconDocument.keys.joined(separator: ", "))"
            } else if type == Double.self {
                reason = "must be a number"
            } else if type == String.self {
                reason = "must be a string"
            } else {
                reason = "has the wrong type (\(mismatchContext.debugDescription))"
            }
        case let .dataCorrupted(corruptContext):
            // Yams wraps what `LexiconDocument` throws, and reports parser errors the same way.
            if let unknown = corruptContext.underlyingError as? LexiconDocument.UnknownKey {
                self.init(
                    origin: origin, section: unknown.name,
                    reason: "unknown key; a lexicon has \(LexiconDocument.keys.joined(separator: ", "))"
                )
                return
            }
            context = corruptContext
            if let underlying = corruptContext.underlyingError {
                reason = "is not valid YAML: \(underlying)"
            } else {
                reason = corruptContext.debugDescription
            }
        @unknown default:
            context = DecodingError.Context(codingPath: [], debugDescription: "")
            reason = "\(error)"
        }
        let path = context.codingPath.map { $0.intValue.map { "item \($0 + 1)" } ?? $0.stringValue }
        self.init(origin: origin, section: path.first, entry: path.count > 1 ? path.dropFirst().joined(separator: ".") : nil, reason: reason)
    }

    public var description: String {
        var text = "sentiment lexicon \(origin)"
        if let language { text += " (language \(language))" }
        text += ": "
        if let section {
            text += section
            if let entry { text += " entry '\(entry)'" }
            text += ": "
        } else if let entry {
            text += "'\(entry)': "
        }
        return text + reason
    }
}

/// So `localizedDescription` (which command-line tools and loggers often print) is the whole message too.
extension SentimentLexiconError: LocalizedError {
    public var errorDescription: String? { description }
}

/// The YAML document; unknown keys are refused so a typo ("intensifer:") is not silently ignored.
private struct LexiconDocument: Decodable {
    static let keys = ["language", "words", "negations", "intensifiers", "contrasts", "greetings", "markers", "suffixes"]

    struct UnknownKey: Error {
        var name: String
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var language: String
    var words: [String: Double]
    var negations: [String]
    var intensifiers: [String: Double]
    var contrasts: [String]
    var greetings: [String]
    var markers: [String]
    var suffixes: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        if let unknown = container.allKeys.map(\.stringValue).filter({ !Self.keys.contains($0) }).sorted().first {
            throw UnknownKey(name: unknown)
        }
        language = try container.decode(String.self, forKey: Key("language"))
        words = try container.decode([String: Double].self, forKey: Key("words"))
        negations = try container.decodeIfPresent([String].self, forKey: Key("negations")) ?? []
        intensifiers = try container.decodeIfPresent([String: Double].self, forKey: Key("intensifiers")) ?? [:]
        contrasts = try container.decodeIfPresent([String].self, forKey: Key("contrasts")) ?? []
        greetings = try container.decodeIfPresent([String].self, forKey: Key("greetings")) ?? []
        markers = try container.decodeIfPresent([String].self, forKey: Key("markers")) ?? []
        suffixes = try container.decodeIfPresent([String].self, forKey: Key("suffixes")) ?? []
    }
}

private func formatted(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}

// MARK: - Scorer

/// One text's sentiment, with what it was computed from.
public struct SentimentAnalysis: Sendable, Equatable {
    /// In (-1, 1): `sum / sqrt(sum² + 15)`.
    public var score: Double
    /// The lexicon's language that scored the text.
    public var language: String
    /// How many sentiment words were scored.
    public var matches: Int
    /// The weighted sum of valences after the exclamation boost, before normalising.
    public var sum: Double
}

/// Scores customer feedback text in [-1, 1] with per-language lexicons.
///
/// **Tokens.** The text is lowercased (Unicode default case mapping, the same in every locale)
/// and split at every character that is not a letter, digit, combining mark or apostrophe
/// (`’`, `ʼ`, `‘`, `´` and `` ` `` count as `'`); apostrophes at either end of a token are dropped.
/// Umlauts and ß stay in the token, compounds are not split, and a decomposed `ä` (a + U+0308)
/// finds the same entry as a precomposed one. The characters `. , ; : ! ? … ( ) [ ] { } – —` and
/// line breaks also end a *clause*: negations and intensifiers reach no further back than the
/// start of the clause (so in "Not slow. Good service" the "not" does not touch "good").
///
/// **Weights.** For every token that is a sentiment word with valence `v` (listed, or found by
/// taking off one of the lexicon's suffixes) the scorer adds `w = v · f · n · c`:
/// - `f`: the factor of the nearest intensifier among the previous 2 tokens of the clause, else 1
///   ("very bad" = -2.5 · 1.5);
/// - `n`: -0.5 if a negation is among the previous 3 tokens of the clause, else 1: a negated
///   positive becomes mildly negative and a negated negative mildly positive ("not good" = 2 · -0.5);
/// - `c`: 0.5 before the last contrast word ("but", "aber"), 1.5 after it, 1 when the text has
///   none: in "friendly but slow" the part after "but" is what the customer means. A contrast word
///   also starts a new clause.
///
/// A word right before a greeting ("Kind regards", "Mit freundlichen Grüßen", "Guten Tag") is a
/// formula, not an opinion, and is skipped. A word with valence 0 is known but neutral: it is not
/// scored and not counted as a match.
///
/// **Exclamations.** With `S = Σ w` and `e` = the number of `!` in the text, at most 3:
/// `S' = S + sign(S) · 0.3 · e` (the marks make the sum louder in its own direction; a sum of 0
/// stays 0).
///
/// **Score.** `score = S' / sqrt(S'² + 15)`, in (-1, 1); one word of valence 2 gives
/// `2 / sqrt(19)` ≈ 0.459. Without any sentiment word the result is `nil`, not 0, so "no opinion
/// found" stays apart from "balanced opinion".
///
/// **Language.** A `language` tag ("de-DE", "en") selects the lexicon of its primary subtag when
/// one is loaded. Without a tag, or with a tag no lexicon has, every lexicon scores the text and
/// the one with the most hits wins (a hit is any token that is one of its entries: words,
/// negations, intensifiers, contrasts, greetings or markers); on equal hits the one with more
/// sentiment words wins ("Alles super": German `super` is a word, English `super` only an
/// intensifier), and after that the lexicon that comes first. The chosen lexicon alone decides the score, so the result can be `nil` even when another
/// lexicon knew a word.
///
/// All tables are built when the lexicons are loaded; scoring is one pass over the text and one
/// dictionary look-up per token and lexicon (plus a few for suffixes on unknown tokens), without
/// regular expressions or Foundation.
public struct SentimentScorer: Sendable {
    /// One lexicon per language, in the order given (a later lexicon for the same language
    /// replaces the earlier one in its place, so `bundled() + [operatorEnglish]` overrides English).
    public let lexicons: [SentimentLexicon]
    private let indexByLanguage: [String: Int]

    public static let exclamationStep = 0.3
    public static let maximumExclamations = 3
    public static let normalisation = 15.0
    public static let negationFactor = -0.5
    public static let beforeContrastFactor = 0.5
    public static let afterContrastFactor = 1.5
    public static let intensifierReach = 2
    public static let negationReach = 3

    public init(lexicons: [SentimentLexicon]) {
        var kept: [SentimentLexicon] = []
        var index: [String: Int] = [:]
        for lexicon in lexicons {
            if let existing = index[lexicon.language] {
                kept[existing] = lexicon
            } else {
                index[lexicon.language] = kept.count
                kept.append(lexicon)
            }
        }
        self.lexicons = kept
        self.indexByLanguage = index
    }

    public var languages: [String] { lexicons.map(\.language) }

    /// Score in [-1, 1] (in practice the open interval), or nil when no lexicon word was found.
    public func score(text: String, language: String?) -> Double? {
        analyze(text: text, language: language)?.score
    }

    /// The score with the language used and the number of words it rests on; nil when no
    /// sentiment word was found.
    public func analyze(text: String, language: String?) -> SentimentAnalysis? {
        guard !lexicons.isEmpty else { return nil }
        let scan = SentimentTokenizer.scan(text)
        guard !scan.tokens.isEmpty else { return nil }
        if let language, let index = indexByLanguage[Self.primarySubtag(of: language)] {
            return evaluate(scan, with: lexicons[index]).analysis
        }
        var best: Evaluation?
        for lexicon in lexicons {
            let evaluation = evaluate(scan, with: lexicon)
            if let current = best, (evaluation.hits, evaluation.matches) <= (current.hits, current.matches) { continue }
            best = evaluation
        }
        return best?.analysis
    }

    /// `de-DE` → `de`, ` EN_us ` → `en`.
    static func primarySubtag(of tag: String) -> String {
        let trimmed = tag.unicodeScalars.drop { $0.properties.isWhitespace }
        let subtag = trimmed.prefix { $0 != "-" && $0 != "_" && !$0.properties.isWhitespace }
        return String(String.UnicodeScalarView(subtag)).lowercased()
    }

    private struct Evaluation {
        var language: String
        var hits = 0
        var matches = 0
        var sum = 0.0

        var analysis: SentimentAnalysis? {
            guard matches > 0 else { return nil }
            return SentimentAnalysis(
                score: sum / (sum * sum + SentimentScorer.normalisation).squareRoot(),
                language: language, matches: matches, sum: sum
            )
        }
    }

    private func evaluate(_ scan: SentimentTokenizer.Scan, with lexicon: SentimentLexicon) -> Evaluation {
        let tokens = scan.tokens
        let resolved = tokens.map { lexicon.entry(for: $0.text) }
        var evaluation = Evaluation(language: lexicon.language)
        var beforeContrast = 0.0
        var sinceContrast = 0.0
        var sawContrast = false
        var clauseStart = 0
        for i in tokens.indices {
            if tokens[i].startsClause { clauseStart = i }
            guard let entry = resolved[i] else { continue }
            evaluation.hits += 1
            switch entry {
            case .contrast:
                sawContrast = true
                beforeContrast += sinceContrast
                sinceContrast = 0
                clauseStart = i + 1
            case let .word(valence):
                guard valence != 0 else { continue }
                if i + 1 < tokens.count, !tokens[i + 1].startsClause, resolved[i + 1] == .greeting { continue }
                var weight = valence
                var j = i - 1
                while j >= max(clauseStart, i - Self.intensifierReach) {
                    if case let .intensifier(factor)? = resolved[j] {
                        weight *= factor
                        break
                    }
                    j -= 1
                }
                j = i - 1
                while j >= max(clauseStart, i - Self.negationReach) {
                    if resolved[j] == .negation {
                        weight *= Self.negationFactor
                        break
                    }
                    j -= 1
                }
                sinceContrast += weight
                evaluation.matches += 1
            case .negation, .intensifier, .greeting, .marker:
                break
            }
        }
        var sum = sawContrast
            ? Self.beforeContrastFactor * beforeContrast + Self.afterContrastFactor * sinceContrast
            : sinceContrast
        let exclamations = min(scan.exclamations, Self.maximumExclamations)
        if sum != 0, exclamations > 0 {
            let boost = Self.exclamationStep * Double(exclamations)
            sum += sum > 0 ? boost : -boost
        }
        evaluation.sum = sum
        return evaluation
    }
}

// MARK: - Tokeniser

/// Splits text into lowercased word tokens, noting where clauses start and counting `!`.
enum SentimentTokenizer {
    struct Token: Sendable, Equatable {
        var text: String
        /// Punctuation or a line break came between this token and the one before.
        var startsClause: Bool
    }

    struct Scan: Sendable {
        var tokens: [Token]
        var exclamations: Int
    }

    enum WordProblem: Error, Equatable {
        case empty
        case separator(Unicode.Scalar)
        case edgeApostrophe
    }

    private enum Kind {
        case letter
        case apostrophe
        case clauseBreak
        case exclamation
        case separator
    }

    private static let apostrophe = UInt8(ascii: "'")

    private static func kind(of scalar: Unicode.Scalar) -> Kind {
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: return .letter
        case 0x27, 0x60, 0xB4, 0x2BC, 0x2018, 0x2019: return .apostrophe
        case 0x21, 0xFF01: return .exclamation
        case 0x2E, 0x2C, 0x3B, 0x3A, 0x3F, 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D, 0x0A, 0x0D,
             0x85, 0x2028, 0x2029, 0x2026, 0x2013, 0x2014, 0xA1, 0xBF, 0xFF1F, 0x3002:
            return .clauseBreak
        case 0...0x7F: return .separator
        default:
            let properties = scalar.properties
            if properties.isAlphabetic { return .letter }
            switch properties.generalCategory {
            case .decimalNumber, .nonspacingMark, .spacingMark, .enclosingMark: return .letter
            default: return .separator
            }
        }
    }

    private static func appendLowercased(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
        let value = scalar.value
        if value < 0x80 {
            buffer.append(UInt8(value) | (0x41...0x5A ~= value ? 0x20 : 0))
            return
        }
        let properties = scalar.properties
        if properties.changesWhenLowercased {
            for lower in properties.lowercaseMapping.unicodeScalars {
                UTF8.encode(lower) { buffer.append($0) }
            }
        } else {
            UTF8.encode(scalar) { buffer.append($0) }
        }
    }

    static func scan(_ text: String) -> Scan {
        var tokens: [Token] = []
        tokens.reserveCapacity(text.utf8.count / 6 + 1)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(32)
        var exclamations = 0
        var clauseBreakPending = false

        func flush() {
            guard !buffer.isEmpty else { return }
            var start = buffer.startIndex
            var end = buffer.endIndex
            while start < end, buffer[start] == apostrophe { start += 1 }
            while end > start, buffer[end - 1] == apostrophe { end -= 1 }
            if start < end {
                tokens.append(Token(text: String(decoding: buffer[start..<end], as: UTF8.self), startsClause: clauseBreakPending))
                clauseBreakPending = false
            }
            buffer.removeAll(keepingCapacity: true)
        }

        for scalar in text.unicodeScalars {
            switch kind(of: scalar) {
            case .letter:
                appendLowercased(scalar, to: &buffer)
            case .apostrophe:
                buffer.append(apostrophe)
            case .exclamation:
                exclamations += 1
                flush()
                clauseBreakPending = true
            case .clauseBreak:
                flush()
                clauseBreakPending = true
            case .separator:
                flush()
            }
        }
        flush()
        return Scan(tokens: tokens, exclamations: exclamations)
    }

    /// A lexicon entry as the scanner would produce it from text, or why it never could be.
    static func normalizedWord(_ raw: String) -> Result<String, WordProblem> {
        var buffer: [UInt8] = []
        let scalars = raw.unicodeScalars
            .drop { $0.properties.isWhitespace }
            .reversed().drop { $0.properties.isWhitespace }.reversed()
        for scalar in scalars {
            switch kind(of: scalar) {
            case .letter: appendLowercased(scalar, to: &buffer)
            case .apostrophe: buffer.append(apostrophe)
            case .exclamation, .clauseBreak, .separator: return .failure(.separator(scalar))
            }
        }
        guard let first = buffer.first, let last = buffer.last else { return .failure(.empty) }
        guard first != apostrophe, last != apostrophe else { return .failure(.edgeApostrophe) }
        return .success(String(decoding: buffer, as: UTF8.self))
    }
}
