import Foundation
import Glibc
import Testing

/// VI_1's VIP in the two-node tests (`NodeConfig.vip` without its prefix length).
let pairVIP = "192.168.77.100"

extension NodeConfig {
    /// lb01 of the seed pair: `state MASTER`, priority 120, changed further by `edit`.
    static func lb01(_ edit: (inout NodeConfig) -> Void = { _ in }) -> NodeConfig {
        var c = NodeConfig(routerID: "lb01", state: "MASTER", priority: 120)
        edit(&c)
        return c
    }

    /// lb02 of the seed pair: `state BACKUP`, priority 100, changed further by `edit`.
    static func lb02(_ edit: (inout NodeConfig) -> Void = { _ in }) -> NodeConfig {
        var c = NodeConfig(routerID: "lb02", state: "BACKUP", priority: 100)
        edit(&c)
        return c
    }
}

/// Sets up lb01 (192.168.77.11) and lb02 (192.168.77.12) on one bridge, each running a VRRP daemon, runs `body`,
/// and always tears everything down. When `body` throws, both daemons' logs are printed.
/// - Parameter setUp: runs once the nodes exist, before the daemons start.
func withNodePair(
    _ tag: String, namePrefix: String = "pvd", lb01: NodeConfig, lb02: NodeConfig,
    kinds: (VRRPNode.Kind, VRRPNode.Kind) = (.portico, .portico), lb02Arguments: [String] = [],
    extraNodes: [String: String] = [:], setUp: (NetworkLab) -> Void = { _ in },
    _ body: (NetworkLab, VRRPNode, VRRPNode) throws -> Void
) throws {
    let lab = try NetworkLab(tag: tag, namePrefix: namePrefix)
    defer { lab.tearDown() }
    try lab.addNode("lb01", address: "192.168.77.11/24")
    try lab.addNode("lb02", address: "192.168.77.12/24")
    for (node, address) in extraNodes { try lab.addNode(node, address: address) }
    setUp(lab)
    let n1 = try VRRPNode("lb01", kind: kinds.0, lab: lab, config: lb01)
    defer { n1.cleanUp() }
    let n2 = try VRRPNode("lb02", kind: kinds.1, lab: lab, config: lb02)
    n2.arguments = lb02Arguments
    defer { n2.cleanUp() }
    try n1.start()
    try n2.start()
    do {
        try body(lab, n1, n2)
    } catch {
        print("lb01 log:\n\(n1.log)\nlb02 log:\n\(n2.log)")
        throw error
    }
}

extension NetworkLab {
    /// Waits until exactly `holder` (lb01 or lb02) has `vip`; returns the seconds it took, or nil.
    func vipMoves(to holder: String, within timeout: Double, vip: String = pairVIP) -> Double? {
        let other = holder == "lb01" ? "lb02" : "lb01"
        return waitFor(timeout) { has(holder, vip) && !has(other, vip) }
    }

    /// Checks for `seconds` that `vip` stays on `holder` and only there (polling, bounded).
    func vipStays(on holder: String, for seconds: Double, vip: String = pairVIP) -> Bool {
        let other = holder == "lb01" ? "lb02" : "lb01"
        return waitFor(seconds) { !has(holder, vip) || has(other, vip) } == nil
    }
}

/// A `vrrp_script` command that passes while its flag file exists, in a temporary directory of its own
/// (`NAME-PID`). It starts passing; `remove()` deletes the directory.
struct FlagCheck {
    let directory: URL
    let flag: String
    /// The script's path, for `NodeConfig.checkScript`.
    let script: String

    init(_ name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        flag = directory.appendingPathComponent("lb-up").path
        script = directory.appendingPathComponent("check.sh").path
        do {
            try "#!/bin/sh\ntest -e \(flag)\n".write(toFile: script, atomically: true, encoding: .utf8)
        } catch {
            remove()
            throw error
        }
        chmod(script, 0o755)
        pass()
    }

    /// From the next run on, the script exits 0.
    func pass() {
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
    }

    /// From the next run on, the script exits 1.
    func fail() throws {
        try FileManager.default.removeItem(atPath: flag)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
