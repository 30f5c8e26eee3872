import Foundation
import Spawning
import Glibc

/// The `portico` executable built next to these sources (`swift build` before `swift test`, as scripts/test.sh does).
let porticoBinary: String = {
    let here = URL(fileURLWithPath: #filePath)
    return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/portico").path
}()

/// A keepalived.conf for the tests' two-node topology, in the seed's shape.
struct NodeConfig {
    var routerID: String
    var state = "BACKUP"
    var priority = 100
    var advertInt = "1"
    var version = 2
    var nopreempt = false
    var authPass: String? = "12345678"
    var vip = "192.168.77.100/24"
    var checkScript: String?
    var checkInterval = 1
    var checkFall = 2
    var checkRise = 1
    var checkWeight = -30
    var trackProcess: String?
    var trackProcessWeight = 0
    var unicastSource: String?
    var unicastPeers: [String] = []
    var notify: String?
    var trackInterface: String?
    /// A second instance (VRID 52, VIP .200), e.g. for a dual-master setup: (state, priority).
    var secondInstance: (state: String, priority: Int)?

    var text: String {
        var t = "global_defs {\n    router_id \(routerID)\n}\n"
        if let checkScript {
            t += """
                vrrp_script chk_lb {
                    script "\(checkScript)"
                    interval \(checkInterval)
                    fall \(checkFall)
                    rise \(checkRise)
                    weight \(checkWeight)
                }

                """
        }
        if let trackProcess {
            t += """
                vrrp_track_process trk_lb {
                    process \(trackProcess)
                    weight \(trackProcessWeight)
                }

                """
        }
        t += "vrrp_instance VI_1 {\n    state \(state)\n    interface eth0\n    virtual_router_id 51\n"
        t += "    priority \(priority)\n    advert_int \(advertInt)\n"
        if version == 3 { t += "    version 3\n" }
        if nopreempt { t += "    nopreempt\n" }
        t += "    garp_master_delay 1\n    garp_master_repeat 5\n"
        if let authPass, version == 2 {
            t += "    authentication {\n        auth_type PASS\n        auth_pass \(authPass)\n    }\n"
        }
        if checkScript != nil { t += "    track_script {\n        chk_lb\n    }\n" }
        if trackProcess != nil { t += "    track_process {\n        trk_lb\n    }\n" }
        if let unicastSource {
            t += "    unicast_src_ip \(unicastSource)\n    unicast_peer {\n"
            for p in unicastPeers { t += "        \(p)\n" }
            t += "    }\n"
        }
        if let notify { t += "    notify \"\(notify)\"\n" }
        if let trackInterface { t += "    track_interface {\n        \(trackInterface)\n    }\n" }
        t += "    virtual_ipaddress {\n        \(vip) dev eth0\n    }\n}\n"
        if let second = secondInstance {
            t += "vrrp_instance VI_2 {\n    state \(second.state)\n    interface eth0\n    virtual_router_id 52\n"
            t += "    priority \(second.priority)\n    advert_int \(advertInt)\n"
            t += "    virtual_ipaddress {\n        192.168.77.200/24 dev eth0\n    }\n}\n"
        }
        return t
    }
}

/// One VRRP daemon (`portico vrrp` or Debian's `keepalived`) running in a node namespace, with its files in a
/// temporary directory. `stop()` sends SIGTERM and waits; `kill()` is the safety net every test defers.
final class VRRPNode {
    enum Kind { case portico, keepalived }

    let name: String
    let kind: Kind
    let lab: NetworkLab
    let directory: URL
    /// Extra `portico vrrp` flags.
    var arguments: [String] = []
    private var process: SpawnedProcess?

    init(_ name: String, kind: Kind = .portico, lab: NetworkLab, config: NodeConfig) throws {
        self.name = name
        self.kind = kind
        self.lab = lab
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pvd-\(lab.tag)-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try config.text.write(to: configFile, atomically: true, encoding: .utf8)
    }

    var configFile: URL { directory.appendingPathComponent("keepalived.conf") }
    var controlSocket: String { directory.appendingPathComponent("control.sock").path }
    var logFile: URL { directory.appendingPathComponent("daemon.log") }
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func start() throws {
        let arguments: [String]
        switch kind {
        case .portico:
            guard FileManager.default.isExecutableFile(atPath: porticoBinary) else {
                throw LabError("\(porticoBinary) missing: run `swift build` first")
            }
            arguments =
                [
                    "netns", "exec", lab.namespace(name), porticoBinary, "vrrp", "-f", configFile.path,
                    "--control-socket", controlSocket,
                ] + self.arguments
        case .keepalived:
            let d = directory.path
            arguments = [
                "netns", "exec", lab.namespace(name), "/usr/sbin/keepalived", "-n", "-l", "-D", "--vrrp",
                "--use-file", configFile.path, "-p", "\(d)/keepalived.pid", "-r", "\(d)/vrrp.pid",
                "-c", "\(d)/checkers.pid",
            ]
        }
        // Both streams append to the one log (the directory is new, so the log starts empty).
        process = try SpawnedProcess(
            ["/usr/sbin/ip"] + arguments, output: .file(logFile.path, append: true),
            error: .file(logFile.path, append: true))
    }

    var pid: Int32? { process?.pid }

    /// SIGTERM and wait up to `timeout` seconds; returns the exit status (nil if it had to be killed).
    @discardableResult
    func stop(timeout: Double = 10) -> Int32? {
        guard let p = process, p.isRunning else { return process?.exitStatus }
        p.signal(SIGTERM)
        if p.wait(seconds: timeout) == nil {
            p.signal(SIGKILL)
            p.waitUntilExit()
            return nil
        }
        return p.exitStatus
    }

    func kill9() {
        guard let p = process, p.isRunning else { return }
        p.signal(SIGKILL)
        p.waitUntilExit()
    }

    /// Always safe to call: stops the daemon (keepalived's children included) and removes the files.
    func cleanUp() {
        // The namespaces go away with the test: no need for a (slow, handing-over) graceful stop of portico.
        if kind == .portico { kill9() } else if process?.isRunning == true { _ = stop(timeout: 5) }
        if kind == .keepalived {
            for file in ["keepalived.pid", "vrrp.pid", "checkers.pid"] {
                if let text = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8),
                    let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
                {
                    kill(pid, SIGKILL)
                }
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `portico vrrp status` through the control socket, decoded.
    func status() -> [String: Any]? {
        let r = sh("\(porticoBinary) vrrp status --control-socket \(controlSocket)", timeout: 5)
        guard r.status == 0, let data = r.output.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object
    }

    func instanceStatus() -> [String: Any]? {
        (status()?["instances"] as? [[String: Any]])?.first
    }

    func state() -> String? { instanceStatus()?["state"] as? String }

    func dropped(_ reason: String) -> Int {
        ((instanceStatus()?["counters"] as? [String: Any])?["dropped"] as? [String: Any])?[reason] as? Int ?? 0
    }
}
