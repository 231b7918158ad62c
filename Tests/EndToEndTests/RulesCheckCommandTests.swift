import Foundation
import SchemaChecking
import XCTest

/// `liaison rules check` and `liaison-rules` refusing a bad pack, as an operator runs them.
final class RulesCheckCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = directory.appendingPathComponent("\(executable).log")
        let process = try StageProcess(executable: executable, arguments: arguments, logURL: log)
        XCTAssertTrue(process.waitForExit(timeout: 30))
        return (process.process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    private var defaultPack: String {
        SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml").path
    }

    private func badPack() throws -> String {
        let url = directory.appendingPathComponent("bad.yaml")
        try """
            pack: broken
            version: "1"
            rules:
              - id: offer
                on: [banking.transaction.posted]
                when: context.surplus > params.missing
                action:
                  template: offer.x
                  channel-class: junk-mail
            """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testTheDefaultPackChecksClean() throws {
        let (status, output) = try run("liaison", ["rules", "check", defaultPack])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("pack liaison-default"), output)
        XCTAssertTrue(output.contains("is valid: 14 rules (1 timed)"), output)
    }

    func testABadPackIsRefusedWithTheLineAndFieldOfEveryError() throws {
        let path = try badPack()
        let (status, output) = try run("liaison", ["rules", "check", path])
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("\(path):6:29: rules[0] (offer).when: unknown parameter 'missing'"), output)
        XCTAssertTrue(output.contains("\(path):9:22: rules[0] (offer).action.channel-class:"), output)
        XCTAssertTrue(output.contains("2 errors in \(path)"), output)
    }

    func testTheStageRefusesToStartWithABadPack() throws {
        let path = try badPack()
        let (status, output) = try run(
            "liaison-rules", ["--brokers", "127.0.0.1:9", "--rules", path, "--state-dir", directory.path, "--admin-port", "off"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("does not load; nothing was started"), output)
        XCTAssertTrue(output.contains("unknown parameter 'missing'"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("rules").path))
    }
}
