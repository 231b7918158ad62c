import Foundation
import SchemaChecking
import XCTest

/// The README's configuration reference against the executables themselves: every option a
/// stage's `--help` lists is in the reference, every option the reference names exists, and
/// every environment variable it names is one the code reads.
final class ConfigurationReferenceTests: XCTestCase {
    private func help(_ executable: String) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("help-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try StageProcess(executable: executable, arguments: ["--help"], logURL: log)
        XCTAssertTrue(process.waitForExit(timeout: 30))
        return try String(contentsOf: log, encoding: .utf8)
    }

    private func options(in text: String) -> Set<String> {
        Set(text.matches(of: /(?m)^\s+(--[a-z][a-z-]*)/).map { String($0.1) }).subtracting(["--help"])
    }

    private var reference: String {
        get throws {
            let readme = try String(contentsOf: SchemaChecker.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
            let start = try XCTUnwrap(readme.range(of: "## Configuration reference"))
            let rest = readme[start.upperBound...]
            return String(rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)])
        }
    }

    func testEveryStageOptionIsInTheReferenceAndNothingElseIs() throws {
        let reference = try reference
        let documented = Set(reference.matches(of: /`(--[a-z][a-z-]*)/).map { String($0.1) }).subtracting(["--help"])
        var existing: Set<String> = []
        for executable in ["liaison-ingest", "liaison-enrich", "liaison-rules", "liaison-notifier"] {
            let listed = options(in: try help(executable))
            XCTAssertTrue(listed.contains("--brokers"), "\(executable) --help lists no options")
            for option in listed.sorted() {
                XCTAssertTrue(documented.contains(option), "\(executable) \(option) is missing from the README's configuration reference")
            }
            existing.formUnion(listed)
        }
        for option in documented.sorted() {
            XCTAssertTrue(existing.contains(option), "the reference documents \(option), which no stage has")
        }
    }

    func testEveryEnvironmentVariableInTheReferenceIsReadByTheCode() throws {
        let sources = SchemaChecker.repositoryRoot.appendingPathComponent("Sources")
        var code = ""
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)! where file.pathExtension == "swift" {
            code += try String(contentsOf: file, encoding: .utf8)
        }
        let runtimeOptions = try String(contentsOf: sources.appendingPathComponent("LiaisonRuntime/RuntimeOptions.swift"), encoding: .utf8)
        for row in try reference.split(separator: "\n") where row.hasPrefix("|") && row.contains("`--") {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let variable = cells.first(where: { $0.hasPrefix("`LIAISON_") })?.trimmingCharacters(in: CharacterSet(charactersIn: "`")) else { continue }
            if variable == "LIAISON_KAFKA_<KEY>" {
                XCTAssertTrue(code.contains("\"LIAISON_KAFKA_\""), "nothing reads LIAISON_KAFKA_ variables")
                continue
            }
            let option = String(try XCTUnwrap(cells.first { $0.hasPrefix("`--") }).dropFirst(3).prefix { $0 != "`" && $0 != " " })
            let derived = "LIAISON_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
            let readThroughRuntime = variable == derived && runtimeOptions.contains("\"\(option)\"")
            XCTAssertTrue(
                readThroughRuntime || code.contains("\"\(variable)\""),
                "the reference names \(variable) for --\(option), but the code neither reads it nor derives it from the option")
        }
    }
}
