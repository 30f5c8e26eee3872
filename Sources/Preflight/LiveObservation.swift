/// What `portico check --live` saw on the node it runs on: the raw material of the live findings, kept apart from
/// the findings so that the symptom table (``LiveCheck``) is a pure function tested without a running node.
public struct LiveObservation: Sendable, Equatable, Codable {
    /// The node's interfaces with their IPv4 addresses (rtnetlink of this network namespace).
    public var interfaces: [LocalInterface]
    /// TCP sockets in LISTEN state (`/proc/net/tcp` and `/proc/net/tcp6` of this network namespace).
    public var listeners: [ListeningSocket]
    /// The running balancer's view of its servers.
    public var balancer: BalancerView
    /// The running VRRP daemon's view of its instances.
    public var vrrp: VRRPView

    public init(interfaces: [LocalInterface], listeners: [ListeningSocket], balancer: BalancerView, vrrp: VRRPView) {
        self.interfaces = interfaces
        self.listeners = listeners
        self.balancer = balancer
        self.vrrp = vrrp
    }

    /// The interface holding `address`, if any.
    /// The interface that carries `address` so that it answers ARP for it: loopback does not count, because
    /// `portico vrrp` parks a VIP it has just released on `lo` for a moment (so replies to requests already in
    /// flight can still leave) and that is not holding the VIP.
    public func interface(holding address: String) -> LocalInterface? {
        interfaces.first { $0.name != "lo" && $0.addresses.contains { $0.address == address } }
    }
}

/// A network interface of the node as the kernel reports it.
public struct LocalInterface: Sendable, Equatable, Codable {
    public var name: String
    /// Administratively up and with carrier (IFF_UP and IFF_RUNNING), as Keepalived requires.
    public var isUp: Bool
    public var addresses: [LocalAddress]

    public init(name: String, isUp: Bool, addresses: [LocalAddress]) {
        self.name = name
        self.isUp = isUp
        self.addresses = addresses
    }
}

public struct LocalAddress: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Dotted quad.
    public var address: String
    public var prefixLength: Int

    public init(address: String, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// A listening TCP socket: `0.0.0.0:80`, `[::]:80`, `192.168.10.100:80`.
public struct ListeningSocket: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Dotted quad for IPv4, colon-separated full form for IPv6 (`::` for the wildcard).
    public var address: String
    public var port: Int
    public var isIPv6: Bool
    /// The socket's inode (to find the process holding it); nil when not reported.
    public var inode: UInt64?
    /// The process holding the socket, when /proc lets us see it.
    public var owner: SocketOwner?

    public init(address: String, port: Int, isIPv6: Bool, inode: UInt64? = nil, owner: SocketOwner? = nil) {
        self.address = address
        self.port = port
        self.isIPv6 = isIPv6
        self.inode = inode
        self.owner = owner
    }

    public var description: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    public var isWildcard: Bool { address == "0.0.0.0" || address == "::" }
}

/// A process holding a listening socket.
public struct SocketOwner: Sendable, Equatable, Codable, CustomStringConvertible {
    public var pid: Int
    /// Its command line (`/proc/PID/cmdline`), program first.
    public var command: [String]

    public init(pid: Int, command: [String]) {
        self.pid = pid
        self.command = command
    }

    /// The program's file name; nginx rewrites its command line to `nginx: master process ...`.
    public var program: String {
        guard let first = command.first?.split(separator: " ").first else { return "?" }
        let name = first.split(separator: "/").last.map(String.init) ?? String(first)
        return name.hasSuffix(":") ? String(name.dropLast()) : name
    }

    public var description: String { "\(program) (pid \(pid))" }

    /// Whether this is the balancer the node is said to run: `portico lb ...`, or an `haproxy` process.
    public func isBalancer(_ kind: BalancerKind) -> Bool {
        switch kind {
        case .portico: return program == "portico" && command.dropFirst().first == "lb"
        case .haproxy: return program == "haproxy"
        }
    }
}

/// One server as the running balancer reports it (its CSV statistics).
public struct ServerView: Sendable, Equatable, Codable {
    public var backend: String
    public var server: String
    /// HAProxy's status text: `UP`, `DOWN`, `UP 1/3` (going down), `DOWN 1/2` (coming up), `MAINT`, `no check`.
    public var status: String
    /// `check_status` (`L4OK`, `L4CON`, `L7STS`, ...), when reported.
    public var checkStatus: String?
    /// `check_code`: the HTTP status of the last check, when reported.
    public var checkCode: String?
    /// `last_chk`: the last check's detail text, when reported.
    public var lastCheck: String?
    /// `bck`: a backup server.
    public var isBackup: Bool

    public init(
        backend: String, server: String, status: String, checkStatus: String? = nil, checkCode: String? = nil,
        lastCheck: String? = nil, isBackup: Bool = false
    ) {
        self.backend = backend
        self.server = server
        self.status = status
        self.checkStatus = checkStatus
        self.checkCode = checkCode
        self.lastCheck = lastCheck
        self.isBackup = isBackup
    }

    public enum Health: String, Sendable {
        case up, down, maintenance
    }

    /// `UP 1/3` still serves; `DOWN 1/2` does not yet; `DRAIN`, `NOLB` and `no check` serve.
    public var health: Health {
        let word = status.split(separator: " ").first.map { $0.uppercased() } ?? ""
        switch word {
        case "DOWN": return .down
        case "MAINT": return .maintenance
        default: return .up
        }
    }

    /// `L4CON, Connection refused` / `L7STS 404` for messages.
    public var checkDetail: String? {
        let parts = [checkStatus, checkCode, lastCheck].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}

/// Where the backends' health came from, or why it is not known.
public enum BalancerView: Sendable, Equatable, Codable {
    /// Read from `source` (`http://127.0.0.1:8404/stats;csv` or `stats socket /run/haproxy.sock`).
    case servers([ServerView], source: String)
    /// The balancer has a stats page or socket but it did not answer usefully.
    case unavailable(source: String, reason: String)
    /// haproxy.cfg has neither a stats page nor a `stats socket`: nothing to ask.
    case notConfigured
}

/// What the node's VRRP daemon says, or why nothing is known.
public enum VRRPView: Sendable, Equatable, Codable {
    /// `portico vrrp`'s control socket answered `status`.
    case daemon(VRRPDaemonStatus, socket: String)
    /// A control socket was found or given but did not answer.
    case unavailable(socket: String, reason: String)
    /// No `portico vrrp` control socket: Keepalived (which has none), or no VRRP daemon at all.
    case noControlSocket
}

/// The part of `portico vrrp status` (docs/vrrp-daemon.md) the live check reads.
public struct VRRPDaemonStatus: Sendable, Equatable, Codable {
    public struct Instance: Sendable, Equatable, Codable {
        public var name: String
        /// MASTER, BACKUP, FAULT, INIT.
        public var state: String
        public var interface: String
        public var virtualRouterID: Int
        public var basePriority: Int
        public var effectivePriority: Int
        public var masterAddress: String?
        public var masterPriority: Int?
        public var virtualAddresses: [String]
        /// `none`, `resigning`, `held_back`.
        public var handover: String
        public var trackers: [Tracker]
        public var counters: Counters

        public init(
            name: String, state: String, interface: String, virtualRouterID: Int, basePriority: Int,
            effectivePriority: Int, masterAddress: String? = nil, masterPriority: Int? = nil,
            virtualAddresses: [String] = [], handover: String = "none", trackers: [Tracker] = [],
            counters: Counters = Counters()
        ) {
            self.name = name
            self.state = state
            self.interface = interface
            self.virtualRouterID = virtualRouterID
            self.basePriority = basePriority
            self.effectivePriority = effectivePriority
            self.masterAddress = masterAddress
            self.masterPriority = masterPriority
            self.virtualAddresses = virtualAddresses
            self.handover = handover
            self.trackers = trackers
            self.counters = counters
        }
    }

    public struct Tracker: Sendable, Equatable, Codable {
        public var name: String
        public var kind: String
        public var weight: Int
        /// `up` or `down`.
        public var state: String

        public init(name: String, kind: String, weight: Int, state: String) {
            self.name = name
            self.kind = kind
            self.weight = weight
            self.state = state
        }
    }

    public struct Counters: Sendable, Equatable, Codable {
        public var advertsReceived: Int
        /// Dropped adverts by reason (`auth_mismatch`, `wrong_ttl`, ...).
        public var dropped: [String: Int]

        public init(advertsReceived: Int = 0, dropped: [String: Int] = [:]) {
            self.advertsReceived = advertsReceived
            self.dropped = dropped
        }
    }

    public var routerID: String?
    public var instances: [Instance]
    /// Adverts for a VRID no instance here runs, by interface.
    public var unknownVirtualRouterDrops: [String: Int]

    public init(routerID: String? = nil, instances: [Instance], unknownVirtualRouterDrops: [String: Int] = [:]) {
        self.routerID = routerID
        self.instances = instances
        self.unknownVirtualRouterDrops = unknownVirtualRouterDrops
    }

    enum CodingKeys: String, CodingKey {
        case routerID, instances, unknownVirtualRouterDrops
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        routerID = try container.decodeIfPresent(String.self, forKey: .routerID)
        instances = try container.decode([Instance].self, forKey: .instances)
        unknownVirtualRouterDrops =
            try container.decodeIfPresent([String: Int].self, forKey: .unknownVirtualRouterDrops) ?? [:]
    }
}
