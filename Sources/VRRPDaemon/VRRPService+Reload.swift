import Foundation
import KeepalivedConfig
import Logging
import VRRPCore

/// What a reload did, as the control socket answers it: `{"reloaded":false,"errors":[...]}` when the new file
/// was refused (the running configuration is unchanged), else the instances started, stopped and updated.
public struct ReloadResult: Encodable, Sendable {
    public var reloaded: Bool
    /// Every error, `(FILE: Line N) message`, or what could not be resolved (an interface that does not exist).
    public var errors: [String]
    public var warnings: [String]
    public var started: [String]
    public var stopped: [String]
    public var updated: [String]
    public var unchanged: [String]

    static func refused(_ errors: [String], warnings: [String] = []) -> ReloadResult {
        ReloadResult(
            reloaded: false, errors: errors, warnings: warnings, started: [], stopped: [], updated: [], unchanged: [])
    }
}

/// An instance of the config resolved against the system: its state machine config and where its VIPs go.
struct ResolvedInstance {
    var machineConfig: VRRPInstanceConfig
    var placements: [IPv4Address: InstanceRunner.VIPPlacement]
    var arps: [String: GratuitousARP]
    var interfaceIndex: Int32
    var interfaceUp: Bool
}

extension VRRPService {
    // MARK: Building instances (start and reload)

    /// Resolves an instance against the links and addresses, creating (not starting) the trackers it needs
    /// that are not in `scriptChecks` / `processWatches` yet. Touches no address.
    func resolve(
        _ instance: VRRPInstanceBlock, in config: VRRPConfig, links: [NetworkLink],
        addresses: [InterfaceAddress], scriptChecks: inout [String: ScriptCheck],
        processWatches: inout [String: ProcessWatch]
    ) throws -> ResolvedInstance {
        func link(_ name: String) throws -> NetworkLink {
            guard let l = links.first(where: { $0.name == name }) else {
                throw VRRPServiceError("(\(instance.name)) interface \(name) not found")
            }
            return l
        }
        let iface = try link(instance.interface)
        let primary: IPv4Address
        if let source = instance.unicastSourceIP {
            primary = source
        } else if let first = addresses.first(where: { $0.interfaceIndex == iface.index }) {
            primary = first.address
        } else {
            throw VRRPServiceError("(\(instance.name)) interface \(instance.interface) has no IPv4 address")
        }
        var placements: [IPv4Address: InstanceRunner.VIPPlacement] = [:]
        var instanceARPs: [String: GratuitousARP] = [:]
        for vip in instance.virtualIPAddresses {
            let device = vip.device ?? instance.interface
            let dev = try link(device)
            placements[vip.address] = .init(
                address: InterfaceAddress(
                    address: vip.address, prefixLength: UInt8(clamping: vip.prefixLength),
                    interfaceIndex: dev.index, label: vip.label, broadcast: vip.broadcast,
                    scope: Self.scope(vip.scope)),
                device: device)
            if let existing = lock.withLock({ arps[device] }) {
                instanceARPs[device] = existing
            } else {
                let arp = try GratuitousARP(
                    interfaceName: device, interfaceIndex: dev.index, hardwareAddress: dev.hardwareAddress)
                lock.withLock { arps[device] = arp }
                instanceARPs[device] = arp
            }
        }
        var items: [TrackedItem] = []
        /// Adds the tracked checks, creating each one from its definition unless it runs already.
        func track<Definition, Check>(
            _ tracked: [TrackedCheck], _ kind: TrackedItem.Kind, _ keyword: String,
            definition: (String) -> Definition?, running: inout [String: Check], make: (Definition) -> Check,
            isUp: (Check) -> Bool
        ) throws {
            for item in tracked {
                guard let found = definition(item.name) else {
                    throw VRRPServiceError("(\(instance.name)) \(keyword) \(item.name) is not defined")
                }
                let check = running[item.name] ?? make(found)
                running[item.name] = check
                // A check already running (kept by a reload) starts this instance from what it last saw.
                items.append(
                    TrackedItem(
                        name: item.name, kind: kind, weight: item.weight, reverse: item.reverse,
                        initiallyUp: isUp(check)))
            }
        }
        try track(
            instance.trackScripts, .script, "track_script", definition: config.script(named:),
            running: &scriptChecks, make: makeScriptCheck, isUp: \.isGood)
        try track(
            instance.trackProcesses, .process, "track_process", definition: config.trackProcess(named:),
            running: &processWatches, make: makeProcessWatch, isUp: \.isUp)
        for tracked in instance.trackInterfaces {
            let up = links.first { $0.name == tracked.name }?.isUp ?? false
            items.append(
                TrackedItem(
                    name: tracked.name, kind: .interface, weight: tracked.weight, reverse: tracked.reverse,
                    initiallyUp: up))
        }
        let machineConfig = try Self.machineConfig(
            instance, primary: primary, trackedItems: items,
            preemptOnLowerPriorityAdvert: options.preemptOnLowerPriorityAdvert)
        return ResolvedInstance(
            machineConfig: machineConfig, placements: placements, arps: instanceARPs, interfaceIndex: iface.index,
            interfaceUp: iface.isUp)
    }

    /// A runner for a resolved instance, on the interface's VRRP socket (opened here if it is the first).
    func makeRunner(
        _ instance: VRRPInstanceBlock, resolved: ResolvedInstance, in config: VRRPConfig,
        netlink: RouteNetlink
    ) throws -> InstanceRunner {
        let machine: VRRPInstance
        do {
            machine = try VRRPInstance(config: resolved.machineConfig)
        } catch {
            throw VRRPServiceError("(\(instance.name)) \(error)")
        }
        let socket: AdvertSocket
        if let existing = lock.withLock({ sockets[instance.interface] }) {
            socket = existing
            if !instance.isUnicast {
                do {
                    try existing.joinMulticastGroup()
                } catch {
                    throw VRRPServiceError("(\(instance.name)) VRRP socket on \(instance.interface): \(error)")
                }
            }
        } else {
            do {
                socket = try AdvertSocket(
                    interfaceName: instance.interface, interfaceIndex: resolved.interfaceIndex,
                    joinMulticast: config.instances.contains { $0.interface == instance.interface && !$0.isUnicast })
            } catch {
                throw VRRPServiceError("(\(instance.name)) VRRP socket on \(instance.interface): \(error)")
            }
            lock.withLock { sockets[instance.interface] = socket }
        }
        return InstanceRunner(
            machine: machine, interfaceName: instance.interface, socket: socket, netlink: netlink,
            arps: resolved.arps, vips: resolved.placements,
            notifier: Notifier(instance: instance.name, scripts: instance.notify, logger: logger),
            logger: logger, origin: origin)
    }

    // MARK: Reload

    /// Re-reads the configuration file (SIGHUP, `portico vrrp ctl reload`) and applies it without disturbing
    /// what did not change. A file with any error, or one that cannot be resolved (an unknown interface), is
    /// refused as a whole: the running configuration stays, every error is logged with its file and line.
    @discardableResult
    public func reload() -> ReloadResult {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        let file = lock.withLock { config.file }
        logger.info("Reloading")
        logger.info("Opening file '\(file)'.")
        let parsed = KeepalivedConfigParser.parse(file: file, source: .fileSystem)
        let warnings = parsed.diagnostics.warnings.map(\.description)
        for warning in warnings { logger.warning("\(warning)") }
        guard !parsed.diagnostics.hasErrors else {
            let errors = parsed.diagnostics.errors.map(\.description)
            for error in errors { logger.error("\(error)") }
            logger.error("Reload refused: \(errors.count) error(s) in \(file); the running configuration is unchanged")
            return .refused(errors, warnings: warnings)
        }
        let plan = ScriptPlan(onThisMachine: parsed.config)
        guard plan.errors.isEmpty else {
            let errors = plan.errors.map(\.description)
            for error in errors { logger.error("\(error)") }
            logger.error("Reload refused: \(errors.count) error(s) in \(file); the running configuration is unchanged")
            return .refused(errors, warnings: warnings)
        }
        plan.log(to: logger)
        do {
            return try apply(plan.config, warnings: warnings + plan.notices.map(\.description))
        } catch {
            logger.error("Reload refused: \(error); the running configuration is unchanged")
            return .refused(["\(error)"], warnings: warnings)
        }
    }

    /// Two instances are the same virtual router when name, interface, VRID, version and unicast-ness agree;
    /// anything else about them is updated in place.
    static func sameIdentity(_ a: VRRPInstanceBlock, _ b: VRRPInstanceBlock) -> Bool {
        a.name == b.name && a.interface == b.interface && a.virtualRouterID == b.virtualRouterID
            && a.version == b.version && a.isUnicast == b.isUnicast
    }

    /// What makes two `vrrp_script` blocks the same check (not where they are written).
    static func definition(_ s: VRRPScript) -> String {
        "\(s.command)|\(s.interval)|\(String(describing: s.timeout))|\(s.fall)|\(s.rise)|\(String(describing: s.user))"
            + "|\(s.initFail)|\(String(describing: s.runAs))"
    }

    static func definition(_ p: VRRPTrackProcess) -> String {
        "\(p.process)|\(String(describing: p.parameterMatch))|\(p.quorum)|\(String(describing: p.quorumMax))"
            + "|\(p.forkDelay)|\(p.terminateDelay)"
    }

    private func apply(_ newConfig: VRRPConfig, warnings: [String]) throws -> ReloadResult {
        guard let netlink = lock.withLock({ self.netlink }) else { throw VRRPServiceError("not started") }
        let (oldConfig, oldRunners, oldScripts, oldProcesses) = lock.withLock {
            (config, runners, scripts, processes)
        }
        let links: [NetworkLink]
        let addresses: [InterfaceAddress]
        do {
            links = try netlink.links()
            addresses = try netlink.addresses()
        } catch {
            throw VRRPServiceError("rtnetlink: \(error)")
        }

        // Trackers whose definition is unchanged keep running with their state; changed ones are replaced.
        var scriptChecks: [String: ScriptCheck] = [:]
        var replacedTrackers: Set<String> = []
        for script in newConfig.scripts {
            guard let old = oldConfig.script(named: script.name), let check = oldScripts[script.name] else { continue }
            if Self.definition(old) == Self.definition(script) {
                scriptChecks[script.name] = check
            } else {
                replacedTrackers.insert(script.name)
            }
        }
        var processWatches: [String: ProcessWatch] = [:]
        for process in newConfig.trackProcesses {
            guard let old = oldConfig.trackProcess(named: process.name), let watch = oldProcesses[process.name]
            else { continue }
            if Self.definition(old) == Self.definition(process) {
                processWatches[process.name] = watch
            } else {
                replacedTrackers.insert(process.name)
            }
        }

        // Resolve everything before changing anything: one failure refuses the whole reload.
        var plan: [(VRRPInstanceBlock, ResolvedInstance, InstanceRunner?)] = []
        for instance in newConfig.instances {
            let resolved = try resolve(
                instance, in: newConfig, links: links, addresses: addresses, scriptChecks: &scriptChecks,
                processWatches: &processWatches)
            do {
                _ = try VRRPInstance(config: resolved.machineConfig)
            } catch {
                throw VRRPServiceError("(\(instance.name)) \(error)")
            }
            let kept = oldConfig.instance(named: instance.name).flatMap { old in
                Self.sameIdentity(old, instance) ? oldRunners.first { $0.name == instance.name } : nil
            }
            plan.append((instance, resolved, kept))
        }
        // Only what some instance tracks keeps running.
        let used = Set(plan.flatMap { $0.1.machineConfig.trackedItems.map(\.name) })
        scriptChecks = scriptChecks.filter { used.contains($0.key) }
        processWatches = processWatches.filter { used.contains($0.key) }
        let keptRunners = Set(plan.compactMap { $0.2.map(ObjectIdentifier.init) })
        var result = ReloadResult(
            reloaded: true, errors: [], warnings: warnings, started: [], stopped: [], updated: [], unchanged: [])

        // 1. Instances gone (or whose identity changed) stop as on shutdown: priority-0 advert, VIPs released.
        for runner in oldRunners where !keptRunners.contains(ObjectIdentifier(runner)) {
            logger.info("(\(runner.name)) removed from the configuration: stopping")
            runner.postAndWait(.shutdown)
            runner.stopTimers()
            result.stopped.append(runner.name)
        }
        // 2. Trackers no longer used (or redefined) stop before anyone hears from them again.
        for (name, check) in oldScripts where scriptChecks[name] !== check { check.stop() }
        for (name, watch) in oldProcesses where processWatches[name] !== watch { watch.stop() }

        // 3. Kept instances take the new configuration in place; new ones are built.
        var newRunners: [InstanceRunner] = []
        var interfaces: [ObjectIdentifier: String] = [:]
        var starting: [(InstanceRunner, ResolvedInstance)] = []
        var newSockets: [String] = []
        for (instance, resolved, kept) in plan {
            if let runner = kept {
                let notifier = Notifier(instance: instance.name, scripts: instance.notify, logger: logger)
                let changed = try runner.reconfigure(
                    resolved.machineConfig, resettingTrackers: replacedTrackers, vips: resolved.placements,
                    arps: resolved.arps, notifier: notifier)
                if changed { result.updated.append(instance.name) } else { result.unchanged.append(instance.name) }
                newRunners.append(runner)
                interfaces[ObjectIdentifier(runner)] = instance.interface
            } else {
                let hadSocket = lock.withLock { sockets[instance.interface] != nil }
                let runner = try makeRunner(instance, resolved: resolved, in: newConfig, netlink: netlink)
                if !hadSocket { newSockets.append(instance.interface) }
                newRunners.append(runner)
                interfaces[ObjectIdentifier(runner)] = instance.interface
                starting.append((runner, resolved))
                result.started.append(instance.name)
            }
        }
        lock.withLock {
            config = newConfig
            runners = newRunners
            runnerInterfaces = interfaces
            scripts = scriptChecks
            processes = processWatches
        }
        for interface in newSockets {
            guard let socket = lock.withLock({ sockets[interface] }) else { continue }
            try socket.start { [weak self] packet in self?.deliver(packet, interface: interface) }
        }
        for (runner, resolved) in starting {
            logger.info("(\(runner.name)) added to the configuration: starting")
            if !resolved.interfaceUp { runner.postAndWait(.interfaceChanged(up: false)) }
            runner.keepReleasedVIPs(for: options.releasedVIPLinger)
            runner.postAndWait(.start)
        }
        // 4. New trackers start last, so their first result reaches instances that know them.
        for (name, check) in scriptChecks where oldScripts[name] !== check { try check.start() }
        for (name, watch) in processWatches where oldProcesses[name] !== watch { try watch.start() }

        let summary =
            "Reload complete: \(result.updated.count) updated, \(result.unchanged.count) unchanged, "
            + "\(result.started.count) started, \(result.stopped.count) stopped"
        logger.info("\(summary)")
        return result
    }
}
