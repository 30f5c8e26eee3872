import KeepalivedConfig

/// Where one entry node's files are and what `portico check` should assume about the node.
public struct NodeSource: Hashable, Sendable {
    /// The name used in the table (`lb01`).
    public var name: String
    /// The node's haproxy.cfg.
    public var balancerConfigPath: String
    /// The node's keepalived.conf.
    public var vrrpConfigPath: String
    public var scripts: ScriptLookup
    /// The node's own address on the VRRP interface, when known: enables the "VIP inside the subnet" check and the
    /// unicast peer symmetry check. `unicast_src_ip` is used when this is nil.
    public var address: NodeAddress?
    /// Which balancer the node runs: decides whether a check script looking for an `haproxy` process is meaningful.
    public var balancer: BalancerKind

    public init(
        name: String, balancerConfigPath: String, vrrpConfigPath: String, scripts: ScriptLookup = .deployed,
        address: NodeAddress? = nil, balancer: BalancerKind = .portico
    ) {
        self.name = name
        self.balancerConfigPath = balancerConfigPath
        self.vrrpConfigPath = vrrpConfigPath
        self.scripts = scripts
        self.address = address
        self.balancer = balancer
    }

    /// A directory collected from the node (`portico check lb01=DIR`): `DIR/haproxy.cfg`, `DIR/keepalived.conf` and
    /// copies of the scripts they reference, by file name.
    public static func directory(
        name: String, path: String, address: NodeAddress? = nil, balancer: BalancerKind = .portico
    ) -> NodeSource {
        let base = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        return NodeSource(
            name: name, balancerConfigPath: base + "/haproxy.cfg", vrrpConfigPath: base + "/keepalived.conf",
            scripts: .copies(in: base), address: address, balancer: balancer)
    }
}

/// How the scripts referenced by keepalived.conf are found.
public enum ScriptLookup: Hashable, Sendable {
    /// At the path written in keepalived.conf, on this machine: `portico check` runs on the node itself, so the whole
    /// Keepalived rule applies (owner, group and world write on the file and every parent directory).
    case deployed
    /// A copy collected into this directory, found by file name (`/etc/keepalived/check_haproxy.sh` →
    /// `DIR/check_haproxy.sh`). Owner and parent directories of a copy say nothing about the node, so only the
    /// copy's mode bits are checked.
    case copies(in: String)
}

/// The balancer process a node runs next to its VRRP daemon.
public enum BalancerKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// `portico lb`: there is no process named `haproxy`.
    case portico
    /// HAProxy itself, as in the seed.
    case haproxy

    /// The process name a check script would look for.
    public var processName: String { rawValue }
    /// The command operators know the balancer by.
    public var displayName: String { self == .portico ? "portico lb" : "HAProxy" }
}

/// A node address with an optional prefix length, `192.168.10.11/24`.
public struct NodeAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    /// nil: the subnet is taken from the VIP's own prefix.
    public var prefixLength: Int?

    public init(address: IPv4Address, prefixLength: Int? = nil) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `A.B.C.D` or `A.B.C.D/N`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPv4Address(parts[0]) else { return nil }
        var prefix: Int?
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...32).contains(value) else { return nil }
            prefix = value
        }
        self.init(address: address, prefixLength: prefix)
    }

    public var description: String { prefixLength.map { "\(address)/\($0)" } ?? "\(address)" }
}
