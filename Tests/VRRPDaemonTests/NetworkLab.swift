import Foundation
import Spawning
import Glibc

/// Runs a command with a time limit and returns its status and combined output. Tests only.
@discardableResult
func sh(_ command: String, timeout: Double = 10) -> (status: Int32, output: String) {
    do {
        let result = try SpawnedProcess.run(["/bin/sh", "-c", command], timeout: timeout)
        return result.status == 128 + SIGKILL ? (-9, "timeout: \(command)") : result
    } catch {
        return (-1, "\(error)")
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns the seconds it took, or nil.
func waitFor(_ timeout: Double, _ condition: () -> Bool) -> Double? {
    let start = Date()
    while Date().timeIntervalSince(start) < timeout {
        if condition() { return Date().timeIntervalSince(start) }
        usleep(10_000)
    }
    return condition() ? Date().timeIntervalSince(start) : nil
}

/// Runs `body` on a fresh thread that has entered the network namespace `name`: sockets created there
/// belong to that namespace for their whole life, so in-process primitives never touch the root namespace.
func inNamespace<T>(_ name: String, _ body: @escaping () throws -> T) throws -> T {
    typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else {
        throw LabError("setns unavailable")
    }
    let setns = unsafeBitCast(sym, to: SetNS.self)
    let result = Locked<Result<T, Error>>(.failure(LabError("thread did not run")))
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        defer { done.signal() }
        let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            result.value = .failure(LabError("open /run/netns/\(name): errno \(errno)"))
            return
        }
        defer { close(fd) }
        guard setns(fd, 0x4000_0000) == 0 else {  // CLONE_NEWNET
            result.value = .failure(LabError("setns \(name): errno \(errno)"))
            return
        }
        result.value = Result { try body() }
    }
    thread.start()
    done.wait()
    return try result.value.get()
}

/// A value shared with another thread in a test, behind a lock.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T
    init(_ value: T) { _value = value }
    var value: T {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Namespaces, a bridge and veths for one test, all named `pvd-<pid>-<tag>-...` (the test process's pid, so two
/// runs of the suite at once, e.g. in two worktrees, never touch each other's), removed by `tearDown()`;
/// `init` removes the leftovers of runs whose process is gone.
///
/// Layout: namespace `pvd-<pid>-<tag>-br` holds bridge `br0`; each node namespace `pvd-<pid>-<tag>-<node>` has
/// `eth0` with 192.168.77.<n>/24, its other end enslaved to the bridge.
final class NetworkLab {
    let tag: String
    /// `pvd` for the daemon's suites; other suites pass their own (`pvr` for reload) so runs never collide.
    let namePrefix: String
    private(set) var nodes: [String: String] = [:]  // node -> namespace

    init(tag: String, namePrefix: String = "pvd") throws {
        self.tag = tag
        self.namePrefix = namePrefix
        Self.removeLeftovers(namePrefix: namePrefix)
        let br = bridgeNamespace
        try run("ip netns add \(br)")
        try run("ip -n \(br) link add br0 type bridge && ip -n \(br) link set br0 up && ip -n \(br) link set lo up")
    }

    var prefix: String { "\(namePrefix)-\(getpid())-\(tag)-" }

    var bridgeNamespace: String { "\(prefix)br" }

    func namespace(_ node: String) -> String { nodes[node] ?? "\(prefix)\(node)" }

    /// Adds a node with `address` (e.g. "192.168.77.11/24") on its `eth0`.
    @discardableResult
    func addNode(_ node: String, address: String) throws -> String {
        let ns = "\(prefix)\(node)"
        let br = bridgeNamespace
        let outer = "v\(tag.prefix(6))\(node.suffix(4))"
        try run("ip netns add \(ns)")
        nodes[node] = ns
        try run("ip link add eth0 netns \(ns) type veth peer name \(outer) netns \(br)")
        try run("ip -n \(br) link set \(outer) master br0 && ip -n \(br) link set \(outer) up")
        try run(
            "ip -n \(ns) link set lo up && ip -n \(ns) addr add \(address) dev eth0 && ip -n \(ns) link set eth0 up")
        return ns
    }

    /// The bridge-side end of a node's cable, to pull it.
    func outerLink(_ node: String) -> String { "v\(tag.prefix(6))\(node.suffix(4))" }

    func exec(_ node: String, _ command: String, timeout: Double = 10) -> (status: Int32, output: String) {
        sh("ip netns exec \(namespace(node)) \(command)", timeout: timeout)
    }

    /// The IPv4 addresses on a node's eth0, as `ip -4 addr` shows them.
    func addresses(_ node: String) -> [String] {
        let out = sh("ip -n \(namespace(node)) -4 -o addr show dev eth0").output
        return out.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard let i = words.firstIndex(of: "inet"), i + 1 < words.count else { return nil }
            return String(words[i + 1])
        }
    }

    func has(_ node: String, _ address: String) -> Bool {
        addresses(node).contains { $0.hasPrefix(address + "/") }
    }

    private func run(_ command: String) throws {
        let r = sh(command)
        guard r.status == 0 else { throw LabError("\(command): \(r.output)") }
    }

    func tearDown() {
        for ns in nodes.values {
            // Kill what still runs inside the node before deleting it.
            let pids = sh("ip netns pids \(ns)").output.split(separator: "\n")
            for pid in pids { if let p = Int32(pid) { kill(p, SIGKILL) } }
            sh("ip netns del \(ns)")
        }
        sh("ip netns del \(bridgeNamespace)")
        nodes = [:]
    }

    /// Deletes `pvd-<pid>-...` namespaces whose test process no longer runs (a crashed or killed run).
    static func removeLeftovers(namePrefix: String = "pvd") {
        for line in sh("ip netns list").output.split(separator: "\n") {
            guard let name = line.split(separator: " ").first, name.hasPrefix("\(namePrefix)-") else { continue }
            let fields = name.split(separator: "-")
            guard fields.count >= 3, let owner = Int32(fields[1]) else { continue }
            if owner == getpid() || kill(owner, 0) == 0 || errno != ESRCH { continue }
            for pid in sh("ip netns pids \(name)").output.split(separator: "\n") {
                if let p = Int32(pid) { kill(p, SIGKILL) }
            }
            sh("ip netns del \(name)")
        }
    }
}
