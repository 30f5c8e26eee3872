import ArgumentParser

struct LBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lb", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("portico lb is not implemented yet")
    }
}
