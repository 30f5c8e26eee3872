import Foundation
import Testing

@testable import Preflight

/// The seed's own pair (fixtures/seed, copied verbatim with its check script).
@Suite struct SeedPairTests {
    static let statsWarnings = [
        Expected(.warning, .stats, "lb01", "haproxy.cfg", 28, "serves the stats page on *:8404"),
        Expected(.warning, .stats, "lb01", "haproxy.cfg", 33, "the password is the seed's placeholder"),
        Expected(.warning, .stats, "lb02", "haproxy.cfg", 28, "serves the stats page on *:8404"),
        Expected(.warning, .stats, "lb02", "haproxy.cfg", 33, "the password is the seed's placeholder"),
    ]

    @Test func fixtureFilesAreTheSeedsVerbatim() throws {
        let seed = URL(fileURLWithPath: Fixtures.directory + "/../../../fixtures/seed").standardized.path
        for (node, conf) in [("lb01", "keepalived-lb01.conf"), ("lb02", "keepalived-lb02.conf")] {
            let here = Fixtures.path("seed", node)
            #expect(try String(contentsOfFile: here + "/keepalived.conf") == String(contentsOfFile: seed + "/" + conf))
            #expect(try String(contentsOfFile: here + "/haproxy.cfg") == String(contentsOfFile: seed + "/haproxy.cfg"))
            #expect(
                try String(contentsOfFile: here + "/check_haproxy.sh")
                    == String(contentsOfFile: seed + "/check_haproxy.sh"))
        }
    }

    /// Deployed as the seed deploys it (HAProxy next to Keepalived), the pair has no error: only the stats
    /// warnings the seed itself makes (listener on `*`, placeholder password).
    @Test func seedPairWithHAProxyPasses() {
        let report = Fixtures.check("seed", balancer: .haproxy)
        expectExactly(report.findings, Self.statsWarnings)
        #expect(report.passed)
        #expect(report.exitStatus == 0)
    }

    /// Run with Portico's balancer, the seed's `pidof haproxy` can never succeed: flagged on each node's script line.
    @Test func seedCheckScriptIsFlaggedWithPorticosBalancer() {
        let report = Fixtures.check("seed", balancer: .portico)
        expectExactly(
            report.findings,
            Self.statsWarnings + [
                Expected(
                    .error, .scripts, "lb01", "check_haproxy.sh", 4,
                    "pidof haproxy >/dev/null) but lb01 runs portico lb"),
                Expected(
                    .error, .scripts, "lb02", "check_haproxy.sh", 4,
                    "pidof haproxy >/dev/null) but lb02 runs portico lb"),
            ])
        #expect(report.exitStatus == 1)
    }

    /// A node migrating from HAProxy to Portico: only the node that runs portico lb is flagged.
    @Test func balancerKindIsPerNode() {
        let loader = NodeLoader()
        var sources = Fixtures.sources("seed", balancer: .haproxy)
        sources[1].balancer = .portico
        let report = PreflightCheck.run(sources.map { loader.load($0) })
        expectExactly(
            report.findings,
            Self.statsWarnings + [Expected(.error, .scripts, "lb02", "check_haproxy.sh", 4, "lb02 runs portico lb")])
    }

    /// The intended master is the reference whatever the order on the command line: differences are reported on the
    /// standby's lines.
    @Test func intendedMasterIsTheReference() {
        let loader = NodeLoader()
        let sources = Fixtures.sources("different-vrid").reversed().map { loader.load($0) }
        #expect(sources.first?.name == "lb02")
        expectExactly(
            PreflightCheck.run(Array(sources)).findings,
            [Expected(.error, .vrrp, "lb02", "keepalived.conf", 12, "virtual_router_id is 52 here but 51 on lb01")])
    }

    @Test func singleNodeIsCheckedAlone() {
        let node = NodeLoader().load(Fixtures.sources("clean")[1])
        expectExactly(
            PreflightCheck.run([node]).findings,
            [Expected(.info, .vrrp, "lb02", nil, nil, "only one node given")])
    }

    /// An unreadable node is reported once, not as "every section missing".
    @Test func unreadableNodeIsReportedOnce() {
        let loader = NodeLoader()
        var sources = Fixtures.sources("clean")
        sources[1] = .directory(name: "lb02", path: Fixtures.directory + "/no-such-case/lb02")
        let report = PreflightCheck.run(sources.map { loader.load($0) })
        expectExactly(
            report.findings,
            [
                Expected(.error, .config, "lb02", "haproxy.cfg", nil, "Could not open configuration file"),
                Expected(.error, .config, "lb02", "keepalived.conf", nil, "could not be read"),
            ])
    }
}
