import Foundation

/// The lab's wiring: one namespace per host, each with an `eth0` whose peer is a port of a bridge that
/// lives in its own namespace. Links are created inside the switch namespace and their host end is moved
/// straight into the host's namespace, so nothing of the lab ever appears in the root namespace.
enum LabNetwork {
    static func create() throws {
        let sw = LabTopology.switchNamespace
        try ip(["netns", "add", sw])
        try ip(["-n", sw, "link", "set", "lo", "up"])
        // STP off and no forwarding delay: a port forwards the moment its cable is plugged in.
        try ip(["-n", sw, "link", "add", LabTopology.bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
        try ip(["-n", sw, "link", "set", LabTopology.bridge, "up"])
        for host in LabHost.allCases {
            let ns = host.namespace
            try ip(["netns", "add", ns])
            try ip([
                "-n", sw, "link", "add", host.switchPort, "type", "veth",
                "peer", "name", LabTopology.interface, "netns", ns,
            ])
            try ip(["-n", sw, "link", "set", host.switchPort, "master", LabTopology.bridge])
            try ip(["-n", sw, "link", "set", host.switchPort, "up"])
            try ip(["-n", ns, "link", "set", "lo", "up"])
            try ip([
                "-n", ns, "addr", "add", "\(host.address)/\(LabTopology.prefixLength)", "dev", LabTopology.interface,
            ])
            try ip(["-n", ns, "link", "set", LabTopology.interface, "up"])
        }
    }

    /// Every namespace whose name starts with the lab prefix (found, not remembered: works after a crash).
    static func existingNamespaces() throws -> [String] {
        let output = try Subprocess.check(["ip", "netns", "list"])
        return output.split(separator: "\n").compactMap { line in
            let name = line.split(separator: " ").first.map(String.init) ?? ""
            return name.hasPrefix(LabTopology.prefix) ? name : nil
        }
    }

    /// Pids of every process whose network namespace is `namespace`.
    static func pids(in namespace: String) -> [pid_t] {
        guard let result = try? Subprocess.run(["ip", "netns", "pids", namespace]), result.succeeded else { return [] }
        return result.output.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
    }

    /// Links of the root namespace named with the lab prefix: none unless an older tool left some.
    static func strayRootLinks() -> [String] {
        guard let result = try? Subprocess.run(["ip", "-o", "link", "show"]), result.succeeded else { return [] }
        return result.output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { return nil }
            let name = fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init) ?? ""
            return name.hasPrefix(LabTopology.prefix) ? name : nil
        }
    }

    static func deleteNamespace(_ name: String) throws {
        try ip(["netns", "delete", name])
    }

    /// Takes a host's cable out of the switch (or plugs it back): the host sees its carrier go.
    static func setCable(_ host: LabHost, up: Bool) throws {
        try ip(["-n", LabTopology.switchNamespace, "link", "set", host.switchPort, up ? "up" : "down"])
    }

    /// IPv4 addresses on the host's `eth0`.
    static func addresses(of host: LabHost) throws -> [String] {
        let output = try Subprocess.check(["ip", "-n", host.namespace, "-4", "-o", "addr", "show", "dev", "eth0"])
        return parseAddresses(output)
    }

    /// Parses `ip -4 -o addr` lines into bare addresses.
    static func parseAddresses(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard let index = fields.firstIndex(of: "inet"), index + 1 < fields.count else { return nil }
            return fields[index + 1].split(separator: "/").first.map(String.init)
        }
    }

    private static func ip(_ arguments: [String]) throws {
        try Subprocess.check(["ip"] + arguments)
    }
}
