import ArgumentParser
import Foundation
import NodeObservation
import Preflight

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Preflight of the entry nodes: consistency between lb01 and lb02, scripts, stats, go-live record.",
        discussion: """
            Give each node as NODE=DIR (DIR holds haproxy.cfg, keepalived.conf and copies of the scripts they \
            reference, found by file name), or as --node NAME --lb FILE --vrrp FILE (files deployed on this \
            machine, scripts at the paths keepalived.conf names; the i-th --lb and --vrrp belong to the i-th \
            --node). The intended master (state MASTER, highest priority) is the reference the others are \
            compared with.

            A balancer difference is an error unless the line on either node says "# portico: intended".
            Exit status: 0 when no error is found, 1 otherwise.

            --live, run on a node, also checks that node as it runs: whether it holds the VIP, whether the \
            balancer listens on every bind of its haproxy.cfg, each backend's health as the running balancer \
            sees it (stats socket, else the stats page with the config's credentials), the VRRP state (the \
            portico vrrp control socket, else inferred from the VIP), and applies the seed's symptom table \
            (section 八) to what it finds. The node checked is the only one given, or --live-node.

            Examples:
              portico check lb01=/srv/lb01 lb02=/srv/lb02 \\
                --address lb01=192.168.10.11/24 --address lb02=192.168.10.12/24 \\
                --record go-live.md
              portico check --node lb01 --lb /etc/haproxy/haproxy.cfg \\
                --vrrp /etc/keepalived/keepalived.conf lb02=/srv/lb02
              portico check --live --node lb01 --lb /etc/haproxy/haproxy.cfg \\
                --vrrp /etc/keepalived/keepalived.conf
            """
    )

    @Argument(help: ArgumentHelp("A node directory.", valueName: "NODE=DIR"))
    var nodeDirectories: [String] = []

    @Option(name: .customLong("node"), help: ArgumentHelp("Name of a node given by files.", valueName: "NAME"))
    var nodeNames: [String] = []

    @Option(name: .customLong("lb"), help: ArgumentHelp("That node's haproxy.cfg.", valueName: "FILE"))
    var balancerFiles: [String] = []

    @Option(name: .customLong("vrrp"), help: ArgumentHelp("That node's keepalived.conf.", valueName: "FILE"))
    var vrrpFiles: [String] = []

    @Option(
        name: .customLong("address"),
        help: ArgumentHelp(
            "A node's own address on the VRRP interface (enables the VIP subnet and unicast peer checks; "
                + "unicast_src_ip is used otherwise).",
            valueName: "NODE=ADDR[/PREFIX]"))
    var addresses: [String] = []

    @Option(
        name: .customLong("balancer"),
        help: ArgumentHelp(
            "What the nodes run next to the VRRP daemon: portico (portico lb, the default) or haproxy; "
                + "NODE=KIND for one node. A check script looking for an haproxy process is an error with portico.",
            valueName: "[NODE=]portico|haproxy"))
    var balancers: [String] = []

    @Flag(
        name: .customLong("live"),
        help: "Also check the running node this command runs on (VIP, listeners, backends' health, VRRP state).")
    var live = false

    @Option(
        name: .customLong("live-node"),
        help: ArgumentHelp("With --live and several nodes: the one this command runs on.", valueName: "NAME"))
    var liveNode: String?

    @Option(
        name: .customLong("vrrp-socket"),
        help: ArgumentHelp(
            "With --live: the portico vrrp control socket (default: /run/portico/vrrp-<router_id>.sock, or the "
                + "only one in /run/portico).",
            valueName: "PATH"))
    var vrrpSocket: String?

    @Flag(name: .customLong("json"), help: "Print the report as JSON.")
    var json = false

    @Option(
        name: .customLong("record"),
        help: ArgumentHelp("Write the go-live record (seed, section 九) as Markdown.", valueName: "FILE.md"))
    var recordPath: String?

    func validate() throws {
        if nodeDirectories.isEmpty && nodeNames.isEmpty {
            throw ValidationError("Give at least one node: NODE=DIR or --node NAME --lb FILE --vrrp FILE.")
        }
        if balancerFiles.count != nodeNames.count || vrrpFiles.count != nodeNames.count {
            throw ValidationError(
                "Each --node needs one --lb and one --vrrp (got \(nodeNames.count) --node, \(balancerFiles.count) "
                    + "--lb, \(vrrpFiles.count) --vrrp).")
        }
        let names = try sources().map(\.name)
        if live, let liveNode, !names.contains(liveNode) {
            throw ValidationError(
                "--live-node \(liveNode) is not one of the nodes given (\(names.joined(separator: ", ")))")
        }
        if live, liveNode == nil, names.count > 1 {
            throw ValidationError("--live with several nodes: say which one this is with --live-node NAME")
        }
        if !live && (liveNode != nil || vrrpSocket != nil) {
            throw ValidationError("--live-node and --vrrp-socket only make sense with --live")
        }
    }

    func run() async throws {
        let loader = NodeLoader()
        let nodes = try sources().map { loader.load($0) }
        var report = PreflightCheck.run(nodes)
        if live, let node = nodes.first(where: { $0.name == (liveNode ?? nodes.first?.name) }) {
            let observation = LiveProbe(vrrpSocket: vrrpSocket).observe(node, system: NodeLiveSystem())
            report = report.addingLive(
                node: node.name, observation, findings: LiveCheck.findings(node, observation))
        }
        if let recordPath {
            let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
            let markdown = GoLiveRecord.markdown(nodes: nodes, report: report, date: String(date))
            do {
                try markdown.write(toFile: recordPath, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write the go-live record to \(recordPath): \(error.localizedDescription)")
            }
        }
        print(json ? try report.json() : report.table(), terminator: "")
        if !report.passed { throw ExitCode(1) }
    }

    private func sources() throws -> [NodeSource] {
        let addressByNode = try pairs(addresses, option: "--address").mapValues { text -> NodeAddress in
            guard let address = NodeAddress(text) else {
                throw ValidationError("--address: '\(text)' is not an IPv4 address (A.B.C.D or A.B.C.D/N)")
            }
            return address
        }
        var defaultBalancer = BalancerKind.portico
        var balancerByNode: [String: BalancerKind] = [:]
        for value in balancers {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard let kind = BalancerKind(rawValue: parts.last ?? "") else {
                throw ValidationError("--balancer: '\(value)' must be portico, haproxy or NODE=portico|haproxy")
            }
            if parts.count == 2 { balancerByNode[parts[0]] = kind } else { defaultBalancer = kind }
        }

        var sources: [NodeSource] = []
        for argument in nodeDirectories {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("'\(argument)' is not NODE=DIR (e.g. lb01=/etc/portico/lb01)")
            }
            sources.append(.directory(name: parts[0], path: parts[1]))
        }
        for (index, name) in nodeNames.enumerated() {
            sources.append(
                NodeSource(name: name, balancerConfigPath: balancerFiles[index], vrrpConfigPath: vrrpFiles[index]))
        }
        var seen = Set<String>()
        for index in sources.indices {
            let name = sources[index].name
            guard seen.insert(name).inserted else { throw ValidationError("node \(name) is given twice") }
            sources[index].address = addressByNode[name]
            sources[index].balancer = balancerByNode[name] ?? defaultBalancer
        }
        for name in Set(addressByNode.keys).union(balancerByNode.keys) where !seen.contains(name) {
            throw ValidationError("--address/--balancer name an unknown node '\(name)'")
        }
        return sources
    }

    private func pairs(_ values: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("\(option): '\(value)' is not NODE=VALUE") }
            result[parts[0]] = parts[1]
        }
        return result
    }
}
