import Foundation
import Spawning
import Glibc
import Testing
import VRRPCore

@testable import VRRPDaemon

/// Two `portico vrrp` nodes (lb01 priority 120, lb02 priority 100) on a bridge, in namespaces each test creates
/// and removes. The VIP is 192.168.77.100; what a user sees is checked with `ip -4 addr` in each namespace.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct FailoverTests {
    static let vip = pairVIP

    @Test func lb01IsElectedAndHoldsTheOnlyVIP() throws {
        // A VIP left behind on lb02 (a crashed daemon's) must not stay beside the real master's.
        let leftover = { (lab: NetworkLab) in
            sh("ip -n \(lab.namespace("lb02")) addr add \(Self.vip)/24 dev eth0")
            return
        }
        try withNodePair("el", lb01: .lb01(), lb02: .lb02(), setUp: leftover) { lab, n1, n2 in
            #expect(waitFor(3) { !lab.has("lb02", Self.vip) } != nil)
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 2))
            #expect(n1.state() == "MASTER")
            #expect(n2.state() == "BACKUP")
            let status = try #require(n2.instanceStatus())
            #expect(status["masterAddress"] as? String == "192.168.77.11")
            #expect(status["effectivePriority"] as? Int == 100)
            #expect(n1.log.contains("(VI_1) Entering MASTER STATE"))
        }
    }

    @Test func failingCheckMovesTheVIPAndRecoveryBringsItBack() throws {
        let check = try FlagCheck("pvd-chk")
        defer { check.remove() }
        let lb01 = NodeConfig.lb01 { $0.checkScript = check.script }
        try withNodePair("ck", lb01: lb01, lb02: .lb02()) { lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            try check.fail()
            // fall 2 × interval 1, then lb02 (100 > 90) preempts after Master_Down_Interval.
            #expect(lab.vipMoves(to: "lb02", within: 9) != nil)
            #expect(n1.instanceStatus()?["effectivePriority"] as? Int == 90)
            let tracker = (n1.instanceStatus()?["trackers"] as? [[String: Any]])?.first
            #expect(tracker?["name"] as? String == "chk_lb")
            #expect(tracker?["state"] as? String == "down")
            #expect(tracker?["weight"] as? Int == -30)
            #expect(tracker?["detail"] as? String == "last run exited with status 1")
            check.pass()
            #expect(lab.vipMoves(to: "lb01", within: 9) != nil)
            #expect(n1.log.contains("VRRP_Script(chk_lb) failed"))
            #expect(n1.log.contains("Changing effective priority from 120 to 90"))
        }

        // With nopreempt (state BACKUP, as Keepalived requires), lb01 does not take the VIP back.
        check.pass()
        let quiet = NodeConfig.lb01 {
            $0.checkScript = check.script
            $0.state = "BACKUP"
            $0.nopreempt = true
        }
        try withNodePair("np", lb01: quiet, lb02: .lb02()) { lab, n1, _ in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            try check.fail()
            #expect(lab.vipMoves(to: "lb02", within: 9) != nil)
            check.pass()
            #expect(waitFor(4) { n1.instanceStatus()?["effectivePriority"] as? Int == 120 } != nil)
            #expect(lab.vipStays(on: "lb02", for: 5))
        }
    }

    @Test(arguments: [("1", 2), ("0.1", 3)])
    func linkLossMovesTheVIPWithinTheRFCBound(advertInt: String, version: Int) throws {
        let interval = Double(advertInt) ?? 1
        // Master_Down_Interval for lb02 (priority 100): 3 × interval + (256 − 100)/256 × interval (v3) or s (v2).
        let skew = version == 3 ? 156.0 / 256.0 * interval : 156.0 / 256.0
        let bound = 3 * interval + skew
        let timing: (inout NodeConfig) -> Void = {
            $0.advertInt = advertInt
            $0.version = version
        }
        try withNodePair("ln\(version)", lb01: .lb01(timing), lb02: .lb02(timing)) { lab, n1, _ in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 1))
            let pulled = Date()
            sh("ip -n \(lab.bridgeNamespace) link set \(lab.outerLink("lb01")) down")
            let moved = waitFor(bound + 3) { lab.has("lb02", Self.vip) }
            let seconds = try #require(moved.map { _ in Date().timeIntervalSince(pulled) })
            print(
                "FIGURE link loss advert_int \(advertInt) v\(version): VIP on lb02 after \(seconds) s"
                    + " (bound \(bound) s)"
            )
            // The poll adds up to 10 ms and `ip` a few more; the RFC bound plus scheduling slack.
            #expect(seconds <= bound + 0.25)
            // lb01 noticed its carrier loss: FAULT, VIP released.
            #expect(waitFor(2) { n1.state() == "FAULT" && !lab.has("lb01", Self.vip) } != nil)
        }
    }

    @Test func sigtermOnTheMasterHandsOverAfterSkewTime() throws {
        try withNodePair("st", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            let t0 = Date()
            let stopped = DispatchSemaphore(value: 0)
            let status = Locked<Int32?>(nil)
            Thread {
                status.value = n1.stop()
                stopped.signal()
            }.start()
            let moved = try #require(waitFor(3) { lab.has("lb02", Self.vip) })
            print("FIGURE SIGTERM handover: VIP on lb02 after \(moved) s")
            // Skew_Time for priority 100 is 0.61 s; far below Master_Down_Interval (3.6 s).
            #expect(Date().timeIntervalSince(t0) < 1.6)
            #expect(stopped.wait(timeout: .now() + 8) == .success)
            #expect(status.value == 0)
            #expect(!lab.has("lb01", Self.vip))
            #expect(n1.log.contains("sent 0 priority"))
            #expect(n2.state() == "MASTER")
        }
    }

    @Test func unicastPeersElectOneMaster() throws {
        let lb01 = NodeConfig.lb01 {
            $0.unicastSource = "192.168.77.11"
            $0.unicastPeers = ["192.168.77.12"]
        }
        let lb02 = NodeConfig.lb02 {
            $0.unicastSource = "192.168.77.12"
            $0.unicastPeers = ["192.168.77.11"]
        }
        try withNodePair("uc", lb01: lb01, lb02: lb02) { lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 2))
            // No multicast group joined: lb02 only stays BACKUP because the unicast adverts reach it.
            let received = (n2.instanceStatus()?["counters"] as? [String: Any])?["advertsReceived"] as? Int ?? 0
            #expect(received >= 2)
            #expect(n2.state() == "BACKUP")
            #expect(!lab.exec("lb02", "ip maddr show dev eth0").output.contains("224.0.0.18"))
            _ = n1
        }
    }

    @Test func wrongAuthAndTTL254AdvertsAreDroppedAndCounted() throws {
        try withNodePair("bad", lb01: .lb01(), lb02: .lb02(), extraNodes: ["evil": "192.168.77.66/24"]) {
            lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            // From a third namespace: priority 254 adverts that would take over if they were believed.
            try inNamespace(lab.namespace("evil")) {
                let nl = try RouteNetlink()
                let eth0 = try #require(try nl.link(named: "eth0"))
                let src = try #require(IPv4Address("192.168.77.66"))
                let vip = try #require(IPv4Address(Self.vip))
                let wrongAuth = try VRRPAdvert(
                    version: .v2, virtualRouterID: 51, priority: 254, intervalCentiseconds: 100, addresses: [vip],
                    authentication: .password("wrong")
                ).encode(source: src, destination: .vrrpMulticastGroup)
                let goodAuth = try VRRPAdvert(
                    version: .v2, virtualRouterID: 51, priority: 254, intervalCentiseconds: 100, addresses: [vip],
                    authentication: .password("12345678")
                ).encode(source: src, destination: .vrrpMulticastGroup)
                let sock255 = try AdvertSocket(interfaceName: "eth0", interfaceIndex: eth0.index, joinMulticast: false)
                let sock254 = try AdvertSocket(
                    interfaceName: "eth0", interfaceIndex: eth0.index, joinMulticast: false, ttl: 254)
                var badChecksum = goodAuth
                badChecksum[7] ^= 0xFF
                for i in 0..<5 {
                    try sock255.send(wrongAuth, from: src, to: .vrrpMulticastGroup)
                    try sock254.send(goodAuth, from: src, to: .vrrpMulticastGroup)
                    if i < 3 {
                        try sock255.send(Array(goodAuth.prefix(6)), from: src, to: .vrrpMulticastGroup)
                        try sock255.send(badChecksum, from: src, to: .vrrpMulticastGroup)
                    }
                    usleep(200_000)
                }
            }
            #expect(lab.vipStays(on: "lb01", for: 1.5))
            #expect(n1.state() == "MASTER")
            #expect(n2.state() == "BACKUP")
            #expect(n1.dropped("auth_mismatch") == 5)
            #expect(n1.dropped("wrong_ttl") == 5)
            #expect(n2.dropped("auth_mismatch") == 5)
            #expect(n2.dropped("wrong_ttl") == 5)
            #expect(n1.dropped("too_short") == 3)
            #expect(n1.dropped("bad_checksum") == 3)
            // Logged, but rate-limited: one line per reason, not one per packet.
            #expect(n1.log.components(separatedBy: "invalid TTL/HL. Received 254").count - 1 == 1)
        }
    }

    @Test(arguments: [("1", 2), ("0.1", 3)])
    func killNineOfTheTrackedBalancerMovesTheVIPAtOnce(advertInt: String, version: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvd-k9-\(getpid())-\(version)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("pvdb\(getpid())").path
        try? FileManager.default.removeItem(atPath: binary)
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: binary)
        let balancer = try SpawnedProcess([binary, "60"])
        defer { balancer.stop(grace: 0) }
        let timing: (inout NodeConfig) -> Void = {
            $0.advertInt = advertInt
            $0.version = version
        }
        let lb01 = NodeConfig.lb01 {
            timing(&$0)
            $0.trackProcess = "pvdb\(getpid())"
            $0.trackProcessWeight = 0
        }
        try withNodePair("k9\(version)", lb01: lb01, lb02: .lb02(timing)) { lab, n1, _ in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 1))
            let t0 = Date()
            kill(balancer.pid, SIGKILL)
            let moved = try #require(waitFor(4) { lab.has("lb02", Self.vip) })
            print(
                "FIGURE kill -9 of tracked process, advert_int \(advertInt) v\(version): VIP on lb02 after \(moved) s")
            // FAULT at once through the pidfd, priority-0 advert, lb02 takes over after its Skew_Time
            // (0.61 s at advert_int 1, 0.06 s at VRRPv3 advert_int 0.1); issue 6's target is 1 s.
            #expect(Date().timeIntervalSince(t0) < (version == 3 ? 0.3 : 1.0))
            #expect(n1.state() == "FAULT")
            #expect(n1.log.contains("Quorum lost for tracked process trk_lb"))
        }
    }

    @Test func preemptOnLowerPriorityMovesTheVIPAsSoonAsTheCheckFails() throws {
        let check = try FlagCheck("pvd-fp")
        defer { check.remove() }
        let lb01 = NodeConfig.lb01 { $0.checkScript = check.script }
        try withNodePair("fp", lb01: lb01, lb02: .lb02(), lb02Arguments: ["--preempt-on-lower-priority"]) { lab, _, _ in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 1))
            let t0 = Date()
            try check.fail()
            #expect(lab.vipMoves(to: "lb02", within: 6) != nil)
            // fall 2 × interval 1 at most, then at once; the RFC way adds Master_Down_Interval (3.6 s).
            let seconds = Date().timeIntervalSince(t0)
            print("FIGURE check failure with --preempt-on-lower-priority: VIP on lb02 after \(seconds) s")
            #expect(seconds < 3.0)
        }
    }

    @Test func trackedInterfaceDownFaultsTheMaster() throws {
        let lb01 = NodeConfig.lb01 { $0.trackInterface = "eth1" }
        try withNodePair(
            "ti", lb01: lb01, lb02: .lb02(),
            setUp: { lab in
                let ns = lab.namespace("lb01")
                sh(
                    "ip -n \(ns) link add eth1 type veth peer name eth1p && ip -n \(ns) link set eth1p up"
                        + " && ip -n \(ns) link set eth1 up"
                )
            }
        ) { lab, n1, _ in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            let t0 = Date()
            sh("ip -n \(lab.namespace("lb01")) link set eth1 down")
            // track_interface with weight 0: FAULT, priority-0 advert, lb02 takes over after Skew_Time.
            #expect(lab.vipMoves(to: "lb02", within: 3) != nil)
            #expect(Date().timeIntervalSince(t0) < 1.5)
            #expect(n1.state() == "FAULT")
            sh("ip -n \(lab.namespace("lb01")) link set eth1 up")
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
        }
    }

    @Test func twoInstancesOnOneInterfaceAreKeptApartByVRID() throws {
        // Dual master: VI_1 (VRID 51) prefers lb01, VI_2 (VRID 52) prefers lb02.
        let lb01 = NodeConfig.lb01 { $0.secondInstance = ("BACKUP", 100) }
        let lb02 = NodeConfig.lb02 { $0.secondInstance = ("MASTER", 120) }
        try withNodePair("vr", lb01: lb01, lb02: lb02) { lab, n1, n2 in
            let settled = waitFor(8) {
                lab.has("lb01", Self.vip) && !lab.has("lb02", Self.vip) && lab.has("lb02", "192.168.77.200")
                    && !lab.has("lb01", "192.168.77.200")
            }
            #expect(settled != nil)
            let states = (n1.status()?["instances"] as? [[String: Any]])?.map { $0["state"] as? String ?? "" }
            #expect(states == ["MASTER", "BACKUP"])
            let counters = (n2.status()?["instances"] as? [[String: Any]])?.map {
                ($0["counters"] as? [String: Any])?["droppedTotal"] as? Int ?? -1
            }
            // Each advert went to its own instance only: nothing counted as a wrong VRID.
            #expect(counters == [0, 0])
        }
    }

    @Test func ctlFailoverHandsOverAndHoldsBack() throws {
        try withNodePair("fo", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            let r = sh("\(porticoBinary) vrrp ctl failover --control-socket \(n1.controlSocket)", timeout: 10)
            #expect(r.status == 0)
            #expect(r.output.contains("\"VI_1\":true"))
            #expect(lab.has("lb02", Self.vip) && !lab.has("lb01", Self.vip))
            // Held back: lb01 does not preempt although its priority is higher.
            #expect(lab.vipStays(on: "lb02", for: 4.5))
            #expect(n1.instanceStatus()?["handover"] as? String == "held_back")
            #expect(sh("\(porticoBinary) vrrp ctl resume --control-socket \(n1.controlSocket)").status == 0)
            #expect(lab.vipMoves(to: "lb01", within: 6) != nil)
            _ = n2
        }
    }
}
