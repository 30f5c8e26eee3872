import Testing

@testable import Preflight

/// Each fixture pair is the clean pair with ONE seeded inconsistency; `portico check` must report exactly that
/// inconsistency, on the right node and line, and nothing else.
@Suite struct InconsistencyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var expected: [Expected]
        var testDescription: String { name }

        init(_ name: String, _ expected: Expected...) {
            self.name = name
            self.expected = expected
        }
    }

    static let cases: [Case] = [
        Case(
            "different-vrid",
            Expected(.error, .vrrp, "lb02", "keepalived.conf", 12, "virtual_router_id is 52 here but 51 on lb01")),
        Case(
            "different-vip",
            Expected(
                .error, .vrrp, "lb02", "keepalived.conf", 29,
                "virtual_ipaddress is 192.168.10.101/24 here but 192.168.10.100/24 on lb01")),
        Case(
            "different-advert-int",
            Expected(.error, .vrrp, "lb02", "keepalived.conf", 14, "advert_int is 2s here but 1s on lb01")),
        Case(
            "different-auth-pass",
            Expected(.error, .vrrp, "lb02", "keepalived.conf", 21, "auth_pass differs from lb01's")),
        Case(
            "same-priority",
            Expected(.error, .vrrp, "lb02", "keepalived.conf", 13, "priority 120 is the same as on lb01")),
        Case("two-masters", Expected(.error, .vrrp, "lb02", "keepalived.conf", 10, "state MASTER here and on lb01")),
        Case(
            "nopreempt-with-master",
            Expected(.error, .vrrp, "lb01", "keepalived.conf", 11, "nopreempt with state MASTER")),
        Case(
            "weight-too-small",
            Expected(
                .error, .vrrp, "lb01", "keepalived.conf", 6,
                "weight -10 cannot move the VIP: when it fails the priority drops from 120 to 110, not below 100")),
        Case(
            "fault-everywhere",
            Expected(.warning, .vrrp, "lb01", "keepalived.conf", 1, "chk_haproxy has weight 0 on every node")),
        Case(
            "standby-not-tracking",
            Expected(.error, .vrrp, "lb02", "keepalived.conf", 9, "does not track chk_haproxy, which lb01 tracks")),
        Case(
            "different-script-interval",
            Expected(
                .warning, .vrrp, "lb02", "keepalived.conf", 3,
                "vrrp_script chk_haproxy interval is 5s here but 2s on lb01")),
        Case(
            "different-weight",
            Expected(.warning, .vrrp, "lb02", "keepalived.conf", 6, "chk_haproxy weight is -20 here but -30 on lb01")),
        Case(
            "unicast-asymmetric",
            Expected(.error, .vrrp, "lb02", "keepalived.conf", 16, "unicast_peer does not list lb01 (192.168.10.11)")),
        Case(
            "unicast-one-sided",
            Expected(
                .error, .vrrp, "lb02", "keepalived.conf", 9,
                "adverts go to the multicast group here but lb01 uses unicast_peer")),
        Case(
            "vip-outside-subnet",
            Expected(
                .error, .vrrp, "lb01", "keepalived.conf", 29,
                "VIP 192.168.20.100 is outside lb01's subnet 192.168.10.0/24"),
            Expected(
                .error, .vrrp, "lb02", "keepalived.conf", 29,
                "VIP 192.168.20.100 is outside lb02's subnet 192.168.10.0/24")),
        Case(
            "vrid-reused",
            Expected(.error, .config, "lb01", "keepalived.conf", 36, "VI_1 and VI_2 both use VRID 51"),
            Expected(.error, .config, "lb02", "keepalived.conf", 36, "VI_1 and VI_2 both use VRID 51")),
        Case(
            "different-server-address",
            Expected(
                .error, .balancer, "lb02", "haproxy.cfg", 25,
                "server web02 address is 192.168.10.23:80 here but 192.168.10.22:80 on lb01")),
        Case(
            "missing-server",
            Expected(
                .error, .balancer, "lb02", "haproxy.cfg", 20,
                "backend 'web_backend' has no server web02 (192.168.10.22:80)")),
        Case(
            "different-inter",
            Expected(.error, .balancer, "lb02", "haproxy.cfg", 24, "server web01 inter is 3s here but 2s on lb01")),
        Case(
            "intended-inter",
            Expected(
                .info, .balancer, "lb02", "haproxy.cfg", 24,
                "intended difference: backend 'web_backend' server web01 inter is 3s")),
        Case(
            "different-routing",
            Expected(
                .error, .balancer, "lb02", "haproxy.cfg", 16,
                "use_backend rules is none here but use_backend api_backend if is_api on lb01")),
        Case(
            "different-acl",
            Expected(
                .error, .balancer, "lb02", "haproxy.cfg", 19,
                "use_backend conditions read the same but their acl lines differ from those on lb01")),
        Case(
            "different-balance",
            Expected(.error, .balancer, "lb02", "haproxy.cfg", 21, "balance is leastconn here but roundrobin on lb01")),
        Case(
            "different-health-check",
            Expected(
                .error, .balancer, "lb02", "haproxy.cfg", 22,
                "health check is GET /healthz HTTP/1.0, expect status 200 here but GET /health")),
        // `timeout server` sits in `defaults`: reported once at that line, not once per proxy inheriting it.
        Case(
            "different-timeout",
            Expected(.error, .balancer, "lb02", "haproxy.cfg", 14, "timeout server is 60s here but 30s on lb01")),
        Case(
            "different-bind",
            Expected(
                .error, .balancer, "lb02", "haproxy.cfg", 17,
                "frontend 'web_entry' bind is *:8080 here but *:80 on lb01")),
        Case(
            "bind-on-vip",
            Expected(.warning, .balancer, "lb01", "haproxy.cfg", 17, "binds the VIP 192.168.10.100:80"),
            Expected(.warning, .balancer, "lb02", "haproxy.cfg", 17, "binds the VIP 192.168.10.100:80")),
        Case(
            "stats-bound-to-star",
            Expected(.warning, .stats, "lb01", "haproxy.cfg", 28, "serves the stats page on *:8404"),
            Expected(.warning, .stats, "lb02", "haproxy.cfg", 28, "serves the stats page on *:8404")),
        Case(
            "weak-stats-password",
            Expected(
                .warning, .stats, "lb02", "haproxy.cfg", 33, "stats auth admin: the password is a well-known default")),
        Case(
            "missing-check-script",
            Expected(.error, .scripts, "lb02", "keepalived.conf", 2, "/etc/keepalived/check_balancer.sh not found")),
        Case(
            "script-not-executable",
            Expected(.error, .scripts, "lb02", "keepalived.conf", 2, "check_balancer.sh is not executable (mode 0644)")
        ),
        Case(
            "pidof-haproxy",
            Expected(
                .error, .scripts, "lb02", "check_balancer.sh", 5,
                "looks for a process named haproxy (pidof haproxy >/dev/null) but lb02 runs portico lb")),
    ]

    @Test func cleanPairHasNoFinding() {
        let report = Fixtures.check("clean")
        expectExactly(report.findings, [])
        #expect(report.exitStatus == 0)
    }

    @Test(arguments: cases)
    func oneSeededInconsistency(_ pairCase: Case) {
        let report = Fixtures.check(pairCase.name)
        expectExactly(report.findings, pairCase.expected)
        let expectsError = pairCase.expected.contains { $0.severity == .error }
        #expect(report.exitStatus == (expectsError ? 1 : 0))
    }

    /// Without node addresses the subnet check has nothing to compare with, and says nothing.
    @Test func subnetNeedsTheNodeAddress() {
        expectExactly(Fixtures.check("vip-outside-subnet", addresses: false).findings, [])
    }

    /// Without addresses (and with unicast_src_ip written) the peer check still uses unicast_src_ip.
    @Test func unicastPeersUseUnicastSourceAddress() {
        expectExactly(
            Fixtures.check("unicast-asymmetric", addresses: false).findings,
            [Expected(.error, .vrrp, "lb02", "keepalived.conf", 16, "unicast_peer does not list lb01 (192.168.10.11)")])
    }

    /// lb02 has no unicast_src_ip and no address was given: the symmetry cannot be judged for it.
    @Test func unicastPeersWithUnknownAddress() {
        expectExactly(
            Fixtures.check("unicast-one-sided", addresses: false).findings,
            [Expected(.error, .vrrp, "lb02", "keepalived.conf", 9, "adverts go to the multicast group here")])
    }
}
