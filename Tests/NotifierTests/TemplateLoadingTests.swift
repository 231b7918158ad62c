import Foundation
import LiaisonSchema
import Notifier
import XCTest

final class TemplateLoadingTests: XCTestCase {
    private func problems(loading files: [String: String]) throws -> [TemplateLoadProblem] {
        let folder = try TemplateFixtures.folder(with: files)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try TemplateCatalog(directory: folder)
            XCTFail("the folder loaded")
            return []
        } catch {
            return error.problems
        }
    }

    private func assertProblem(
        _ problems: [TemplateLoadProblem], file: String, line: Int? = nil, containing fragment: String,
        sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        let matching = problems.filter { $0.file == file && $0.message.contains(fragment) }
        XCTAssertEqual(matching.count, 1, "no single problem in \(file) says '\(fragment)'; got:\n\(problems)", file: sourceFile, line: sourceLine)
        if let line, let problem = matching.first {
            XCTAssertEqual(problem.line, line, "\(problem)", file: sourceFile, line: sourceLine)
        }
    }

    func testEveryProblemIsReportedAtOnceWithItsFile() throws {
        let problems = try problems(loading: [
            "README.md": "notes for people",
            "stray.yaml": "text: hello",
            "offer.a/email.en.yaml": "subject: Hi\ntext: Hello",
            "offer.a/fax.en.yaml": "text: hello",
            "offer.a/sms.en.yaml": "text: |-\n  fine line\n  {{#open}}closed wrongly{{/shut}}\n",
            "offer.a/sms.younger.de.yaml": "text: Hallo",
            "offer.a/push.tablet.younger.en.yaml": "subject: a\ntext: b",
            "offer.a/push.en.yaml": "subject: |\n  two\n  lines\ntext: body\nhtml: <p>body</p>",
            "offer.b/inbox.en.yaml": "subject: [unclosed\ntext: b",
            "offer.b/webhook.en.yaml": "subject: s\ntext: \"{{> partial}}\"",
            "offer.b/crm.en.yaml": "subject: s\ntext: {{value}}",
            "offer.b/agent-task.en.yaml": "subject: s\ntext: t\nbody: extra",
            "offer.b/sms.en.yaml": "text: fine",
            "offer.b/sms.EN.yaml": "text: same variant",
            "offer.b/sms.english.yaml": "text: no locale",
            "offer.b/notes.txt": "not a variant",
        ])
        assertProblem(problems, file: "stray.yaml", containing: "is not in a template's folder")
        assertProblem(problems, file: "offer.a/email.en.yaml", containing: "has no 'html'; a email variant needs subject, text, html")
        assertProblem(problems, file: "offer.a/fax.en.yaml", containing: "unknown channel 'fax'")
        assertProblem(problems, file: "offer.a/sms.en.yaml", line: 3, containing: "text: a section is closed with a different name")
        assertProblem(problems, file: "offer.a/sms.de.yaml", containing: "is missing: the sms variants in de need a plain one")
        assertProblem(problems, file: "offer.a/push.tablet.younger.en.yaml", containing: "puts the segment after the device")
        assertProblem(problems, file: "offer.a/push.en.yaml", line: 2, containing: "has a subject of more than one line")
        assertProblem(problems, file: "offer.a/push.en.yaml", line: 5, containing: "has 'html', which push does not use")
        assertProblem(problems, file: "offer.b/inbox.en.yaml", containing: "is not valid YAML")
        assertProblem(problems, file: "offer.b/webhook.en.yaml", line: 2, containing: "{{> partial}} is not supported")
        assertProblem(problems, file: "offer.b/crm.en.yaml", line: 2, containing: "text is not text; a value starting with {{ must be quoted")
        assertProblem(problems, file: "offer.b/agent-task.en.yaml", line: 3, containing: "unknown key 'body'")
        assertProblem(problems, file: "offer.b/sms.en.yaml", containing: "is the same variant as offer.b/sms.EN.yaml")
        assertProblem(problems, file: "offer.b/sms.english.yaml", containing: "ends in 'english', which is not a locale tag")
        assertProblem(problems, file: "offer.b/notes.txt", containing: "is not a variant file")
        XCTAssertEqual(problems.count, 15, "\(problems)")
        XCTAssertFalse(problems.contains { $0.file == "README.md" })
    }

    func testTheReportListsEveryProblemWithFileAndLine() throws {
        let problems = try problems(loading: [
            "t/sms.en.yaml": "text: |-\n  one\n  {{#a}}unclosed\n",
            "t/push.en.yaml": "subject: s",
        ])
        let report = "\(TemplateCatalogError(problems: problems))"
        XCTAssertTrue(report.hasPrefix("the template catalog has 2 problems:\n"), report)
        XCTAssertTrue(report.contains("  t/push.en.yaml: has no 'text'; a push variant needs subject, text"), report)
        XCTAssertTrue(report.contains("  t/sms.en.yaml:3: text: a section is opened and never closed (line 2, column"), report)
    }

    func testAnEmptyOrMissingFolderIsAProblem() throws {
        let empty = try problems(loading: ["README.md": "nothing yet"])
        XCTAssertEqual(empty, [TemplateLoadProblem(file: ".", message: "holds no templates")])

        let missing = URL(fileURLWithPath: "/nonexistent/liaison-templates")
        XCTAssertThrowsError(try TemplateCatalog(directory: missing)) { error in
            XCTAssertEqual((error as? TemplateCatalogError)?.problems.first?.file, missing.path)
        }
    }

    func testADefaultLocaleOtherThanEnglishIsWhereChainsEnd() throws {
        let files = ["t/sms.de.yaml": "text: Hallo", "t/sms.fr.yaml": "text: Bonjour"]
        let catalog = try TemplateCatalog(files: files, defaultLocale: "de")
        let message = try catalog.render(template: "t", channel: .sms, locale: "ja", segment: nil, device: nil, values: JSONObject())
        XCTAssertEqual(message.text, "Hallo")
        XCTAssertThrowsError(try TemplateCatalog(files: files)) { error in
            XCTAssertEqual((error as? TemplateCatalogError)?.problems.map(\.file), ["t/sms.en.yaml"])
        }
    }
}
