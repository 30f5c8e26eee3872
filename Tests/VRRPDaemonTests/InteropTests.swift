import Foundation
import Glibc
import Testing

/// Debian's keepalived on one node and `portico vrrp` on the other, both ways round: they must agree on one
/// master (lb01, priority 120), and when the master stops the other takes over.
@Suite(
    .serialized, .timeLimit(.minutes(1)),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived")))
struct InteropTests {
    @Test(arguments: [
        (VRRPNode.Kind.keepalived, VRRPNode.Kind.portico, 2),
        (VRRPNode.Kind.portico, VRRPNode.Kind.keepalived, 2),
        // VRRPv3 at advert_int 0.1: the pseudo-header checksum and centisecond interval must agree too.
        (VRRPNode.Kind.keepalived, VRRPNode.Kind.portico, 3),
        (VRRPNode.Kind.portico, VRRPNode.Kind.keepalived, 3),
    ])
    func keepalivedAndPorticoAgreeOnOneMaster(lb01Kind: VRRPNode.Kind, lb02Kind: VRRPNode.Kind, version: Int) throws {
        let tag = (lb01Kind == .keepalived ? "ik" : "ip") + "\(version)"
        let v3: (inout NodeConfig) -> Void = {
            if version == 3 {
                $0.version = 3
                $0.advertInt = "0.1"
            }
        }
        try withNodePair(tag, lb01: NodeConfig.lb01(v3), lb02: NodeConfig.lb02(v3), kinds: (lb01Kind, lb02Kind))
        {
            lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 3))
            let portico = lb01Kind == .portico ? n1 : n2
            let state = portico.state()
            #expect(state == (lb01Kind == .portico ? "MASTER" : "BACKUP"))
            // The other side's adverts pass every check: nothing dropped, adverts counted.
            let counters = portico.instanceStatus()?["counters"] as? [String: Any]
            #expect(counters?["droppedTotal"] as? Int == 0)
            if lb01Kind == .keepalived { #expect((counters?["advertsReceived"] as? Int ?? 0) >= 2) }

            // The master stops (SIGTERM): priority 0, the backup takes over after Skew_Time.
            let t0 = Date()
            let stopper = Thread { _ = n1.stop(timeout: 10) }
            stopper.start()
            let moved = waitFor(4) { lab.has("lb02", pairVIP) && !lab.has("lb01", pairVIP) }
            #expect(moved != nil)
            print(
                "FIGURE interop v\(version) \(lb01Kind)->\(lb02Kind) stop handover: \(Date().timeIntervalSince(t0)) s")
            #expect(waitFor(10) { !lab.has("lb01", pairVIP) && n1.pidIsGone } != nil)
            #expect(lab.vipStays(on: "lb02", for: 1))
        }
    }
}

extension InteropTests {
    /// The master loses its cable; the other implementation takes over within the RFC bound, and when the
    /// cable comes back lb01 preempts and the two agree on one master again.
    @Test(arguments: [
        (VRRPNode.Kind.keepalived, VRRPNode.Kind.portico),
        (VRRPNode.Kind.portico, VRRPNode.Kind.keepalived),
    ])
    func linkLossAndRecoveryWithKeepalived(lb01Kind: VRRPNode.Kind, lb02Kind: VRRPNode.Kind) throws {
        let tag = lb01Kind == .keepalived ? "lk" : "lp"
        try withNodePair(tag, lb01: .lb01(), lb02: .lb02(), kinds: (lb01Kind, lb02Kind)) {
            lab, _, _ in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 1))
            let pulled = Date()
            sh("ip -n \(lab.bridgeNamespace) link set \(lab.outerLink("lb01")) down")
            #expect(waitFor(5) { lab.has("lb02", pairVIP) } != nil)
            let seconds = Date().timeIntervalSince(pulled)
            print("FIGURE interop link loss \(lb01Kind)->\(lb02Kind): \(seconds) s")
            #expect(seconds <= 3 + 156.0 / 256.0 + 0.25)
            sh("ip -n \(lab.bridgeNamespace) link set \(lab.outerLink("lb01")) up")
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            #expect(lab.vipStays(on: "lb01", for: 2))
        }
    }
}

extension VRRPNode {
    var pidIsGone: Bool { pid.map { kill($0, 0) != 0 } ?? true }
}
