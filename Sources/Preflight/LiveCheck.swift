import HAProxyConfig
import KeepalivedConfig

/// `portico check --live` without the I/O: the seed's section 八 symptom table applied to what was observed on the
/// node (``LiveObservation``), as findings of the `live` category.
///
/// | seed symptom (八)     | what one node can see                                      | where to look            |
/// |----------------------|------------------------------------------------------------|--------------------------|
/// | VIP pings, HTTP fails | VIP held here, nothing listens on a client bind           | the balancer here        |
/// | VIP on no machine    | MASTER without the VIP; interface missing or down          | VRRP config, NIC, daemon |
/// | VIP on both machines | VIP held while BACKUP/FAULT; dropped adverts               | VRRP packets, firewall   |
/// | all backends DOWN    | every server of a backend DOWN in the balancer's stats     | check path, firewall     |
/// | failover still fails | a standby not listening, or seeing its backends DOWN       | the standby's balancer   |
public enum LiveCheck {
    public static func findings(_ node: LoadedNode, _ observation: LiveObservation) -> [Finding] {
        var context = Context(node: node, observation: observation)
        context.checkVRRP()
        context.checkBinds()
        context.checkBackends()
        return context.findings
    }

    struct Context {
        let node: LoadedNode
        let observation: LiveObservation
        var findings: [Finding] = []

        init(node: LoadedNode, observation: LiveObservation) {
            self.node = node
            self.observation = observation
        }

        var instances: [VRRPInstanceBlock] { node.vrrp.config.instances }

        /// Configured VIPs present on an interface of this node.
        var heldVIPs: [VirtualIPAddress] {
            instances.flatMap(\.virtualIPAddresses).filter { observation.interface(holding: "\($0.address)") != nil }
        }

        var holdsVIP: Bool { !heldVIPs.isEmpty }

        mutating func add(
            _ severity: Finding.Severity, at location: FileLine?, _ message: String, related: [FileLine] = []
        ) {
            findings.append(Finding(severity, .live, node: node.name, at: location, message, related: related))
        }

        func location(_ instance: VRRPInstanceBlock, _ keyword: String) -> FileLine {
            Describe.location(instance.keywordLocations[keyword] ?? instance.location)
        }

        // MARK: VRRP

        mutating func checkVRRP() {
            var daemon: VRRPDaemonStatus?
            switch observation.vrrp {
            case .daemon(let status, _):
                daemon = status
            case .unavailable(let socket, let reason):
                add(
                    .warning, at: nil,
                    "the portico vrrp control socket \(socket) does not answer (\(reason)): is the VRRP daemon "
                        + "running? The VRRP state below is inferred from the VIP")
            case .noControlSocket:
                add(
                    .info, at: nil,
                    "no portico vrrp control socket (Keepalived has none; give --vrrp-socket for a non-default "
                        + "path): the VRRP state is inferred from the VIP")
            }
            for instance in instances {
                checkInterface(instance)
                let vips = instance.virtualIPAddresses
                let held = vips.filter { observation.interface(holding: "\($0.address)") != nil }
                let vipText = vips.map(Describe.vip).joined(separator: ", ")
                if !held.isEmpty && held.count < vips.count {
                    let missing = vips.filter { !held.contains($0) }.map(Describe.vip).joined(separator: ", ")
                    add(
                        .error, at: location(instance, "virtual_ipaddress"),
                        "\(instance.name): only part of its VIPs are on this node (\(missing) missing): the VRRP "
                            + "daemon failed to add them or they were removed by hand; restart the daemon")
                }
                for vip in held {
                    guard let device = vip.device ?? Optional(instance.interface),
                        let actual = observation.interface(holding: "\(vip.address)"), actual.name != device
                    else { continue }
                    add(
                        .warning, at: Describe.location(vip.location),
                        "the VIP \(Describe.vip(vip)) is on \(actual.name), keepalived.conf puts it on \(device): "
                            + "gratuitous ARP and replies leave by the wrong interface")
                }
                guard let daemon else {
                    if held.isEmpty {
                        add(
                            .info, at: location(instance, "virtual_ipaddress"),
                            "\(instance.name): the VIP \(vipText) is not on this node (BACKUP or VRRP not running, "
                                + "inferred). If no other node holds it either, clients reach nobody (seed 八, \"VIP "
                                + "on no machine\": check the VRRP daemon's config, the interface name and that the "
                                + "service runs, on both nodes)")
                    } else {
                        add(
                            .info, at: location(instance, "virtual_ipaddress"),
                            "\(instance.name): this node holds the VIP \(vipText) (MASTER, inferred). Two holders "
                                + "cannot be seen from one node: run portico check --live on the other node too")
                    }
                    continue
                }
                checkDaemonInstance(instance, daemon: daemon, holds: !held.isEmpty, vipText: vipText)
            }
            if let daemon {
                for (interface, count) in daemon.unknownVirtualRouterDrops.sorted(by: { $0.key < $1.key })
                where count > 0 {
                    add(
                        .info, at: nil,
                        "\(count) VRRP adverts on \(interface) were for a virtual_router_id no instance here runs: "
                            + "another VRRP group shares the segment (harmless unless it should be this one)")
                }
            }
        }

        mutating func checkInterface(_ instance: VRRPInstanceBlock) {
            guard let interface = observation.interfaces.first(where: { $0.name == instance.interface }) else {
                let known = observation.interfaces.map(\.name).joined(separator: ", ")
                add(
                    .error, at: location(instance, "interface"),
                    "\(instance.name): interface \(instance.interface) does not exist on this node (it has \(known)): "
                        + "the VRRP instance cannot run and this node never holds the VIP (seed 八, \"VIP on no "
                        + "machine\": the interface name)")
                return
            }
            if !interface.isUp {
                add(
                    .error, at: location(instance, "interface"),
                    "\(instance.name): interface \(instance.interface) is down (no carrier or not up): the instance "
                        + "is in FAULT and cannot hold the VIP")
            }
        }

        mutating func checkDaemonInstance(
            _ instance: VRRPInstanceBlock, daemon: VRRPDaemonStatus, holds: Bool, vipText: String
        ) {
            guard let running = daemon.instances.first(where: { $0.name == instance.name }) else {
                let names = daemon.instances.map(\.name).joined(separator: ", ")
                add(
                    .warning, at: Describe.location(instance.location),
                    "the running portico vrrp has no instance \(instance.name) (it runs "
                        + "\(names.isEmpty ? "none" : names)): it was started with another keepalived.conf; "
                        + "restart it with this one")
                return
            }
            if running.virtualRouterID != instance.virtualRouterID {
                add(
                    .warning, at: location(instance, "virtual_router_id"),
                    "\(instance.name) runs with virtual_router_id \(running.virtualRouterID), the file says "
                        + "\(instance.virtualRouterID): the daemon runs an older configuration; restart it")
            }
            let priority =
                running.effectivePriority == running.basePriority
                ? "priority \(running.basePriority)"
                : "priority \(running.effectivePriority) (base \(running.basePriority))"
            let master = running.masterAddress.map { address in
                "master \(address)" + (running.masterPriority.map { " priority \($0)" } ?? "")
            }
            switch running.state.uppercased() {
            case "MASTER" where !holds:
                add(
                    .error, at: location(instance, "virtual_ipaddress"),
                    "\(instance.name) is MASTER but the VIP \(vipText) is not on this node: the other node stays "
                        + "BACKUP, so nobody answers on the VIP (seed 八, \"VIP on no machine\": check the interface "
                        + "name, the VIP's dev and the daemon's log)")
            case "MASTER":
                add(
                    .info, at: location(instance, "virtual_ipaddress"),
                    "\(instance.name) MASTER, \(priority), holds the VIP \(vipText). Two holders cannot be seen "
                        + "from one node: run portico check --live on the other node too")
            case "BACKUP" where holds, "FAULT" where holds, "INIT" where holds:
                add(
                    .error, at: location(instance, "virtual_ipaddress"),
                    "the VIP \(vipText) is on this node while \(instance.name) is \(running.state)"
                        + (master.map { " (\($0))" } ?? "") + ": two nodes may answer for the VIP (seed 八, \"VIP "
                        + "on both machines\": VRRP packets blocked, a firewall dropping protocol 112, conflicting "
                        + "configs in the same group), or the address was left behind; remove it or restart the daemon")
            case "FAULT":
                add(
                    .error, at: location(instance, "interface"),
                    "\(instance.name) is in FAULT: this node can neither hold nor take over the VIP (a tracked "
                        + "interface or process is down)")
            default:
                add(
                    .info, at: location(instance, "virtual_ipaddress"),
                    "\(instance.name) \(running.state), \(priority)" + (master.map { ", \($0)" } ?? "")
                        + "; the VIP \(vipText) is not on this node")
            }
            for tracker in running.trackers where tracker.state.lowercased() == "down" {
                let line =
                    instance.trackScripts.first { $0.name == tracker.name }.map { Describe.location($0.location) }
                    ?? instance.trackProcesses.first { $0.name == tracker.name }.map { Describe.location($0.location) }
                    ?? Describe.location(instance.location)
                add(
                    .warning, at: line,
                    "\(instance.name): tracker \(tracker.name) (\(tracker.kind), weight \(tracker.weight)) is down: "
                        + "\(priority); what it checks fails on this node")
            }
            if running.handover == "held_back" {
                add(
                    .warning, at: Describe.location(instance.location),
                    "\(instance.name) handed the VIP over on purpose and does not take it back: run portico vrrp ctl "
                        + "resume when this node is ready")
            }
            let dropped = running.counters.dropped.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            if !dropped.isEmpty {
                let total = dropped.reduce(0) { $0 + $1.value }
                let reasons = dropped.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                add(
                    .warning, at: location(instance, "virtual_router_id"),
                    "\(instance.name) dropped \(total) adverts since it started (\(reasons)): a router on "
                        + "\(instance.interface) speaks VRID \(instance.virtualRouterID) with another configuration; "
                        + "nodes that do not accept each other's adverts both take the VIP (seed 八, \"VIP on both "
                        + "machines\")")
            }
        }

        // MARK: Balancer

        func isListening(_ bind: Bind) -> Bool { !sockets(serving: bind).isEmpty }

        /// The listening sockets that accept connections for a bind.
        func sockets(serving bind: Bind) -> [ListeningSocket] {
            let port = bind.address.port
            return observation.listeners.filter { socket in
                guard socket.port == port else { return false }
                switch bind.address.host {
                case .anyIPv4: return socket.address == "0.0.0.0" || (socket.address == "::" && bind.v6Only != true)
                case .anyIPv6: return socket.address == "::"
                case .ipv4(let address):
                    return socket.address == address || socket.address == "0.0.0.0" || socket.address == "::"
                        || socket.address == "::ffff:" + address
                case .ipv6(let address): return socket.address == address || socket.address == "::"
                case .name: return true
                }
            }
        }

        /// Whether clients reaching a held VIP arrive on this bind.
        func coversHeldVIP(_ bind: Bind) -> VirtualIPAddress? {
            switch bind.address.host {
            case .anyIPv4, .anyIPv6: return heldVIPs.first
            case .ipv4(let address): return heldVIPs.first { "\($0.address)" == address }
            default: return nil
            }
        }

        func servesStats(_ frontend: Frontend) -> Bool {
            let config = node.balancer.config
            return frontend.stats != nil || frontend.routedBackend.flatMap { config.backend(named: $0)?.stats } != nil
        }

        mutating func checkBinds() {
            var listening: [String] = []
            for frontend in node.balancer.config.frontends {
                let title = "\(frontend.origin.rawValue) '\(frontend.name)'"
                for bind in frontend.binds {
                    let shown = Describe.bind(bind)
                    let serving = sockets(serving: bind)
                    if !serving.isEmpty {
                        listening.append(shown)
                        let kind = node.source.balancer
                        let owners = serving.compactMap(\.owner)
                        if !owners.isEmpty, !owners.contains(where: { $0.isBalancer(kind) }) {
                            let holders = owners.map(\.description).joined(separator: ", ")
                            add(
                                .error, at: Describe.location(bind.location),
                                "\(shown) (\(title)) is held by \(holders), not \(kind.displayName): clients reach "
                                    + "that program instead of the balancer (seed 八, \"VIP pings, HTTP fails\"); "
                                    + "stop it, or pass --balancer haproxy if this node runs HAProxy")
                        }
                        continue
                    }
                    if servesStats(frontend) {
                        add(
                            .warning, at: Describe.location(bind.location),
                            "nothing listens on \(shown) (\(title), the stats page): the balancer is not running "
                                + "or failed to bind")
                    } else if let vip = coversHeldVIP(bind) {
                        add(
                            .error, at: Describe.location(bind.location),
                            "VIP \(vip.address) held but nothing listening on :\(bind.address.port) (\(title) binds "
                                + "\(shown)): clients reach this node and are refused (seed 八, \"VIP pings, HTTP "
                                + "fails\": check the balancer on the VIP holder; start it, or hand the VIP over with "
                                + "portico vrrp ctl failover)")
                    } else {
                        add(
                            .error, at: Describe.location(bind.location),
                            "nothing listens on \(shown) (\(title)): this node's balancer is not serving; clients "
                                + "do not see it while the VIP is elsewhere, but after a failover to this node "
                                + "requests would still fail (seed 八, \"failover still fails\": the standby's "
                                + "balancer)")
                    }
                }
            }
            if !listening.isEmpty {
                add(.info, at: nil, "the balancer listens on \(listening.joined(separator: ", "))")
            }
        }

        mutating func checkBackends() {
            let config = node.balancer.config
            let anyListening = config.frontends.flatMap(\.binds).contains { isListening($0) }
            let servers: [ServerView]
            let source: String
            switch observation.balancer {
            case .notConfigured:
                add(
                    .info, at: nil,
                    "haproxy.cfg has no stats page and no stats socket: the backends' health as the balancer sees it "
                        + "cannot be read")
                return
            case .unavailable(let statsSource, let reason):
                add(
                    anyListening ? .warning : .info, at: nil,
                    "could not read the backends' health from \(statsSource): \(reason)")
                return
            case .servers(let list, let statsSource):
                servers = list
                source = statsSource
            }
            let role =
                holdsVIP
                ? "this node holds the VIP: clients get 503 now" : "after a failover to this node clients would get 503"
            var summary: [String] = []
            for backend in config.backends where !backend.servers.isEmpty {
                let running = servers.filter { $0.backend == backend.name }
                guard !running.isEmpty else {
                    add(
                        .warning, at: Describe.location(backend.location),
                        "the running balancer has no backend \(backend.name): it runs another configuration than this "
                            + "haproxy.cfg; reload it")
                    continue
                }
                for server in backend.servers where !running.contains(where: { $0.server == server.name }) {
                    add(
                        .warning, at: Describe.location(server.location),
                        "the running balancer has no server \(server.name) in \(backend.name): it runs another "
                            + "configuration than this haproxy.cfg; reload it")
                }
                for view in running where !backend.servers.contains(where: { $0.name == view.server }) {
                    add(
                        .warning, at: Describe.location(backend.location),
                        "the running balancer has a server \(view.server) in \(backend.name) that haproxy.cfg does not "
                            + "list: it runs another configuration; reload it")
                }
                summary += running.map { "\(backend.name)/\($0.server) \($0.status)" }
                let check = Describe.healthCheck(backend.httpCheck)
                if running.allSatisfy({ $0.health != .up }) {
                    let details = running.map { view in
                        "\(view.server) \(view.status)" + (view.checkDetail.map { " (\($0))" } ?? "")
                    }.joined(separator: ", ")
                    let addresses = backend.servers.map { "\($0.address)" }.joined(separator: ", ")
                    add(
                        .error, at: Describe.location(backend.location),
                        "all servers of backend \(backend.name) are DOWN as this node's balancer sees them "
                            + "(\(details)); \(role) (seed 八, \"all backends DOWN\": check the health check "
                            + "\(check), the backends' firewall from this node to \(addresses), and the status codes "
                            + "they answer)")
                    continue
                }
                for view in running where view.health != .up {
                    let line = backend.servers.first { $0.name == view.server }.map { Describe.location($0.location) }
                    if view.health == .maintenance {
                        add(
                            .warning, at: line,
                            "server \(view.server) of \(backend.name) is in maintenance (set by an operator): it gets "
                                + "no traffic until set back to ready")
                    } else {
                        add(
                            .warning, at: line,
                            "server \(view.server) of \(backend.name) is DOWN as this node's balancer sees it"
                                + (view.checkDetail.map { " (\($0))" } ?? "") + ": check its health path (\(check)), "
                                + "firewall and status codes; the other servers carry its share")
                    }
                }
            }
            if !summary.isEmpty {
                add(
                    .info, at: nil,
                    "backends as the running balancer sees them (\(source)): \(summary.joined(separator: ", "))")
            }
        }
    }
}
