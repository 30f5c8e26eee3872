import ArgumentParser

struct VRRPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vrrp", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("portico vrrp is not implemented yet")
    }
}
