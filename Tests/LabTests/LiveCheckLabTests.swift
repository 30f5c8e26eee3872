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
            var node: String
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

    static func run(_ lab: Lab, on host: LabHost) throws -> LiveCheckRun {
        let portico = try #require(lab.porticoExecutable)
        let start = Monotonic.now()
        let result = try Subprocess.run(
            [
                portico, "lab", "exec", host.rawValue, "--", portico, "check", "--live", "--json",
                "--node", host.rawValue, "--lb", lab.directory.haproxyConfig(host),
                "--vrrp", lab.directory.keepalivedConfig(host),
                "--vrrp-socket", lab.directory.vrrpControlSocket(host),
            ], timeout: 20)
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
                // The exit status counts the errors (the seed's static findings included).
                #expect((holder.status == 0) == holder.report.passed)

                let standby = try LiveCheckRun.run(lab, on: .lb02)
                #expect(standby.live("error").map(\.message) == [])
                #expect(standby.live.contains { $0.message.contains("VI_1 BACKUP, priority 100, master 192.168.10.11") })

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
            }
        }
    }
}
