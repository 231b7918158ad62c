import Enrich
import XCTest

/// Every expected value is worked out by hand from the formula in `SentimentScorer`'s doc comment:
/// w = v · f · n · c per sentiment word, S = Σ w, S' = S ± 0.3 · min(!, 3), score = S' / sqrt(S'² + 15).
/// The valences quoted in the comments are the ones in the bundled lexicons.
final class SentimentTests: XCTestCase {
    static let scorer: SentimentScorer = {
        do {
            return SentimentScorer(lexicons: try SentimentLexicon.bundled())
        } catch {
            fatalError("\(error)")
        }
    }()

    var scorer: SentimentScorer { Self.scorer }

    /// The closed form for a weighted sum S' (after the exclamation boost).
    func normalised(_ sum: Double) -> Double { sum / (sum * sum + 15).squareRoot() }

    func assertScore(_ text: String, _ language: String?, _ expected: Double, file: StaticString = #filePath, line: UInt = #line) {
        guard let score = scorer.score(text: text, language: language) else {
            return XCTFail("no score for \"\(text)\"", file: file, line: line)
        }
        XCTAssertEqual(score, expected, accuracy: 1e-9, "\"\(text)\"", file: file, line: line)
    }

    func lexiconError(_ yaml: String, origin: String = "custom-en.yaml") -> SentimentLexiconError? {
        do throws(SentimentLexiconError) {
            _ = try SentimentLexicon(yaml: yaml, origin: origin)
            return nil
        } catch {
            return error
        }
    }

    // MARK: English

    func testEnglishPositiveWord() {
        // helpful = 2 → 2 / sqrt(4 + 15) = 2 / sqrt(19) ≈ 0.4588
        assertScore("The staff were helpful.", "en", 2 / 19.0.squareRoot())
    }

    func testEnglishNegativeWord() {
        // rude = -3 → -3 / sqrt(9 + 15) = -3 / sqrt(24) ≈ -0.6124
        assertScore("Rude staff at the branch", "en", -3 / 24.0.squareRoot())
    }

    func testEnglishNegation() {
        // good = 2, "not" one token before: 2 · -0.5 = -1 → -1 / sqrt(1 + 15) = -0.25
        assertScore("The advice was not good", "en", -0.25)
        // bad = -2.5, "never" three tokens before: -2.5 · -0.5 = 1.25 → 1.25 / sqrt(1.5625 + 15)
        assertScore("I never had a bad experience", "en", 1.25 / 16.5625.squareRoot())
        // "not" six tokens before "bad" is out of reach: -2.5 → -2.5 / sqrt(6.25 + 15)
        assertScore("not that I think it was bad", "en", -2.5 / 21.25.squareRoot())
        // "no" (quoted in the YAML) negates problems → problem = -1.5: 0.75 → 0.75 / sqrt(0.5625 + 15)
        assertScore("No problems at all", "en", 0.75 / 15.5625.squareRoot())
        // curly apostrophe reads as "don't"; recommend = 2 → 2 · -0.5 = -1 → -0.25
        assertScore("I don’t recommend them", "en", -0.25)
    }

    func testEnglishIntensifiers() {
        // bad = -2.5, very = 1.5: -3.75 → -3.75 / sqrt(14.0625 + 15)
        assertScore("very bad", "en", -3.75 / 29.0625.squareRoot())
        // only the nearest intensifier counts: still -3.75
        assertScore("very very bad", "en", -3.75 / 29.0625.squareRoot())
        // slow = -1.5, slightly = 0.6 (a dampener): -0.9 → -0.9 / sqrt(0.81 + 15)
        assertScore("slightly slow", "en", -0.9 / 15.81.squareRoot())
        // intensifier two tokens back: friendly = 2, very = 1.5 → 3 → 3 / sqrt(24)
        assertScore("very much friendly", "en", 3 / 24.0.squareRoot())
        // a comma ends the clause, so "very" does not reach "friendly": 2 → 2 / sqrt(19)
        assertScore("very, friendly", "en", 2 / 19.0.squareRoot())
        // good = 2, very = 1.5, not = -0.5: 2 · 1.5 · -0.5 = -1.5 → -1.5 / sqrt(2.25 + 15)
        assertScore("not very good", "en", -1.5 / 17.25.squareRoot())
    }

    func testEnglishContrast() {
        // friendly = 2 before "but" (· 0.5), slow = -1.5 after (· 1.5): 1 - 2.25 = -1.25
        // → -1.25 / sqrt(1.5625 + 15)
        assertScore("Friendly staff but slow", "en", -1.25 / 16.5625.squareRoot())
        // the other way round: -1.5 · 0.5 + 2 · 1.5 = 2.25 → 2.25 / sqrt(5.0625 + 15)
        assertScore("slow but friendly", "en", 2.25 / 20.0625.squareRoot())
        // only the last contrast splits: good = 2 and slow = -1.5 count half, friendly 1.5x:
        // 0.5 · (2 - 1.5) + 1.5 · 2 = 3.25 → 3.25 / sqrt(10.5625 + 15)
        assertScore("good but slow, however friendly", "en", 3.25 / 25.5625.squareRoot())
        // "but" starts a new clause, so "not" reaches "slow" but not "friendly":
        // 0.5 · (-1.5 · -0.5) + 1.5 · 2 = 0.375 + 3 = 3.375 → 3.375 / sqrt(11.390625 + 15)
        assertScore("not slow but friendly", "en", 3.375 / 26.390625.squareRoot())
    }

    func testExclamationMarks() {
        // great = 3, four "!" count as three: 3 + 0.9 = 3.9 → 3.9 / sqrt(15.21 + 15)
        assertScore("Great!!!!", "en", 3.9 / 30.21.squareRoot())
        // terrible = -3.5, one "!" pushes away from 0: -3.8 → -3.8 / sqrt(14.44 + 15)
        assertScore("Terrible!", "en", -3.8 / 29.44.squareRoot())
        // "!" without a sentiment word is still no opinion
        XCTAssertNil(scorer.score(text: "!!!", language: "en"))
    }

    func testNoSentimentWordGivesNil() {
        XCTAssertNil(scorer.score(text: "I opened an account yesterday.", language: "en"))
        XCTAssertNil(scorer.score(text: "I opened an account yesterday.", language: nil))
        XCTAssertNil(scorer.score(text: "", language: nil))
        XCTAssertNil(scorer.score(text: "  ...  ", language: "de"))
        XCTAssertNil(SentimentScorer(lexicons: []).score(text: "good", language: "en"))
    }

    func testNegationStopsAtTheEndOfASentence() {
        // slow = -1.5 negated → 0.75; "good" is in the next sentence, so "not" (three tokens back)
        // does not reach it: 0.75 + 2 = 2.75 → 2.75 / sqrt(7.5625 + 15)
        assertScore("Not slow. Good service", "en", 2.75 / 22.5625.squareRoot())
    }

    func testEnglishSuffixesAndNeutralWords() {
        // "fees" is not listed; without "s" it is fee = -1 → -1 / sqrt(16) = -0.25
        assertScore("Annual fees", "en", -0.25)
        // "goods" is listed as 0, so it is not read as "good" and there is no opinion
        XCTAssertNil(scorer.score(text: "Goods arrived", language: "en"))
    }

    func testGreetingsAreNotOpinions() {
        XCTAssertNil(scorer.score(text: "Kind regards, Anna", language: "en"))
        // kind = 2, very = 1.5 → 3; the sign-off "Kind regards" adds nothing → 3 / sqrt(24)
        assertScore("Very kind staff. Kind regards", "en", 3 / 24.0.squareRoot())
    }

    // MARK: German

    func testGermanPositiveWord() {
        // freundlich = 2 → 2 / sqrt(19)
        assertScore("Das Personal war freundlich", "de", 2 / 19.0.squareRoot())
    }

    func testGermanNegation() {
        // gut = 2, nicht: -1 → -0.25
        assertScore("nicht gut", "de", -0.25)
        // guter = 2 (listed), kein: -1 → -0.25
        assertScore("Kein guter Service", "de", -0.25)
        // problem = -1.5, kein: 0.75 → 0.75 / sqrt(0.5625 + 15)
        assertScore("Kein Problem", "de", 0.75 / 15.5625.squareRoot())
    }

    func testGermanIntensifier() {
        // schlecht = -2.5, sehr = 1.5: -3.75 → -3.75 / sqrt(29.0625)
        assertScore("Sehr schlecht", "de", -3.75 / 29.0625.squareRoot())
        // freundliche → freundlich (suffix e) = 2, sehr = 1.5 → 3 → 3 / sqrt(24)
        assertScore("Sehr freundliche Mitarbeiterin", "de", 3 / 24.0.squareRoot())
    }

    func testGermanContrast() {
        // freundlich = 2 · 0.5 + langsam = -1.5 · 1.5 = -1.25 → -1.25 / sqrt(16.5625)
        assertScore("Freundlich, aber langsam", "de", -1.25 / 16.5625.squareRoot())
    }

    func testGermanUmlautWords() {
        // enttäuscht = -2.5, sehr = 1.5: -3.75
        assertScore("Ich bin sehr enttäuscht", "de", -3.75 / 29.0625.squareRoot())
        // the same word typed with a combining diaeresis (a + U+0308): -2.5 → -2.5 / sqrt(21.25)
        assertScore("Ich bin entta\u{308}uscht", "de", -2.5 / 21.25.squareRoot())
        // capital Ä lowercases to ä: ärgerlich = -2, one "!": -2.3 → -2.3 / sqrt(5.29 + 15)
        assertScore("Ärgerlich!", "de", -2.3 / 20.29.squareRoot())
    }

    func testGermanSharpSAndSuffix() {
        // großartige → großartig (suffix e) = 3.5 → 3.5 / sqrt(12.25 + 15)
        assertScore("Großartige Beratung", "de", 3.5 / 27.25.squareRoot())
        // unhöfliche → unhöflich = -2.5 → -2.5 / sqrt(21.25)
        assertScore("unhöfliche Mitarbeiter", "de", -2.5 / 21.25.squareRoot())
    }

    func testGermanGreetingsAreNotOpinions() {
        XCTAssertNil(scorer.score(text: "Mit freundlichen Grüßen\nAnna Schmidt", language: "de"))
        // "Guten" before "Tag" is skipped; unzufrieden = -2.5 → -2.5 / sqrt(21.25)
        assertScore("Guten Tag, ich bin unzufrieden.", "de", -2.5 / 21.25.squareRoot())
    }

    // MARK: Language choice

    func testLanguageIsDetectedWithoutATag() {
        // German: der, war (markers), sehr, gut → 4 hits against English 0; 2 · 1.5 = 3 → 3 / sqrt(24)
        let german = scorer.analyze(text: "Der Service war sehr gut", language: nil)
        XCTAssertEqual(german?.language, "de")
        XCTAssertEqual(german?.matches, 1)
        XCTAssertEqual(german?.score ?? 0, 3 / 24.0.squareRoot(), accuracy: 1e-9)
        // English: the (marker), very, good; 3 → 3 / sqrt(24)
        let english = scorer.analyze(text: "The service was very good", language: nil)
        XCTAssertEqual(english?.language, "en")
        XCTAssertEqual(english?.score ?? 0, 3 / 24.0.squareRoot(), accuracy: 1e-9)
        // one hit each (German word "super", English intensifier "super"): the one with a
        // sentiment word wins; super = 2.5 → 2.5 / sqrt(21.25)
        let mixed = scorer.analyze(text: "Super", language: nil)
        XCTAssertEqual(mixed?.language, "de")
        XCTAssertEqual(mixed?.score ?? 0, 2.5 / 21.25.squareRoot(), accuracy: 1e-9)
    }

    func testLanguageTagChoosesTheLexicon() {
        // "de-DE" → German lexicon, which knows neither "very" nor "good"
        XCTAssertNil(scorer.score(text: "very good", language: "de-DE"))
        // case and region do not matter: sehr gut = 3 → 3 / sqrt(24)
        assertScore("sehr gut", "DE_at", 3 / 24.0.squareRoot())
        // an unknown language falls back to detection: English, 3 / sqrt(24)
        assertScore("very good", "fr-FR", 3 / 24.0.squareRoot())
        XCTAssertEqual(scorer.analyze(text: "very good", language: "fr")?.language, "en")
    }

    func testTiesGoToTheFirstLexicon() throws {
        let plus = try SentimentLexicon(language: "xx", words: ["ok": 1])
        let minus = try SentimentLexicon(language: "yy", words: ["ok": -1])
        // one hit and one word each: the first lexicon decides; ±1 → ±1 / sqrt(16) = ±0.25
        XCTAssertEqual(SentimentScorer(lexicons: [plus, minus]).score(text: "ok", language: nil) ?? 0, 0.25, accuracy: 1e-9)
        XCTAssertEqual(SentimentScorer(lexicons: [minus, plus]).score(text: "ok", language: nil) ?? 0, -0.25, accuracy: 1e-9)
    }

    func testALaterLexiconForTheSameLanguageReplacesTheEarlier() throws {
        let custom = try SentimentLexicon(yaml: "language: en\nwords:\n  good: 1\n", origin: "operator-en.yaml")
        let scorer = SentimentScorer(lexicons: try SentimentLexicon.bundled() + [custom])
        XCTAssertEqual(scorer.languages, ["en", "de"])
        // good = 1 now → 1 / sqrt(16) = 0.25
        XCTAssertEqual(scorer.score(text: "good", language: "en") ?? 0, 0.25, accuracy: 1e-9)
    }

    // MARK: Lexicon loading

    func testBundledLexiconsLoad() throws {
        let lexicons = try SentimentLexicon.bundled()
        XCTAssertEqual(lexicons.map(\.language), ["en", "de"])
        for lexicon in lexicons {
            XCTAssertTrue((150...250).contains(lexicon.words.count), "\(lexicon.origin): \(lexicon.words.count) words")
            XCTAssertGreaterThanOrEqual(lexicon.negations.count, 10, lexicon.origin)
            XCTAssertGreaterThanOrEqual(lexicon.intensifiers.count, 10, lexicon.origin)
            XCTAssertTrue(lexicon.intensifiers.values.contains { $0 < 1 }, "\(lexicon.origin) has no dampener")
        }
        XCTAssertEqual(lexicons[0].words["refund"], -0.5)
        XCTAssertTrue(lexicons[0].contrasts.contains("but"))
        XCTAssertTrue(lexicons[0].negations.contains("no"))
        XCTAssertTrue(lexicons[0].negations.contains("don't"))
        XCTAssertEqual(lexicons[1].words["enttäuscht"], -2.5)
        XCTAssertTrue(lexicons[1].contrasts.contains("aber"))
        XCTAssertEqual(Set(["nicht", "nie", "kein", "keine", "keinen", "keinem", "keiner", "niemals"]).subtracting(lexicons[1].negations), [])
    }

    func testAValenceOutOfRangeNamesTheFileTheLanguageAndTheEntry() throws {
        let error = try XCTUnwrap(lexiconError("language: en\nwords:\n  good: 2\n  awful: 9\n"))
        XCTAssertEqual(error.origin, "custom-en.yaml")
        XCTAssertEqual(error.language, "en")
        XCTAssertEqual(error.section, "words")
        XCTAssertEqual(error.entry, "awful")
        XCTAssertEqual(error.description, "sentiment lexicon custom-en.yaml (language en): words entry 'awful': valence 9 is outside -4...4")
        XCTAssertEqual(error.localizedDescription, error.description)
    }

    func testOtherBadLexiconsAreRefusedWithTheEntry() throws {
        let factor = try XCTUnwrap(lexiconError("language: en\nwords: {good: 2}\nintensifiers: {very: 5}\n"))
        XCTAssertEqual(factor.description, "sentiment lexicon custom-en.yaml (language en): intensifiers entry 'very': factor 5 is outside 0...4")

        let empty = try XCTUnwrap(lexiconError("language: de\nwords: {gut: 2, \"\": 1}\n", origin: "custom-de.yaml"))
        XCTAssertEqual(empty.description, "sentiment lexicon custom-de.yaml (language de): words entry '': an entry must not be empty")

        let phrase = try XCTUnwrap(lexiconError("language: en\nwords: {wait time: -1}\n"))
        XCTAssertEqual(phrase.entry, "wait time")
        XCTAssertTrue(phrase.reason.contains("could never match"), phrase.description)

        let typo = try XCTUnwrap(lexiconError("language: en\nwords: {good: 2}\nintensifer: {very: 1.5}\n"))
        XCTAssertEqual(typo.section, "intensifer")
        XCTAssertTrue(typo.description.hasPrefix("sentiment lexicon custom-en.yaml: intensifer: unknown key"), typo.description)

        let notANumber = try XCTUnwrap(lexiconError("language: en\nwords: {good: great}\n"))
        XCTAssertEqual(notANumber.description, "sentiment lexicon custom-en.yaml: words entry 'good': must be a number")

        let noWords = try XCTUnwrap(lexiconError("language: en\n"))
        XCTAssertEqual(noWords.description, "sentiment lexicon custom-en.yaml: words: is required")

        let twice = try XCTUnwrap(lexiconError("language: en\nwords: {so: 1}\nintensifiers: {so: 1.3}\n"))
        XCTAssertEqual(twice.entry, "so")
        XCTAssertTrue(twice.reason.contains("also listed under words"), twice.description)

        let caseTwice = try XCTUnwrap(lexiconError("language: en\nwords: {Good: 2, good: 3}\n"))
        XCTAssertEqual(caseTwice.section, "words")
        XCTAssertTrue(caseTwice.reason.contains("listed twice"), caseTwice.description)

        let language = try XCTUnwrap(lexiconError("language: \"1x\"\nwords: {good: 2}\n"))
        XCTAssertEqual(language.section, "language")
        XCTAssertEqual(language.entry, "1x")

        let list = try XCTUnwrap(lexiconError("- good\n- bad\n"))
        XCTAssertTrue(list.description.hasPrefix("sentiment lexicon custom-en.yaml: must be a YAML mapping"), list.description)

        let broken = try XCTUnwrap(lexiconError("language: en\nwords: [good\n"))
        XCTAssertEqual(broken.origin, "custom-en.yaml")
        XCTAssertTrue(broken.description.hasPrefix("sentiment lexicon custom-en.yaml: is not valid YAML: "), broken.description)

        do throws(SentimentLexiconError) {
            _ = try SentimentLexicon(utf8: [0x6C, 0xFF, 0x0A], origin: "latin1.yaml")
            XCTFail("invalid UTF-8 was accepted")
        } catch {
            XCTAssertEqual(error.description, "sentiment lexicon latin1.yaml: is not valid UTF-8")
        }
    }

    func testEntriesAreNormalisedLikeTheText() throws {
        let lexicon = try SentimentLexicon(
            yaml: """
            language: de-CH
            words: {Zufrieden: 2}
            negations: ["Gibt’s"]
            """,
            origin: "custom-de.yaml"
        )
        XCTAssertEqual(lexicon.language, "de")
        XCTAssertEqual(lexicon.words, ["zufrieden": 2])
        XCTAssertEqual(lexicon.negations, ["gibt's"])
    }
}
