import ArgumentParser
import Foundation
import Rules

/// `liaison rules`: work on rule packs without starting the stage.
struct RulesCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rule packs before the rules stage loads them.",
        subcommands: [RulesCheck.self])
}

/// `liaison rules check FILE`: loads a pack exactly as `liaison-rules` does at start-up and
/// prints every error with its line, column and field; exits 1 if there is any.
struct RulesCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a rule pack and point at the line and field of every error.")

    @Argument(help: "The rule pack, a YAML file.")
    var file: String

    func run() async throws {
        do {
            let pack = try RulePack(file: file)
            let timed = pack.rules.filter { $0.schedule != nil }.count
            print("\(file): pack \(pack.name) \(pack.version) is valid: \(pack.rules.count) rules (\(timed) timed), \(pack.params.count) parameters")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n\(error.errors.count) error\(error.errors.count == 1 ? "" : "s") in \(file)\n".utf8))
            throw ExitCode(1)
        }
    }
}
