/// A command that failed while running, said as the operator needs to read it. Unlike
/// ArgumentParser's `ValidationError`, it is printed without the usage text: the arguments were fine.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
