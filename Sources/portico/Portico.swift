import ArgumentParser

@main
struct Portico: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico",
        abstract: "A highly available HTTP entry point: load balancer, VRRP failover, web backend and lab in one tool.",
        subcommands: [LBCommand.self, VRRPCommand.self, WebCommand.self, LabCommand.self, CheckCommand.self]
    )
}
