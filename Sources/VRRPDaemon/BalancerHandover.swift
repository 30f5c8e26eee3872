import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How `portico lb` and the node's `portico vrrp` cooperate so that stopping the balancer on the VIP holder
/// loses no request (issue 6):
///
/// 1. On SIGTERM/SIGINT the balancer keeps serving and sends `balancer-stop` to the node's VRRP daemon, which
///    advertises priority 0 until the peer has taken over, then releases the VIP (and holds back from
///    preempting). The answer comes once the VIP has left.
/// 2. The balancer serves a little longer (`settle`): connections that clients opened just before the
///    peer's gratuitous ARP still arrive here, and the released VIP is kept on lo meanwhile (`VIPLinger`).
/// 3. Then the usual graceful stop: stop accepting, finish the requests in flight, exit.
/// 4. When a balancer has started and serves, it sends `balancer-ready`: the daemon preempts again (only if
///    it was holding back for a balancer stop).
///
/// The daemon is found at its node socket, an abstract unix socket that exists once per network namespace,
/// so a balancer and a VRRP daemon on one node find each other with nothing added to either config file.
/// No daemon there (HAProxy's peer is Keepalived, or no VRRP at all) means a plain graceful stop.
public struct BalancerHandover: Sendable {
    /// The daemon's control socket; nil turns the cooperation off.
    public var socketPath: String?
    /// How long the balancer keeps serving after the VIP has left.
    public var settle: Double
    /// Bound on the whole handover (the daemon bounds it at four advert intervals; this guards a stuck daemon).
    public var timeout: Double

    public init(socketPath: String?, settle: Double = 0.5, timeout: Double = 15) {
        self.socketPath = socketPath
        self.settle = settle
        self.timeout = timeout
    }

    /// `--vrrp-socket`, else `$PORTICO_VRRP_SOCKET`, else the node socket; `none`/`off` (or `--no-vrrp-handover`)
    /// turns it off.
    public static func resolve(option: String?, disabled: Bool, environment: [String: String]) -> BalancerHandover {
        if disabled { return BalancerHandover(socketPath: nil) }
        let value = option ?? environment["PORTICO_VRRP_SOCKET"] ?? VRRPService.nodeControlSocket
        let off = ["", "none", "off", "0", "no"].contains(value.lowercased())
        return BalancerHandover(socketPath: off ? nil : value)
    }

    /// What the daemon answered to `balancer-stop`.
    public enum Outcome: Equatable, Sendable {
        /// No cooperation configured.
        case off
        /// No daemon answers on this node: stop as usual.
        case noDaemon(String)
        /// Every instance has given the VIP away (or held none).
        case released([String])
        /// Some instance still holds the VIP: no peer took over in time.
        case stillHolding([String])
        /// The daemon answered something this balancer does not understand.
        case unexpected(String)
    }

    /// Parses `{"released":{"VI_1":true}}`.
    public static func outcome(ofAnswer answer: String) -> Outcome {
        guard let data = answer.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let released = object["released"] as? [String: Bool]
        else { return .unexpected(answer) }
        let holding = released.filter { !$0.value }.keys.sorted()
        return holding.isEmpty ? .released(released.keys.sorted()) : .stillHolding(holding)
    }

    /// Asks the daemon to hand the VIP over; blocks until it has (bounded).
    public func handOverBeforeStop(logger: Logger) -> Outcome {
        guard let socketPath else { return .off }
        let answer: String
        do {
            answer = try vrrpControlRequest(path: socketPath, command: "balancer-stop", timeout: timeout)
        } catch {
            return .noDaemon("\(error)")
        }
        let outcome = Self.outcome(ofAnswer: answer)
        switch outcome {
        case .released(let instances):
            logger.notice(
                "VRRP handover done (\(instances.joined(separator: ", "))): VIP released, finishing sessions.")
            if settle > 0 { Thread.sleep(forTimeInterval: settle) }
        case .stillHolding(let instances):
            logger.warning(
                "VRRP handover: no peer took over \(instances.joined(separator: ", ")); stopping anyway.")
        case .unexpected(let text):
            logger.warning("VRRP handover: unexpected answer from \(socketPath): \(text)")
        case .off, .noDaemon:
            break
        }
        return outcome
    }

    /// Tells the daemon this balancer has started but does not serve yet: a backup node must not preempt
    /// (a process tracker may see the new process before it listens).
    public func announceStarting() {
        guard let socketPath else { return }
        _ = try? vrrpControlRequest(path: socketPath, command: "balancer-starting", timeout: 2)
    }

    /// Tells the daemon this balancer serves, so that it may take the VIP back.
    public func announceReady(logger: Logger) {
        guard let socketPath else { return }
        guard let answer = try? vrrpControlRequest(path: socketPath, command: "balancer-ready", timeout: 5) else {
            return
        }
        if answer.contains("\"resumed\":true") {
            logger.notice("VRRP: this node may take the VIP back now that the balancer serves.")
        }
    }
}

