import ArgumentParser

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lab", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("portico lab is not implemented yet")
    }
}
