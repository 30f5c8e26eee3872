/// A host of the seed's topology. Each one is a network namespace with an `eth0` on the lab's switch.
public enum LabHost: String, CaseIterable, Codable, Sendable, Comparable {
    case client
    case lb01
    case lb02
    case web01
    case web02

    /// The namespace that stands for this host.
    public var namespace: String { LabTopology.prefix + rawValue }

    /// The host's address on the lab subnet (the seed's numbering; the client gets .50).
    public var address: String {
        switch self {
        case .client: return "192.168.10.50"
        case .lb01: return "192.168.10.11"
        case .lb02: return "192.168.10.12"
        case .web01: return "192.168.10.21"
        case .web02: return "192.168.10.22"
        }
    }

    /// The switch-side end of the host's cable, in the switch namespace (at most 15 bytes, as IFNAMSIZ asks).
    public var switchPort: String { LabTopology.prefix + rawValue }

    public static let balancers: [LabHost] = [.lb01, .lb02]
    public static let webs: [LabHost] = [.web01, .web02]

    public init?(name: String) {
        let bare = name.hasPrefix(LabTopology.prefix) ? String(name.dropFirst(LabTopology.prefix.count)) : name
        self.init(rawValue: bare)
    }

    public static func < (lhs: LabHost, rhs: LabHost) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// Names and addresses shared by the whole lab.
public enum LabTopology {
    /// Every namespace, link and bridge the lab creates starts with this, so `down` can find them after a crash.
    public static let prefix = "plab-"
    /// The namespace holding the bridge: the lab's switch lives outside the root namespace too.
    public static let switchNamespace = prefix + "sw"
    public static let bridge = prefix + "br"
    public static let prefixLength = 24
    public static let vip = "192.168.10.100"
    public static let httpPort: UInt16 = 80
    /// The seed's `listen stats` section.
    public static let statsPort: UInt16 = 8404
    public static let statsPath = "/stats;csv"
    public static let statsUser = "admin"
    public static let statsPassword = "strong_password_here"
    /// The host interface name the seed's configs use (`interface eth0`, `dev eth0`).
    public static let interface = "eth0"

    /// Every namespace of the lab, the switch first.
    public static var namespaces: [String] { [switchNamespace] + LabHost.allCases.map(\.namespace) }
}
