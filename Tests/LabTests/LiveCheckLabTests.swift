import Foundation
import Testing

@testable import Lab

#if canImport(Glibc)
    import Glibc
#endif

/// `portico check --live` run inside a lab host, as an operator would run it on the node.
struct LiveCheckRun {
    struct Finding: Decodable {
        struct Location: Decodable {
            var file: String
            var line: Int?
        }
        var severity: String
        var category: String
        var message: String
        var location: Location?
    }

    struct Report: Decodable {
        struct Live: Decodable {
            struct Observation: Decodable {
                struct Listener: Decodable {
                    struct Owner: Decodable {
                        var pid: Int
                        var command: [String]
                    }
                    var port: Int
                    var owner: Owner?
                }
                var listeners: [Listener]
            }
            var node: String
            var observation: Observation
        }
        var passed: Bool
        var findings: [Finding]
        var live: Live?
    }

    var status: Int32
    var report: Report
    var seconds: Double

    var live: [Finding] { report.findings.filter { $0.category == "live" } }
    func live(_ severity: String) -> [Finding] { live.filter { $0.severity == severity } }

    /// - Parameter vrrpSocket: the portico stack: pass the node's `portico vrrp` control socket and
    ///   `--balancer portico`; otherwise the reference stack (Keepalived has no socket, the balancer is HAProxy).
    static func run(_ lab: Lab, on host: LabHost, vrrpSocket: Bool = true) throws -> LiveCheckRun {
        let portico = try #require(lab.porticoExecutable)
        let start = Monotonic.now()
        let result = try Subprocess.run(
            [
                portico, "lab", "exec", host.rawValue, "--", portico, "check", "--live", "--json",
                "--node", host.rawValue, "--lb", lab.directory.haproxyConfig(host),
                "--vrrp", lab.directory.keepalivedConfig(host),
                "--balancer", vrrpSocket ? "portico" : "haproxy",
            ] + (vrrpSocket ? ["--vrrp-socket", lab.directory.vrrpControlSocket(host)] : []), timeout: 20)
        let seconds = Monotonic.now() - start
        let report = try JSONDecoder().decode(Report.self, from: Data(result.output.utf8))
        return LiveCheckRun(status: result.status, report: report, seconds: seconds)
    }
}

extension LabEndToEndTests {
    @Suite(.serialized, .enabled(if: LabEnvironment.porticoRolesImplemented, "Portico's roles are not implemented yet"))
    struct LiveCheckTests {
        /// A healthy stack, then the balancer killed on the VIP holder: seed 八 "VIP pings, HTTP fails".
        @Test func healthyStackThenBalancerStoppedOnTheVIPHolder() throws {
            try LabEnvironment.withLab(stack: .portico) { lab in
                let holder = try LiveCheckRun.run(lab, on: .lb01)
                #expect(holder.report.live?.node == "lb01")
                #expect(holder.live("error").map(\.message) == [])
                #expect(holder.live("warning").map(\.message) == [])
                #expect(holder.live.contains { $0.message.contains("VI_1 MASTER, priority 120, holds the VIP") })
                #expect(holder.live.contains { $0.message.contains("web_backend/web01 UP, web_backend/web02 UP") })
                #expect(holder.live.contains { $0.message.contains("listens on *:80, *:8404") })
                // The port is held by lb01's own balancer process.
                let owner = holder.report.live?.observation.listeners.first { $0.port == 80 }?.owner
                #expect(owner?.pid == lab.directory.recordedPid(.lb, on: .lb01).map(Int.init))
                #expect(owner?.command.dropFirst().first == "lb")
                // The exit status counts the errors (the seed's static findings included).
                #expect((holder.status == 0) == holder.report.passed)

                let standby = try LiveCheckRun.run(lab, on: .lb02)
                #expect(standby.live("error").map(\.message) == [])
                #expect(
                    standby.live.contains { $0.message.contains("VI_1 BACKUP, priority 100, master 192.168.10.11") })

                // SIGKILL: a crash, no hand-over. The seed's tracking script needs at least 4 s (fall 3, interval
                // 2) to notice, so the VIP is still on lb01 when the check runs.
                lab.stop(.lb, on: .lb01, signal: SIGKILL)
                let broken = try LiveCheckRun.run(lab, on: .lb01)
                #expect(broken.seconds < 4)
                #expect(broken.status == 1)
                #expect(!broken.report.passed)
                let errors = broken.live("error")
                #expect(errors.count == 1)
                #expect(errors.first?.message.hasPrefix("VIP 192.168.10.100 held but nothing listening on :80") == true)
                #expect(errors.first?.location?.line == 17)
                #expect(errors.first?.location?.file == lab.directory.haproxyConfig(.lb01))
                #expect(broken.live("warning").contains { $0.message.contains("nothing listens on *:8404") })

                // Both backends go too. Once lb01's script has failed the VIP is on lb02, whose balancer then sees
                // every server DOWN (seed 八 "all backends DOWN"); lb01 is a standby that could not proxy.
                lab.stop(.web, on: .web01)
                lab.stop(.web, on: .web02)
                var moved: LiveCheckRun?
                let deadline = Monotonic.now() + 25
                while Monotonic.now() < deadline {
                    let holders = try NamespaceThread.run { try Observer.vipHolders($0) }
                    if holders == [.lb02] {
                        let run = try LiveCheckRun.run(lab, on: .lb02)
                        if !run.live("error").isEmpty {
                            moved = run
                            break
                        }
                    }
                    Monotonic.sleep(0.5)
                }
                let newHolder = try #require(moved, "the VIP never moved to lb02 with its backends seen DOWN")
                let downErrors = newHolder.live("error")
                #expect(downErrors.count == 1)
                #expect(downErrors.first?.message.hasPrefix("all servers of backend web_backend are DOWN") == true)
                #expect(downErrors.first?.message.contains("clients get 503 now") == true)
                #expect(downErrors.first?.location?.line == 20)
                #expect(newHolder.live.contains { $0.message.contains("VI_1 MASTER, priority 100, holds the VIP") })
                #expect(newHolder.status == 1)

                let oldHolder = try LiveCheckRun.run(lab, on: .lb01)
                #expect(oldHolder.live("error").count == 1, "\(oldHolder.live("error").map(\.message))")
                #expect(
                    oldHolder.live("error").first?.message.contains(
                        "after a failover to this node requests would still fail")
                        == true)
                #expect(
                    oldHolder.live("warning").contains {
                        $0.message.contains("tracker chk_haproxy (script, weight -30) is down")
                    })
            }
        }

        /// HAProxy and Keepalived: the backends' health from HAProxy's own CSV, the VRRP state inferred from the VIP.
        @Test func referenceStack() throws {
            try LabEnvironment.withLab(stack: .reference) { lab in
                let holder = try LiveCheckRun.run(lab, on: .lb01, vrrpSocket: false)
                #expect(holder.live("error").map(\.message) == [])
                #expect(holder.live("warning").map(\.message) == [])
                #expect(holder.live.contains { $0.message.contains("web_backend/web01 UP, web_backend/web02 UP") })
                #expect(
                    holder.live.contains { $0.message.contains("holds the VIP 192.168.10.100/24 (MASTER, inferred)") })
                let standby = try LiveCheckRun.run(lab, on: .lb02, vrrpSocket: false)
                #expect(standby.live("error").map(\.message) == [])
                #expect(
                    standby.live.contains {
                        $0.message.contains("not on this node (BACKUP or VRRP not running, inferred)")
                    })

                lab.stop(.lb, on: .lb01, signal: SIGKILL)
                let broken = try LiveCheckRun.run(lab, on: .lb01, vrrpSocket: false)
                #expect(
                    broken.live("error").first?.message.hasPrefix(
                        "VIP 192.168.10.100 held but nothing listening on :80") == true)
                #expect(broken.status == 1)
            }
        }
    }
}
