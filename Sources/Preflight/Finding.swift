/// One line of the `portico check` table: what is wrong (or worth knowing), on which node, at which line.
public struct Finding: Hashable, Sendable, Codable {
    public enum Severity: String, Hashable, Sendable, Codable, Comparable, CaseIterable {
        /// The pair will not fail over as intended: `portico check` exits 1.
        case error
        /// Works, but is a trap the seed warns about (stats on `*`, a placeholder password, ...).
        case warning
        /// Worth knowing, nothing to fix (an intended difference, a check that could not be made).
        case info

        private var rank: Int {
            switch self {
            case .error: return 0
            case .warning: return 1
            case .info: return 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// Which part of the preflight produced the finding; the table groups by it.
    public enum Category: String, Hashable, Sendable, Codable, CaseIterable {
        /// A parser diagnostic (the same one `portico lb -c` / `portico vrrp -t` would print).
        case config
        /// VRRP settings that must agree between the nodes (VRID, VIPs, priorities, tracking, peers).
        case vrrp
        /// haproxy.cfg settings that must agree between the nodes (binds, backends, servers, checks, timeouts).
        case balancer
        /// The statistics page: where it listens and how it is protected.
        case stats
        /// Check and notify scripts: present, executable, safe under Keepalived's script security, meaningful.
        case scripts
        /// `--live`: the running node (VIP, listeners, backends' health, VRRP state) against the seed's symptom table.
        case live

        public var title: String {
            switch self {
            case .config: return "Configuration files"
            case .vrrp: return "VRRP consistency"
            case .balancer: return "Balancer consistency"
            case .stats: return "Statistics page"
            case .scripts: return "Scripts"
            case .live: return "Running node (--live)"
            }
        }
    }

    public var severity: Severity
    public var category: Category
    /// The node the finding is about (the name given on the command line); nil for findings about the whole set.
    public var node: String?
    /// Where to look; nil when the finding is about something that has no line (e.g. a file that is missing).
    public var location: FileLine?
    public var message: String
    /// Other lines the message refers to, typically the reference node's line for a difference.
    public var related: [FileLine]

    public init(
        _ severity: Severity, _ category: Category, node: String?, at location: FileLine?, _ message: String,
        related: [FileLine] = []
    ) {
        self.severity = severity
        self.category = category
        self.node = node
        self.location = location
        self.message = message
        self.related = related
    }
}

/// A file and, when known, a 1-based line: `lb02/keepalived.conf:12`.
public struct FileLine: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public var file: String
    public var line: Int?

    public init(file: String, line: Int?) {
        self.file = file
        self.line = line
    }

    public var description: String { line.map { "\(file):\($0)" } ?? file }

    /// The file's last path component, for short messages and test expectations.
    public var fileName: String { String(file.split(separator: "/").last ?? Substring(file)) }

    public static func < (lhs: FileLine, rhs: FileLine) -> Bool {
        if lhs.file != rhs.file { return lhs.file < rhs.file }
        return (lhs.line ?? Int.max) < (rhs.line ?? Int.max)
    }
}
