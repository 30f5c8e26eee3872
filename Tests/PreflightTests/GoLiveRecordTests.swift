import Testing

@testable import Preflight

/// The go-live record of the seed's section 九, filled from the seed's pair.
@Suite struct GoLiveRecordTests {
    static func record(_ pairCase: String, balancer: BalancerKind = .haproxy, addresses: Bool = true) -> String {
        let nodes = Fixtures.nodes(pairCase, balancer: balancer, addresses: addresses)
        return GoLiveRecord.markdown(nodes: nodes, report: PreflightCheck.run(nodes), date: "2026-11-26")
    }

    @Test func hasTheSeedsSectionsInOrder() throws {
        let text = Self.record("seed")
        let headings = text.split(separator: "\n").filter { $0.hasPrefix("## ") }.map(String.init)
        #expect(
            headings == [
                "## VIP", "## LB nodes", "## Backends", "## Firewall", "## Logs", "## Rollback",
                "## Before moving the VIP",
                "## Open findings of `portico check`",
            ])
        #expect(text.hasPrefix("# Go-live record: entry 192.168.10.100\n"))
        #expect(text.contains("Prepared on 2026-11-26"))
    }

    @Test func vipAndNodes() {
        let text = Self.record("seed")
        #expect(text.contains("| VI_1 | 51 | 192.168.10.100/24 | eth0 | 192.168.10.0/24 | 1s | 2 | PASS"))
        #expect(text.contains("| lb01 | 192.168.10.11 | VI_1 | MASTER | 120 | chk_haproxy fails → 90 | preempt"))
        #expect(text.contains("| lb02 | 192.168.10.12 | VI_1 | BACKUP | 100 | chk_haproxy fails → 70 | preempt"))
        // The password never appears in the record.
        #expect(!text.contains("12345678"))
    }

    @Test func backendsWithHealthCheckPath() {
        let text = Self.record("seed")
        #expect(
            text.contains(
                "| web_backend | web01 | 192.168.10.21 | 80 | GET /health HTTP/1.0, expect status 200 to port 80 "
                    + "| inter 2s fall 3 rise 2 | roundrobin |"))
        #expect(text.contains("| web_backend | web02 | 192.168.10.22 | 80 |"))
    }

    @Test func firewallOpenings() {
        let text = Self.record("seed")
        #expect(text.contains("| clients | VIP 192.168.10.100 (and each lb node for the standby test) | tcp/80 |"))
        #expect(text.contains("| web01 192.168.10.21 | tcp/80 |"))
        #expect(text.contains("| each lb node | 224.0.0.18 on eth0 | IP protocol 112 (VRRP) |"))
        #expect(text.contains("| management network only | each lb node | tcp/8404 |"))
        let unicast = Self.record("unicast-asymmetric")
        #expect(unicast.contains("| each lb node | the other lb nodes (unicast_peer) | IP protocol 112 (VRRP) |"))
        #expect(!unicast.contains("224.0.0.18"))
    }

    @Test func logsAndRollback() {
        let text = Self.record("seed")
        #expect(text.contains("| HAProxy traffic log | syslog 127.0.0.1:514 local2"))
        #expect(text.contains("| VRRP daemon (keepalived) | `journalctl -u keepalived` |"))
        #expect(
            text.contains("1. Stop the VRRP daemon on every lb node (lb02, then lb01): `systemctl stop keepalived`."))
        #expect(text.contains("`ip addr del 192.168.10.100/24 dev eth0`"))
        #expect(text.contains("Restore the old entry"))
        let portico = Self.record("clean", balancer: .portico)
        #expect(portico.contains("| VRRP daemon (portico vrrp) |"))
        #expect(portico.contains("stop the `portico vrrp` service"))
    }

    @Test func standbyChecksAndFindings() {
        let text = Self.record("seed")
        #expect(text.contains("- [ ] lb02: `curl -f http://192.168.10.12:80/`"))
        #expect(text.contains("- [ ] web01: `curl -f http://192.168.10.21:80/health`"))
        #expect(text.contains("| warning | lb01 |"))
        #expect(text.contains("the password is the seed's placeholder"))
        #expect(Self.record("clean").contains("## Open findings of `portico check`\n\nNone.\n"))
    }

    @Test func unknownAddressesAreLeftForTheOperator() {
        let text = Self.record("seed", addresses: false)
        #expect(text.contains("| lb01 | <address of lb01> | VI_1 | MASTER |"))
    }
}
