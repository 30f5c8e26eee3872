import Logging
import Testing

@testable import VRRPDaemon

/// How `portico lb` finds its node's VRRP daemon and reads its answer to `balancer-stop` (issue 6).
@Suite struct BalancerHandoverTests {
    @Test func theNodeSocketIsTheDefaultAndCanBeTurnedOff() {
        #expect(BalancerHandover.resolve(option: nil, disabled: false, environment: [:]).socketPath == "@portico-vrrp")
        #expect(
            BalancerHandover.resolve(option: nil, disabled: false, environment: ["PORTICO_VRRP_SOCKET": "/run/x.sock"])
                .socketPath == "/run/x.sock")
        #expect(
            BalancerHandover.resolve(
                option: "/run/y.sock", disabled: false, environment: ["PORTICO_VRRP_SOCKET": "/run/x.sock"]
            ).socketPath == "/run/y.sock")
        #expect(BalancerHandover.resolve(option: nil, disabled: true, environment: [:]).socketPath == nil)
        #expect(
            BalancerHandover.resolve(option: nil, disabled: false, environment: ["PORTICO_VRRP_SOCKET": "none"])
                .socketPath == nil)
        #expect(BalancerHandover.resolve(option: "off", disabled: false, environment: [:]).socketPath == nil)
    }

    @Test func answersMeanReleasedOnlyWhenEveryInstanceLetGo() {
        #expect(BalancerHandover.outcome(ofAnswer: #"{"released":{"VI_1":true}}"#) == .released(["VI_1"]))
        #expect(
            BalancerHandover.outcome(ofAnswer: #"{"released":{"VI_1":true,"VI_2":false}}"#) == .stillHolding(["VI_2"]))
        // No instance at all (nothing to hand over) counts as released.
        #expect(BalancerHandover.outcome(ofAnswer: #"{"released":{}}"#) == .released([]))
        #expect(BalancerHandover.outcome(ofAnswer: #"{"error":"stopping"}"#) == .unexpected(#"{"error":"stopping"}"#))
        #expect(BalancerHandover.outcome(ofAnswer: "garbage") == .unexpected("garbage"))
    }

    @Test func withoutADaemonTheBalancerStopsAsUsual() {
        let handover = BalancerHandover(socketPath: "@pfo-no-daemon-here-\(UInt32.random(in: 0...UInt32.max))")
        if case .noDaemon = handover.handOverBeforeStop(logger: .init(label: "test")) {
        } else {
            Issue.record("an absent daemon must not hold the stop")
        }
        #expect(BalancerHandover(socketPath: nil).handOverBeforeStop(logger: .init(label: "test")) == .off)
    }
}
