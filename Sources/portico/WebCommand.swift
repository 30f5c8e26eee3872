import ArgumentParser

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "web", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("portico web is not implemented yet")
    }
}
