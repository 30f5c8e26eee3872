import Dispatch
import Logging
import VRRPCore

/// Keeps a released VIP local for a moment after the node stops being master (issue 6: zero-loss failover).
///
/// When the VIP moves, connections that this node accepted a moment before are still in flight: the
/// client's ARP cache already points at the new master, but this node's answer (the response, the rest of
/// the handshake) still has to leave from the VIP. Linux refuses to send from an address that is no longer
/// local (ENETUNREACH on re-route), so a plain removal loses exactly those requests. Instead the VIP moves
/// from the VRRP interface to `lo` as a host-scope /32: it no longer shows on the VRRP interface (neither
/// `ip addr show dev eth0` nor a VIP census sees two holders), the node can still send from it and accept
/// packets that were already on their way, and after `duration` it goes away for good.
///
/// Everything runs on the instance's serial queue, like the state machine's actions.
final class VIPLinger {
    private let netlink: RouteNetlink
    private let duration: Double
    private let queue: DispatchQueue
    private let logger: Logger
    private let instance: String
    /// VIPs parked on lo, with the generation of their pending removal.
    private var parked: [IPv4Address: (address: InterfaceAddress, generation: Int)] = [:]
    private var generation = 0

    init(netlink: RouteNetlink, duration: Double, queue: DispatchQueue, instance: String, logger: Logger) {
        self.netlink = netlink
        self.duration = duration
        self.queue = queue
        self.instance = instance
        self.logger = logger
    }

    /// The same VIP as a host-scope /32 on lo.
    private func loopbackCopy(of vip: InterfaceAddress) throws -> InterfaceAddress? {
        guard let index = try netlink.interfaceIndex(named: "lo") else { return nil }
        return InterfaceAddress(address: vip.address, prefixLength: 32, interfaceIndex: index, scope: 254)
    }

    /// Moves the VIP from its interface to lo, and schedules its removal from lo.
    func release(_ vip: InterfaceAddress) {
        var parkedCopy: InterfaceAddress?
        do {
            if let copy = try loopbackCopy(of: vip) {
                try netlink.addAddress(copy)
                parkedCopy = copy
            }
        } catch {
            logger.warning("(\(instance)) cannot keep VIP \(vip.address) on lo while connections finish: \(error)")
        }
        do {
            try netlink.removeAddress(vip)
        } catch {
            logger.error("(\(instance)) cannot remove VIP \(vip) from interface \(vip.interfaceIndex): \(error)")
        }
        guard let parkedCopy else { return }
        generation += 1
        let mine = generation
        parked[vip.address] = (parkedCopy, mine)
        queue.asyncAfter(deadline: .now() + duration) { [weak self] in
            guard let self, let entry = self.parked[vip.address], entry.generation == mine else { return }
            self.unpark(vip.address)
        }
    }

    /// The node holds the VIP on its interface again: the parked copy goes.
    func reclaim(_ address: IPv4Address) {
        if parked[address] != nil { unpark(address) }
    }

    /// Removes every parked copy now (shutdown).
    func flush() {
        for address in Array(parked.keys) { unpark(address) }
    }

    /// How many VIPs are parked on lo now.
    var parkedCount: Int { parked.count }

    private func unpark(_ address: IPv4Address) {
        guard let entry = parked.removeValue(forKey: address) else { return }
        do {
            try netlink.removeAddress(entry.address)
        } catch {
            logger.error("(\(instance)) cannot remove VIP \(address) from lo: \(error)")
        }
    }
}
