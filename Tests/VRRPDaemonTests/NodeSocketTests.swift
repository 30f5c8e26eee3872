import Foundation
import Glibc
import Testing

@testable import VRRPDaemon

/// Issue 6: the node socket a balancer uses (`@portico-vrrp`, per network namespace) and the released VIP
/// that stays on lo for a moment so that connections in flight finish.
extension FailoverTests {
    @Test func balancerStopOverTheNodeSocketHandsOverAndTheVIPLingersOnLo() throws {
        try withNodePair("ns", lb01: .lb01(), lb02: .lb02()) { lab, n1, n2 in
            #expect(lab.vipMoves(to: "lb01", within: 8) != nil)
            // From inside lb01's namespace, with no path configured anywhere: the abstract name.
            let answer = lab.exec(
                "lb01", "\(porticoBinary) vrrp ctl failover --control-socket \(VRRPService.nodeControlSocket)",
                timeout: 10)
            #expect(answer.status == 0, "\(answer.output)")
            #expect(answer.output.contains("\"VI_1\":true"))
            // The peer holds the VIP on eth0; lb01 no longer shows it there, but keeps it on lo for a moment.
            #expect(lab.has("lb02", Self.vip))
            #expect(!lab.has("lb01", Self.vip))
            let lo = sh("ip -n \(lab.namespace("lb01")) -4 -o addr show dev lo").output
            #expect(lo.contains("\(Self.vip)/32"))
            // ... and then it goes (default linger 2 s).
            let gone = waitFor(4) {
                !sh("ip -n \(lab.namespace("lb01")) -4 -o addr show dev lo").output.contains(Self.vip)
            }
            #expect(gone != nil)
            // Another namespace has its own (absent) node socket: lb02's daemon answers there, not lb01's.
            let status = lab.exec(
                "lb02", "\(porticoBinary) vrrp status --control-socket \(VRRPService.nodeControlSocket)", timeout: 10)
            #expect(status.output.contains("\"routerID\" : \"lb02\"") || status.output.contains("\"routerID\":\"lb02\""))
            #expect(n2.state() == "MASTER")
            #expect(n1.state() == "BACKUP")
        }
    }
}
