import ArgumentParser

@main
struct Liaison: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "liaison", abstract: "Liaison operator and developer command.")
}
