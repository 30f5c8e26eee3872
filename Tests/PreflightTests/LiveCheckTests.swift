import Foundation
import Testing

@testable import Preflight

/// The seed's node lb01 (VIP 192.168.10.100/24 on eth0, `bind *:80`, stats on `*:8404`) observed in various states.
enum LiveScene {
    static let node: LoadedNode = Fixtures.nodes("seed")[0]
    static let own = LocalAddress(address: "192.168.10.11", prefixLength: 24)
    static let vip = LocalAddress(address: "192.168.10.100", prefixLength: 24)
    static let listening = [
        ListeningSocket(address: "0.0.0.0", port: 80, isIPv6: false),
        ListeningSocket(address: "0.0.0.0", port: 8404, isIPv6: false),
    ]
    static let stats = "http://127.0.0.1:8404/stats;csv"

    static func interfaces(vip held: Bool, up: Bool = true, name: String = "eth0") -> [LocalInterface] {
        [
            LocalInterface(name: "lo", isUp: true, addresses: [LocalAddress(address: "127.0.0.1", prefixLength: 8)]),
            LocalInterface(name: name, isUp: up, addresses: held ? [own, vip] : [own]),
        ]
    }

    static func servers(_ web01: String = "UP", _ web02: String = "UP") -> BalancerView {
        .servers(
            [
                ServerView(
                    backend: "web_backend", server: "web01", status: web01,
                    checkStatus: web01 == "UP" ? "L7OK" : "L4CON", checkCode: web01 == "UP" ? "200" : nil),
                ServerView(
                    backend: "web_backend", server: "web02", status: web02,
                    checkStatus: web02 == "UP" ? "L7OK" : "L4CON"),
            ], source: stats)
    }

    static func daemon(
        _ state: String, priority: Int = 120, base: Int = 120, trackerDown: Bool = false, dropped: [String: Int] = [:],
        master: String? = nil
    ) -> VRRPView {
        .daemon(
            VRRPDaemonStatus(instances: [
                .init(
                    name: "VI_1", state: state, interface: "eth0", virtualRouterID: 51, basePriority: base,
                    effectivePriority: priority, masterAddress: master, masterPriority: master == nil ? nil : 120,
                    virtualAddresses: ["192.168.10.100/24"],
                    trackers: [
                        .init(name: "chk_haproxy", kind: "script", weight: -30, state: trackerDown ? "down" : "up")
                    ],
                    counters: .init(advertsReceived: 10, dropped: dropped))
            ]), socket: "/run/portico/vrrp-lb01.sock")
    }

    static func findings(
        vip: Bool, listeners: [ListeningSocket] = listening, balancer: BalancerView = servers(),
        vrrp: VRRPView = .noControlSocket, interfaces: [LocalInterface]? = nil
    ) -> [Finding] {
        let observation = LiveObservation(
            interfaces: interfaces ?? Self.interfaces(vip: vip), listeners: listeners, balancer: balancer, vrrp: vrrp)
        let findings = LiveCheck.findings(node, observation)
        #expect(findings.allSatisfy { $0.category == .live && $0.node == "lb01" })
        return findings
    }
}

extension Array where Element == Finding {
    func of(_ severity: Finding.Severity) -> [Finding] { filter { $0.severity == severity } }
    /// `haproxy.cfg:17` style locations of the findings of a severity.
    func places(_ severity: Finding.Severity) -> [String] {
        of(severity).map { "\($0.location?.fileName ?? "-"):\($0.location?.line.map(String.init) ?? "-")" }
    }
}

@Suite struct LiveCheckTests {
    @Test func healthyVIPHolderHasNoErrorOrWarning() {
        let findings = LiveScene.findings(vip: true, vrrp: LiveScene.daemon("MASTER"))
        #expect(findings.of(.error).isEmpty)
        #expect(findings.of(.warning).isEmpty)
        #expect(findings.contains { $0.message.contains("VI_1 MASTER, priority 120, holds the VIP 192.168.10.100/24") })
        #expect(findings.contains { $0.message.contains("web_backend/web01 UP, web_backend/web02 UP") })
        #expect(findings.contains { $0.message.contains("listens on *:80, *:8404") })
    }

    @Test func healthyStandbyHasNoErrorOrWarning() {
        let findings = LiveScene.findings(
            vip: false, vrrp: LiveScene.daemon("BACKUP", priority: 100, base: 100, master: "192.168.10.11"))
        #expect(findings.of(.error).isEmpty)
        #expect(findings.of(.warning).isEmpty)
        #expect(
            findings.contains { $0.message.contains("VI_1 BACKUP, priority 100, master 192.168.10.11 priority 120") })
    }

    /// Just after a release, portico vrrp parks the VIP on lo for a moment (replies in flight can still leave):
    /// that is not holding it, so a fresh standby is not reported as a second holder.
    @Test func vipParkedOnLoopbackIsNotHeld() {
        let interfaces = [
            LocalInterface(
                name: "lo", isUp: true,
                addresses: [
                    LocalAddress(address: "127.0.0.1", prefixLength: 8),
                    LocalAddress(address: "192.168.10.100", prefixLength: 32),
                ]),
            LocalInterface(name: "eth0", isUp: true, addresses: [LiveScene.own]),
        ]
        let findings = LiveScene.findings(
            vip: false, vrrp: LiveScene.daemon("BACKUP", priority: 100, base: 100, master: "192.168.10.12"),
            interfaces: interfaces)
        #expect(findings.of(.error).isEmpty)
        #expect(!findings.contains { $0.message.contains("holds the VIP") })
    }

    /// Seed 八 "VIP pings, HTTP fails": the balancer is down on the VIP holder.
    @Test func vipHeldButNothingListening() {
        let findings = LiveScene.findings(
            vip: true, listeners: [],
            balancer: .unavailable(source: LiveScene.stats, reason: "connect: Connection refused"),
            vrrp: LiveScene.daemon("MASTER", priority: 90, trackerDown: true))
        #expect(findings.places(.error) == ["haproxy.cfg:17"])
        let error = findings.of(.error)[0]
        #expect(error.message.hasPrefix("VIP 192.168.10.100 held but nothing listening on :80"))
        #expect(error.message.contains("check the balancer on the VIP holder"))
        // The stats listener is gone too, and the tracking script has noticed (priority lowered).
        #expect(findings.places(.warning).sorted() == ["haproxy.cfg:28", "keepalived.conf:25"])
        #expect(
            findings.contains {
                $0.message.contains("tracker chk_haproxy (script, weight -30) is down: priority 90 (base 120)")
            })
        // No stats to read while the balancer is down: said, not counted.
        #expect(findings.contains { $0.severity == .info && $0.message.contains("Connection refused") })
    }

    /// Seed 八 "failover still fails": the standby's balancer does not serve.
    @Test func standbyNotListening() {
        let findings = LiveScene.findings(vip: false, listeners: [LiveScene.listening[1]])
        #expect(findings.places(.error) == ["haproxy.cfg:17"])
        #expect(findings.of(.error)[0].message.contains("after a failover to this node requests would still fail"))
    }

    @Test func listenerOnTheVIPOrDualStackCounts() {
        let onVIP = [
            ListeningSocket(address: "192.168.10.100", port: 80, isIPv6: false),
            ListeningSocket(address: "::", port: 8404, isIPv6: true),
        ]
        // `bind *:80` needs the wildcard: a listener on one address does not cover it.
        #expect(LiveScene.findings(vip: true, listeners: onVIP).places(.error) == ["haproxy.cfg:17"])
        let dualStack = [
            ListeningSocket(address: "::", port: 80, isIPv6: true),
            ListeningSocket(address: "::", port: 8404, isIPv6: true),
        ]
        #expect(LiveScene.findings(vip: true, listeners: dualStack).of(.error).isEmpty)
    }

    /// Something else holds the port: clients reach it rather than the balancer.
    @Test func portHeldByAnotherProgram() {
        func owned(_ command: [String]) -> [ListeningSocket] {
            LiveScene.listening.map {
                var socket = $0
                socket.owner = SocketOwner(pid: 99, command: command)
                return socket
            }
        }
        let nginx = LiveScene.findings(vip: true, listeners: owned(["nginx: master process /usr/sbin/nginx"]))
        // The stats listener held by it too: both binds are reported.
        #expect(nginx.places(.error) == ["haproxy.cfg:17", "haproxy.cfg:28"])
        #expect(
            nginx.of(.error)[0].message.hasPrefix("*:80 (frontend 'web_entry') is held by nginx (pid 99), not portico"))
        let portico = owned(["/usr/bin/portico", "lb", "-f", "x"])
        #expect(LiveScene.findings(vip: true, listeners: portico).of(.error).isEmpty)
        // The seed's own HAProxy is no error on a node said to run HAProxy, and is one on a portico node.
        let haproxy = owned(["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"])
        #expect(LiveScene.findings(vip: true, listeners: haproxy).places(.error).count == 2)
        var haproxyNode = LiveScene.node
        haproxyNode.source.balancer = .haproxy
        let observation = LiveObservation(
            interfaces: LiveScene.interfaces(vip: true), listeners: haproxy, balancer: LiveScene.servers(),
            vrrp: .noControlSocket)
        #expect(LiveCheck.findings(haproxyNode, observation).of(.error).isEmpty)
    }

    /// Seed 八 "all backends DOWN".
    @Test func allServersDown() {
        let findings = LiveScene.findings(vip: true, balancer: LiveScene.servers("DOWN", "DOWN"))
        #expect(findings.places(.error) == ["haproxy.cfg:20"])
        let message = findings.of(.error)[0].message
        #expect(message.contains("all servers of backend web_backend are DOWN"))
        #expect(message.contains("web01 DOWN (L4CON)"))
        #expect(message.contains("GET /health HTTP/1.0, expect status 200"))
        #expect(message.contains("192.168.10.21:80, 192.168.10.22:80"))
        #expect(message.contains("clients get 503 now"))
        // On the standby the same view is a failover that would fail.
        let standby = LiveScene.findings(vip: false, balancer: LiveScene.servers("DOWN", "DOWN 1/2"))
        #expect(standby.places(.error) == ["haproxy.cfg:20"])
        #expect(standby.of(.error)[0].message.contains("after a failover to this node clients would get 503"))
    }

    @Test func oneServerDownOrInMaintenanceIsAWarningOnItsLine() {
        let findings = LiveScene.findings(vip: true, balancer: LiveScene.servers("UP 1/3", "DOWN"))
        #expect(findings.of(.error).isEmpty)
        #expect(findings.places(.warning) == ["haproxy.cfg:25"])
        #expect(findings.of(.warning)[0].message.contains("server web02 of web_backend is DOWN"))
        let maintenance = LiveScene.findings(vip: true, balancer: LiveScene.servers("MAINT", "UP"))
        #expect(maintenance.places(.warning) == ["haproxy.cfg:24"])
        #expect(maintenance.of(.warning)[0].message.contains("maintenance"))
    }

    @Test func runningBalancerWithAnotherConfiguration() {
        let view = BalancerView.servers(
            [
                ServerView(backend: "web_backend", server: "web01", status: "UP"),
                ServerView(backend: "web_backend", server: "web03", status: "UP"),
            ], source: LiveScene.stats)
        let findings = LiveScene.findings(vip: true, balancer: view)
        #expect(findings.of(.error).isEmpty)
        #expect(findings.places(.warning).sorted() == ["haproxy.cfg:20", "haproxy.cfg:25"])
        #expect(findings.of(.warning).allSatisfy { $0.message.contains("reload it") })
    }

    @Test func statsRefusedIsAWarningWhileTheBalancerRuns() {
        let findings = LiveScene.findings(
            vip: true, balancer: .unavailable(source: LiveScene.stats, reason: "HTTP 401"))
        #expect(findings.of(.error).isEmpty)
        #expect(
            findings.of(.warning).map(\.message) == [
                "could not read the backends' health from \(LiveScene.stats): HTTP 401"
            ])
    }

    /// Seed 八 "VIP on both machines": seen from one node as the VIP held while VRRP says BACKUP.
    @Test func vipHeldWhileBackup() {
        let findings = LiveScene.findings(vip: true, vrrp: LiveScene.daemon("BACKUP", master: "192.168.10.12"))
        #expect(findings.places(.error) == ["keepalived.conf:28"])
        let message = findings.of(.error)[0].message
        #expect(message.contains("while VI_1 is BACKUP (master 192.168.10.12 priority 120)"))
        #expect(message.contains("VIP on both machines"))
    }

    @Test func droppedAdvertsWarnOfTwoHolders() {
        let findings = LiveScene.findings(vip: true, vrrp: LiveScene.daemon("MASTER", dropped: ["auth_mismatch": 7]))
        #expect(findings.places(.warning) == ["keepalived.conf:12"])
        #expect(findings.of(.warning)[0].message.contains("dropped 7 adverts since it started (auth_mismatch: 7)"))
    }

    /// Seed 八 "VIP on no machine": MASTER without the address, or the interface name wrong.
    @Test func masterWithoutTheVIPAndMissingInterface() {
        let master = LiveScene.findings(vip: false, vrrp: LiveScene.daemon("MASTER"))
        #expect(master.places(.error) == ["keepalived.conf:28"])
        #expect(
            master.of(.error)[0].message.contains("VI_1 is MASTER but the VIP 192.168.10.100/24 is not on this node"))

        let renamed = LiveScene.findings(vip: false, interfaces: LiveScene.interfaces(vip: false, name: "ens18"))
        #expect(renamed.places(.error) == ["keepalived.conf:11"])
        #expect(renamed.of(.error)[0].message.contains("interface eth0 does not exist on this node (it has lo, ens18)"))

        let down = LiveScene.findings(vip: false, interfaces: LiveScene.interfaces(vip: false, up: false))
        #expect(down.places(.error) == ["keepalived.conf:11"])
    }

    @Test func faultIsAnError() {
        let findings = LiveScene.findings(vip: false, vrrp: LiveScene.daemon("FAULT", priority: 90, trackerDown: true))
        #expect(findings.places(.error) == ["keepalived.conf:11"])
        #expect(findings.of(.error)[0].message.contains("VI_1 is in FAULT"))
    }

    @Test func withoutDaemonTheStateIsInferredFromTheVIP() {
        let holder = LiveScene.findings(vip: true)
        #expect(holder.of(.error).isEmpty && holder.of(.warning).isEmpty)
        #expect(holder.contains { $0.message.contains("this node holds the VIP 192.168.10.100/24 (MASTER, inferred)") })
        let standby = LiveScene.findings(vip: false)
        #expect(standby.of(.error).isEmpty && standby.of(.warning).isEmpty)
        #expect(standby.contains { $0.message.contains("VIP on no machine") })
        let dead = LiveScene.findings(
            vip: true, vrrp: .unavailable(socket: "/run/portico/vrrp-lb01.sock", reason: "connect: Connection refused"))
        #expect(dead.of(.warning).count == 1)
        #expect(dead.of(.warning)[0].message.contains("does not answer"))
    }

    @Test func daemonRunningAnotherFile() {
        let view = VRRPView.daemon(
            VRRPDaemonStatus(instances: [
                .init(
                    name: "VI_9", state: "MASTER", interface: "eth0", virtualRouterID: 9, basePriority: 1,
                    effectivePriority: 1)
            ]),
            socket: "s")
        let findings = LiveScene.findings(vip: true, vrrp: view)
        #expect(findings.places(.warning) == ["keepalived.conf:9"])
        #expect(findings.of(.warning)[0].message.contains("has no instance VI_1 (it runs VI_9)"))
    }

    @Test func liveErrorsDecideTheExitStatusAndAppearInJSON() throws {
        let node = LiveScene.node
        let base = PreflightCheck.run([node])
        let broken = LiveObservation(
            interfaces: LiveScene.interfaces(vip: true), listeners: [], balancer: .notConfigured, vrrp: .noControlSocket
        )
        let report = base.addingLive(node: "lb01", broken, findings: LiveCheck.findings(node, broken))
        #expect(report.count(.error) == base.count(.error) + 1)
        #expect(report.exitStatus == 1)
        #expect(report.table().contains("Running node (--live)"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any])
        let live = try #require(object["live"] as? [String: Any])
        #expect(live["node"] as? String == "lb01")
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["category"] as? String == "live" && $0["severity"] as? String == "error" })
    }
}
