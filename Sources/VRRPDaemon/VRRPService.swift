import Foundation
import KeepalivedConfig
import Logging
import ServiceLifecycle
import VRRPCore

/// Why the daemon cannot start, with what it was starting.
public struct VRRPServiceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// `portico vrrp`: the Keepalived role. Builds one `InstanceRunner` per `vrrp_instance`, the trackers they
/// share, a raw VRRP socket per interface, the link watch and the control socket; runs until graceful shutdown
/// (SIGTERM/SIGINT), then hands over (a master resigns with priority-0 adverts until a peer has taken over),
/// releases its VIPs and stops.
public final class VRRPService: Service, @unchecked Sendable {
    public struct Options: Sendable {
        /// The unix control socket; nil for none.
        public var controlSocketPath: String?
        /// On SIGTERM a master first hands over (zero-loss, issue 6) before the RFC shutdown advert.
        public var handOverOnStop: Bool
        /// How often /proc is rescanned for new tracked processes (exits are seen at once through pidfds).
        public var processRescanInterval: Double
        /// Portico extension, off by default (RFC behaviour): a preempting backup that hears a lower-priority
        /// master takes over at once instead of waiting Master_Down_Interval (a failed check on the master
        /// then moves the VIP ~3 intervals sooner). Safe with Keepalived peers.
        public var preemptOnLowerPriorityAdvert: Bool
        /// The node's well-known control socket (an abstract unix socket, one per network namespace), where
        /// `portico lb` on the same node asks for a handover before it stops; nil for none.
        public var nodeControlSocketPath: String?
        /// Seconds a released VIP stays local (on lo) so connections in flight finish; 0 removes it at once.
        public var releasedVIPLinger: Double

        public init(
            controlSocketPath: String? = nil, handOverOnStop: Bool = true, processRescanInterval: Double = 0.5,
            preemptOnLowerPriorityAdvert: Bool = false,
            nodeControlSocketPath: String? = VRRPService.nodeControlSocket, releasedVIPLinger: Double = 2
        ) {
            self.controlSocketPath = controlSocketPath
            self.handOverOnStop = handOverOnStop
            self.processRescanInterval = processRescanInterval
            self.preemptOnLowerPriorityAdvert = preemptOnLowerPriorityAdvert
            self.nodeControlSocketPath = nodeControlSocketPath
            self.releasedVIPLinger = releasedVIPLinger
        }
    }

    /// Where a node's balancer finds its VRRP daemon without configuration: an abstract unix socket, of
    /// which each network namespace has its own.
    public static let nodeControlSocket = "@portico-vrrp"

    /// The running configuration: replaced (under `lock`) by a successful reload.
    public internal(set) var config: VRRPConfig
    public let options: Options
    let logger: Logger
    let lock = NSLock()
    var runners: [InstanceRunner] = []
    var runnerInterfaces: [ObjectIdentifier: String] = [:]
    var sockets: [String: AdvertSocket] = [:]
    var scripts: [String: ScriptCheck] = [:]
    var processes: [String: ProcessWatch] = [:]
    /// Gratuitous ARP sockets by device, shared by the instances with VIPs there.
    var arps: [String: GratuitousARP] = [:]
    var netlink: RouteNetlink?
    var origin: Double = 0
    /// Serialises reloads (SIGHUP and the control socket may ask at once).
    let reloadLock = NSLock()
    private var linkWatch: LinkWatch?
    private var control: ControlSocket?
    private var nodeControl: ControlSocket?
    /// Set by `balancer-stop`: the instances are held back for the local balancer until `balancer-ready`.
    private var heldForBalancer = false
    private var unknownVRID: [String: Int] = [:]
    private let dropLog = RateLimitedLog(interval: 60)
    private var started = false
    private var hangup: DispatchSourceSignal?

    public init(config: VRRPConfig, options: Options = Options(), logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        // The handover waits for the peer (a few advert intervals): block a thread of our own, not the pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            runDetached {
                self.stop()
                done.resume()
            }
        }
    }

    // MARK: Start

    /// Opens everything and starts the instances. Throws before touching any address if a resource is missing.
    public func start() throws {
        origin = monotonicSeconds()
        // Who runs each script, and which may not run at all (script_user, enable_script_security).
        let plan = ScriptPlan(onThisMachine: config)
        guard plan.errors.isEmpty else {
            throw VRRPServiceError(plan.errors.map(\.description).joined(separator: "; "))
        }
        plan.log(to: logger)
        let config = plan.config
        lock.withLock { self.config = config }
        let netlink: RouteNetlink
        let links: [NetworkLink]
        let addresses: [InterfaceAddress]
        do {
            netlink = try RouteNetlink()
            links = try netlink.links()
            addresses = try netlink.addresses()
        } catch {
            throw VRRPServiceError("rtnetlink: \(error)")
        }
        self.netlink = netlink

        // Trackers are shared: a vrrp_script tracked by two instances runs once.
        var scriptChecks: [String: ScriptCheck] = [:]
        var processWatches: [String: ProcessWatch] = [:]
        var pending: [(InstanceRunner, VRRPInstanceBlock, [TrackedItem])] = []

        for instance in config.instances {
            let resolved = try resolve(
                instance, in: config, links: links, addresses: addresses, scriptChecks: &scriptChecks,
                processWatches: &processWatches)
            let runner = try makeRunner(instance, resolved: resolved, in: config, netlink: netlink)
            pending.append((runner, instance, resolved.machineConfig.trackedItems))
            if !resolved.interfaceUp { runner.postAndWait(.interfaceChanged(up: false)) }
        }

        lock.withLock {
            runners = pending.map(\.0)
            for (runner, instance, _) in pending { runnerInterfaces[ObjectIdentifier(runner)] = instance.interface }
            scripts = scriptChecks
            processes = processWatches
        }

        // Receive before starting, so no advert sent in answer to our first one is missed.
        for (interface, socket) in sockets {
            try socket.start { [weak self] packet in self?.deliver(packet, interface: interface) }
        }
        linkWatch = try LinkWatch { [weak self] link in self?.linkChanged(link) }
        for (runner, _, _) in pending {
            runner.keepReleasedVIPs(for: options.releasedVIPLinger)
            runner.postAndWait(.start)
        }
        for check in scriptChecks.values { try check.start() }
        for watch in processWatches.values { try watch.start() }
        // Reconcile link states that changed between the dump above and the watch starting.
        if let now = try? netlink.links() { now.forEach(linkChanged) }

        if let path = options.controlSocketPath {
            control = try ControlSocket(path: path) { [weak self] command in
                self?.answer(command) ?? "{\"error\":\"stopping\"}"
            }
        }
        if let path = options.nodeControlSocketPath {
            do {
                nodeControl = try ControlSocket(path: path) { [weak self] command in
                    self?.answer(command) ?? "{\"error\":\"stopping\"}"
                }
            } catch {
                // Another daemon in this network namespace has it: the balancer will talk to that one.
                logger.warning("node control socket \(path) not opened: \(error)")
            }
        }
        // SIGHUP's default action would kill the daemon with the VIP still up and no priority-0 advert.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { [weak self] in
            // A reload may wait for netlink and stops instances: not on the signal source's queue.
            runDetached { _ = self?.reload() }
        }
        hangup.resume()
        self.hangup = hangup
        started = true
    }

    func makeScriptCheck(_ script: VRRPScript) -> ScriptCheck {
        let settings = ScriptCheck.Settings(
            name: script.name, script: script.command.joined(separator: " "), interval: script.interval.seconds,
            timeout: script.timeout?.seconds, fall: script.fall, rise: script.rise, initFail: script.initFail,
            identity: script.runAs)
        let logger = logger
        let command = script.command
        return ScriptCheck(settings, arguments: command) { [weak self] good, outcome in
            if good {
                logger.info("Script `\(script.name)` now returning 0")
                logger.info("VRRP_Script(\(script.name)) succeeded")
            } else {
                logger.info("Script `\(script.name)` now returning \(outcome.keepalivedWords)")
                logger.info("VRRP_Script(\(script.name)) failed (\(outcome.keepalivedWords))")
            }
            self?.trackerChanged(script.name, kind: .script, up: good)
        }
    }

    func makeProcessWatch(_ process: VRRPTrackProcess) -> ProcessWatch {
        let match: ParameterMatch
        switch process.parameterMatch {
        case .initial: match = .initial
        case .partial: match = .partial
        case .exact, nil: match = .exact
        }
        let pattern = ProcessPattern(
            name: process.process.first ?? process.name, parameters: Array(process.process.dropFirst()), match: match)
        let settings = ProcessWatch.Settings(
            name: process.name, pattern: pattern, quorum: process.quorum, quorumMax: process.quorumMax,
            delay: process.terminateDelay.seconds, rescanInterval: options.processRescanInterval)
        let logger = logger
        return ProcessWatch(settings) { [weak self] up, count in
            if up {
                logger.info("Quorum gained for tracked process \(process.name) (\(count) running)")
            } else {
                logger.info("Quorum lost for tracked process \(process.name) (\(count) running)")
            }
            self?.trackerChanged(process.name, kind: .process, up: up)
        }
    }

    static func scope(_ name: String?) -> UInt8 {
        switch name {
        case "host": return 254
        case "link": return 253
        case "site": return 200
        case "nowhere": return 255
        case .some(let other): return UInt8(other) ?? 0
        case nil: return 0
        }
    }

    static func machineConfig(
        _ instance: VRRPInstanceBlock, primary: IPv4Address, trackedItems: [TrackedItem],
        preemptOnLowerPriorityAdvert: Bool = false
    ) throws -> VRRPInstanceConfig {
        guard let vrid = UInt8(exactly: instance.virtualRouterID), let priority = UInt8(exactly: instance.priority)
        else { throw VRRPServiceError("virtual_router_id or priority out of range") }
        let auth: VRRPAuthentication =
            instance.authentication.map { .password(Array($0.wirePassword.prefix { $0 != 0 })) } ?? .none
        return VRRPInstanceConfig(
            name: instance.name, version: instance.version == 3 ? .v3 : .v2, virtualRouterID: vrid,
            priority: priority, advertInterval: instance.advertInterval,
            initialState: instance.state == .master ? .master : .backup, preempt: instance.preempt,
            preemptDelay: instance.preemptDelay, authentication: auth,
            virtualAddresses: instance.virtualIPAddresses.map(\.address),
            primaryAddress: primary, unicastPeers: instance.unicastPeers.map(\.address),
            gratuitousARP: GratuitousARPSchedule(
                delay: instance.garpMasterDelay, repeatCount: instance.garpMasterRepeat,
                refresh: instance.garpMasterRefresh > .zero ? instance.garpMasterRefresh : nil,
                refreshRepeatCount: instance.garpMasterRefreshRepeat),
            trackedItems: trackedItems, preemptOnLowerPriorityAdvert: preemptOnLowerPriorityAdvert)
    }

    // MARK: Events

    func deliver(_ packet: ReceivedAdvert, interface: String) {
        guard let vrid = VRRPAdvert.peekVirtualRouterID(packet.payload) else { return }
        let targets = lock.withLock {
            runners.filter { runnerInterfaces[ObjectIdentifier($0)] == interface && $0.virtualRouterID == vrid }
        }
        let header = ReceivedIPHeader(
            source: packet.source, destination: packet.destination,
            ttl: packet.ttl)
        if targets.isEmpty {
            lock.withLock { unknownVRID[interface, default: 0] += 1 }
            if let line = dropLog.admit(
                "vrid-\(interface)", "advert on \(interface) for unknown VRID \(vrid) from \(packet.source) dropped")
            {
                logger.debug("\(line)")
            }
            return
        }
        for runner in targets { runner.post(.packetReceived(packet.payload, header)) }
    }

    func linkChanged(_ link: NetworkLink) {
        let (own, tracking): ([InstanceRunner], [InstanceRunner]) = lock.withLock {
            (
                runners.filter { runnerInterfaces[ObjectIdentifier($0)] == link.name },
                runners.filter { r in
                    config.instance(named: r.name)?.trackInterfaces.contains { $0.name == link.name } ?? false
                }
            )
        }
        for runner in own { runner.post(.interfaceChanged(up: link.isUp)) }
        for runner in tracking { runner.post(.trackerChanged(name: link.name, up: link.isUp)) }
    }

    private func trackerChanged(_ name: String, kind: TrackedItem.Kind, up: Bool) {
        let targets: [InstanceRunner] = lock.withLock {
            runners.filter { r in
                guard let instance = config.instance(named: r.name) else { return false }
                switch kind {
                case .script: return instance.trackScripts.contains { $0.name == name }
                case .process: return instance.trackProcesses.contains { $0.name == name }
                case .interface: return instance.trackInterfaces.contains { $0.name == name }
                }
            }
        }
        for runner in targets { runner.post(.trackerChanged(name: name, up: up)) }
    }

    // MARK: Control

    public func status() -> DaemonStatus {
        let (rs, sc, pw, unknown) = lock.withLock { (runners, scripts, processes, unknownVRID) }
        // What each shared tracker last saw, shown beside the instance's view of it.
        var details: [String: String] = [:]
        for (name, check) in sc {
            details[name] = check.lastOutcome.map { "last run \($0.keepalivedWords)" } ?? "not run yet"
        }
        for (name, watch) in pw {
            details[name] = "\(watch.count) running"
        }
        return DaemonStatus(
            routerID: config.global.routerID, pid: getpid(), instances: rs.map { $0.status(details: details) },
            unknownVirtualRouterDrops: unknown)
    }

    /// Planned handover of every master instance (or one by name); returns when each has been released
    /// (true) or the peers did not take over in time (false).
    public func handOver(instance: String? = nil) -> [String: Bool] {
        let targets = lock.withLock { runners.filter { instance == nil || $0.name == instance } }
        var results: [String: Bool] = [:]
        let resultLock = NSLock()
        let group = DispatchGroup()
        for runner in targets {
            group.enter()
            runner.requestHandover { released in
                resultLock.withLock { results[runner.name] = released }
                group.leave()
            }
        }
        // The state machine bounds the wait (four advert intervals); this only guards against a lost answer.
        _ = group.wait(timeout: .now() + 30)
        return resultLock.withLock { results }
    }

    public func resume(instance: String? = nil) {
        let targets = lock.withLock { runners.filter { instance == nil || $0.name == instance } }
        for runner in targets { runner.postAndWait(.endHandover) }
    }

    private func answer(_ line: String) -> String {
        let words = line.split(separator: " ").map(String.init)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
        switch words.first {
        case "ping":
            return "{\"pong\":true}"
        case "status":
            return json(status())
        case "failover":
            let target = words.count > 1 ? words[1] : nil
            logger.info("control: planned handover requested\(target.map { " for \($0)" } ?? "")")
            return json(["released": handOver(instance: target)])
        case "resume":
            resume(instance: words.count > 1 ? words[1] : nil)
            return "{\"resumed\":true}"
        case "balancer-stop":
            // The local balancer is stopping: hand over, and hold back until it says it is serving again.
            logger.info("control: the local balancer is stopping, handing over")
            lock.withLock { heldForBalancer = true }
            return json(["released": handOver()])
        case "balancer-starting":
            // The local balancer has just started and does not serve yet: a backup must not preempt until
            // `balancer-ready` (a master keeps the VIP; nothing better exists).
            lock.withLock { heldForBalancer = true }
            let backups = lock.withLock { runners.filter { $0.state != .master } }
            for runner in backups { runner.requestHandover { _ in } }
            return "{\"held\":\(backups.count)}"
        case "balancer-ready":
            let held = lock.withLock { () -> Bool in
                defer { heldForBalancer = false }
                return heldForBalancer
            }
            if held {
                logger.info("control: the local balancer serves again, preemption enabled again")
                resume()
            }
            return "{\"resumed\":\(held)}"
        case "reload":
            logger.info("control: configuration reload requested")
            return json(reload())
        default:
            return "{\"error\":\"unknown command '\(line)'; try status, failover [INSTANCE], resume [INSTANCE], "
                + "reload\"}"
        }
    }

    // MARK: Stop

    /// Hands over (if configured), sends the RFC shutdown advert, releases VIPs, runs notify_stop, closes all.
    public func stop() {
        guard started else { return }
        started = false
        control?.stop()
        control = nil
        nodeControl?.stop()
        nodeControl = nil
        hangup?.cancel()
        hangup = nil
        let rs = lock.withLock { runners }
        if options.handOverOnStop {
            let masters = rs.filter { $0.state == .master }
            if !masters.isEmpty {
                logger.info(
                    "Stopping: handing over \(masters.map(\.name).joined(separator: ", ")) before releasing the VIPs")
                _ = handOver()
                // The local balancer's requests in flight on the VIP get a moment to finish (see VIPLinger).
                if options.releasedVIPLinger > 0 { Thread.sleep(forTimeInterval: min(options.releasedVIPLinger, 0.5)) }
            }
        }
        for runner in rs { runner.removeParkedVIPs() }
        for runner in rs {
            runner.postAndWait(.shutdown)
            runner.stopTimers()
        }
        linkWatch?.stop()
        linkWatch = nil
        let (sc, pw) = lock.withLock { (scripts, processes) }
        sc.values.forEach { $0.stop() }
        pw.values.forEach { $0.stop() }
        sockets.values.forEach { $0.stop() }
        logger.info("Stopped")
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension ScriptOutcome {
    /// How Keepalived describes a script result in its log.
    var keepalivedWords: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signalled(let sig): return "killed by signal \(sig)"
        case .timedOut: return "timed out"
        case .failedToStart(let errno): return "could not start: errno \(errno)"
        }
    }
}
