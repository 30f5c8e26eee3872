import Dispatch
import Logging
import VRRPCore

#if canImport(Glibc)
    import Glibc
#endif

/// Carries out one `vrrp_instance`: feeds what happens (adverts, timers, trackers, links, control commands)
/// into the pure `VRRPCore.VRRPInstance` and performs the actions it returns. Everything about the instance
/// happens on one serial queue, so the state machine never sees two events at once.
public final class InstanceRunner: @unchecked Sendable {
    /// Where and how the VIPs go: resolved from the config once at start.
    struct VIPPlacement {
        var address: InterfaceAddress
        var device: String
    }

    public let name: String
    private let queue: DispatchQueue
    private var machine: VRRPInstance
    private let origin: Double
    private let socket: AdvertSocket
    private let netlink: RouteNetlink
    private var arps: [String: GratuitousARP]
    private var vips: [IPv4Address: VIPPlacement]
    private var notifier: Notifier
    private let logger: Logger
    private let interfaceName: String
    private var timers: [VRRPTimer: (source: DispatchSourceTimer, generation: Int)] = [:]
    private var timerGeneration = 0
    private var handoverWaiters: [(Bool) -> Void] = []
    private var sendErrors = RateLimitedLog(interval: 10)
    /// Keeps released VIPs local for a moment so in-flight connections finish (nil: remove at once).
    private var linger: VIPLinger?
    /// True while the event being handled is `.shutdown`: its VIPs go at once.
    private var shuttingDown = false

    init(
        machine: VRRPInstance, interfaceName: String, socket: AdvertSocket, netlink: RouteNetlink,
        arps: [String: GratuitousARP], vips: [IPv4Address: VIPPlacement], notifier: Notifier, logger: Logger,
        origin: Double
    ) {
        self.name = machine.config.name
        self.machine = machine
        self.interfaceName = interfaceName
        self.socket = socket
        self.netlink = netlink
        self.arps = arps
        self.vips = vips
        self.notifier = notifier
        self.logger = logger
        self.origin = origin
        queue = DispatchQueue(label: "vrrp.instance.\(machine.config.name)", qos: .userInteractive)
    }

    var virtualRouterID: UInt8 { machine.config.virtualRouterID }

    /// Keep released VIPs on lo for `seconds` (0: off). Set before `.start`.
    func keepReleasedVIPs(for seconds: Double) {
        queue.sync {
            linger =
                seconds > 0
                ? VIPLinger(netlink: netlink, duration: seconds, queue: queue, instance: name, logger: logger) : nil
        }
    }

    /// Removes VIPs still parked on lo after a release, at once.
    func removeParkedVIPs() {
        queue.sync { linger?.flush() }
    }

    private func now() -> VRRPInstant {
        VRRPInstant(.nanoseconds(Int64((monotonicSeconds() - origin) * 1e9)))
    }

    /// Queues an event; safe from any thread.
    func post(_ event: VRRPInstance.Event) {
        queue.async { self.handle(event) }
    }

    /// Handles an event and waits until its actions are done (start and shutdown).
    func postAndWait(_ event: VRRPInstance.Event) {
        queue.sync { self.handle(event) }
    }

    /// Planned handover; `completion` gets true once another router holds the VIPs.
    func requestHandover(completion: @escaping (Bool) -> Void) {
        queue.async {
            self.handoverWaiters.append(completion)
            self.handle(.requestHandover)
        }
    }

    /// - Parameter details: what each tracker last saw, by name (script result, process count).
    func status(details: [String: String]) -> InstanceStatus {
        queue.sync {
            let m = machine
            return InstanceStatus(
                name: m.config.name, state: m.state.rawValue, interface: interfaceName,
                virtualRouterID: Int(m.config.virtualRouterID), version: Int(m.config.version.rawValue),
                basePriority: Int(m.config.priority), effectivePriority: Int(m.effectivePriority),
                masterAddress: m.masterAddress?.description, masterPriority: m.masterPriority.map(Int.init),
                primaryAddress: m.config.primaryAddress.description,
                virtualAddresses: m.config.virtualAddresses.map(\.description),
                handover: m.isHandingOver ? "resigning" : (m.isHeldBack ? "held_back" : "none"),
                trackers: m.config.trackedItems.map { item in
                    let up = m.trackerStates[item.name] ?? item.initiallyUp
                    return TrackerStatus(
                        name: item.name, kind: "\(item.kind)", weight: item.weight, reverse: item.reverse,
                        state: up ? "up" : "down", detail: details[item.name])
                },
                counters: CounterStatus(m.counters)
            )
        }
    }

    var state: VRRPState { queue.sync { machine.state } }

    private func handle(_ event: VRRPInstance.Event) {
        if case .shutdown = event { shuttingDown = true }
        defer { shuttingDown = false }
        let actions = machine.handle(event, now: now())
        for action in actions { perform(action) }
    }

    private func perform(_ action: VRRPInstance.Action) {
        switch action {
        case .sendAdvert(let advert, let destination, let bytes):
            do {
                try socket.send(bytes, from: machine.config.primaryAddress, to: destination)
                logger.trace("(\(name)) sent advert priority \(advert.priority) to \(destination)")
            } catch {
                if let line = sendErrors.admit("send", "(\(name)) cannot send advert: \(error)") {
                    logger.warning("\(line)")
                }
            }
        case .addVIPs(let addresses):
            for address in addresses {
                guard let vip = vips[address] else { continue }
                do {
                    if try netlink.addAddress(vip.address) == .alreadyPresent {
                        logger.info("(\(name)) VIP \(vip.address) already present on \(vip.device)")
                    }
                    linger?.reclaim(address)
                } catch {
                    logger.error("(\(name)) cannot add VIP \(vip.address) on \(vip.device): \(error)")
                }
            }
        case .removeVIPs(let addresses):
            for address in addresses {
                guard let vip = vips[address] else { continue }
                if let linger, !shuttingDown {
                    linger.release(vip.address)
                    continue
                }
                do {
                    try netlink.removeAddress(vip.address)
                } catch {
                    logger.error("(\(name)) cannot remove VIP \(vip.address) from \(vip.device): \(error)")
                }
            }
        case .sendGratuitousARP(let addresses, let count):
            guard count > 0 else { return }
            let devices = Set(addresses.compactMap { vips[$0]?.device }).sorted().joined(separator: ",")
            let list = addresses.map(\.description).joined(separator: ",")
            logger.info("(\(name)) Sending/queueing gratuitous ARPs on \(devices) for \(list)")
            for _ in 0..<count {
                for address in addresses {
                    guard let vip = vips[address], let arp = arps[vip.device] else { continue }
                    do {
                        try arp.send(vip: address)
                    } catch {
                        if let line = sendErrors.admit("garp", "(\(name)) gratuitous ARP failed: \(error)") {
                            logger.warning("\(line)")
                        }
                    }
                }
            }
        case .setTimer(let timer, let at):
            timers.removeValue(forKey: timer)?.source.cancel()
            timerGeneration += 1
            let generation = timerGeneration
            // A timer source with a 1 ms leeway: asyncAfter lets libdispatch fire up to 10% late, which would
            // stretch Master_Down_Interval past the RFC bound.
            let source = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
            let delay = at - now()
            let nanos = max(0, delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)
            source.schedule(deadline: .now() + .nanoseconds(Int(nanos)), leeway: .milliseconds(1))
            source.setEventHandler { [weak self] in
                guard let self, let current = self.timers[timer], current.generation == generation else { return }
                current.source.cancel()
                self.timers[timer] = nil
                self.handle(.timerFired(timer))
            }
            timers[timer] = (source, generation)
            source.resume()
        case .cancelTimer(let timer):
            timers.removeValue(forKey: timer)?.source.cancel()
        case .runNotify(let state, let priority):
            guard let notified = Notifier.NotifiedState(rawValue: state.rawValue) else { return }
            if notified == .stop {
                // notify_stop must run before the process exits.
                notifier.notifyAndWait(notified, priority: priority)
            } else {
                notifier.notify(notified, priority: priority)
            }
        case .log(let level, let message):
            switch level {
            case .debug: logger.debug("\(message)")
            case .info: logger.info("\(message)")
            case .warning: logger.warning("\(message)")
            }
        case .handoverFinished(let released):
            let waiters = handoverWaiters
            handoverWaiters = []
            waiters.forEach { $0(released) }
        }
    }

    /// A reload: applies `config` to the running state machine (`VRRPInstance.reconfigure`) with the new VIP
    /// placements, ARP sockets and notify scripts. Returns false when nothing an operator set has changed.
    func reconfigure(
        _ config: VRRPInstanceConfig, resettingTrackers: Set<String>, vips newVIPs: [IPv4Address: VIPPlacement],
        arps newARPs: [String: GratuitousARP], notifier newNotifier: Notifier
    ) throws -> Bool {
        try queue.sync {
            func comparable(_ c: VRRPInstanceConfig) -> VRRPInstanceConfig {
                // A tracker's start value follows what the running check last saw: not a configuration change.
                var c = c
                c.trackedItems = c.trackedItems.map {
                    var item = $0
                    item.initiallyUp = true
                    return item
                }
                return c
            }
            let tracked = Set(machine.config.trackedItems.map(\.name))
            let changed =
                comparable(config) != comparable(machine.config) || !resettingTrackers.isDisjoint(with: tracked)
            // Addresses being removed must still resolve while the actions run.
            vips.merge(newVIPs) { _, new in new }
            arps.merge(newARPs) { _, new in new }
            notifier = newNotifier
            defer {
                vips = newVIPs
                arps = newARPs
            }
            let actions = try machine.reconfigure(config, resettingTrackers: resettingTrackers, now: now())
            for action in actions { perform(action) }
            return changed
        }
    }

    /// Cancels timers after shutdown so nothing fires into a stopped instance.
    func stopTimers() {
        queue.sync {
            timers.values.forEach { $0.source.cancel() }
            timers = [:]
        }
    }
}
