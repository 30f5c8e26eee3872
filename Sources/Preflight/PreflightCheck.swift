import HAProxyConfig
import KeepalivedConfig

/// `portico check` without the I/O: every finding for a set of loaded nodes.
///
/// Every node is compared with the reference node, the intended master (the node starting as MASTER with the highest
/// priority; else the highest priority; the first given on a tie): the seed's lesson is that the standby must match
/// the primary, so differences are reported on the standby's lines.
public enum PreflightCheck {
    public static func run(_ nodes: [LoadedNode]) -> CheckReport {
        let ordered = referenceFirst(nodes)
        var findings: [Finding] = []
        findings += VRRPConsistency.check(ordered.filter(\.vrrpLoaded))
        let balancers = ordered.filter(\.balancerLoaded)
        if let reference = balancers.first {
            for other in balancers.dropFirst() {
                findings += BalancerConsistency.compare(reference: reference, other: other)
            }
        }
        for node in nodes {
            findings += StatsChecks.check(node)
            findings += BindChecks.check(node)
            findings += ScriptChecks.check(node)
        }
        findings += parserFindings(nodes, besides: findings)
        if nodes.count == 1, let node = nodes.first {
            findings.append(
                Finding(
                    .info, .vrrp, node: node.name, at: nil,
                    "only one node given: its files are checked, but there is no standby to compare them with"))
        }
        return CheckReport(nodes: nodes.map(NodeSummary.init), findings: findings)
    }

    /// The nodes with the reference node first, the others in the order given.
    static func referenceFirst(_ nodes: [LoadedNode]) -> [LoadedNode] {
        var best: Int?
        for (index, node) in nodes.enumerated() {
            guard let rank = node.masterRank else { continue }
            if let current = best, let currentRank = nodes[current].masterRank, !(currentRank < rank) { continue }
            best = index
        }
        guard let best else { return nodes }
        var ordered = nodes
        let reference = ordered.remove(at: best)
        return [reference] + ordered
    }

    /// The parsers' own diagnostics, as `portico lb -c` and `portico vrrp -t` print them. A parser warning on a line
    /// where the preflight reports an error says the same thing more mildly (e.g. Keepalived's "nopreempt will not
    /// work with initial state MASTER - clearing"), so it is left out.
    static func parserFindings(_ nodes: [LoadedNode], besides findings: [Finding]) -> [Finding] {
        let errorLines = Set(findings.filter { $0.severity == .error }.compactMap(\.location))
        var result: [Finding] = []
        for node in nodes {
            for diagnostic in node.balancer.diagnostics {
                let location =
                    diagnostic.location.map(Describe.location)
                    ?? FileLine(file: node.source.balancerConfigPath, line: nil)
                let severity: Finding.Severity = diagnostic.severity == .alert ? .error : .warning
                if severity == .warning, errorLines.contains(location) { continue }
                result.append(Finding(severity, .config, node: node.name, at: location, diagnostic.message))
            }
            for diagnostic in node.vrrp.diagnostics {
                let location =
                    diagnostic.location.map(Describe.location) ?? FileLine(file: node.source.vrrpConfigPath, line: nil)
                let severity: Finding.Severity = diagnostic.severity == .error ? .error : .warning
                if severity == .warning, errorLines.contains(location) { continue }
                result.append(Finding(severity, .config, node: node.name, at: location, diagnostic.message))
            }
        }
        return result
    }
}

/// What `portico check` found, grouped for the table.
public struct CheckReport: Sendable, Codable, Equatable {
    public var nodes: [NodeSummary]
    /// Grouped by category (in ``Finding/Category`` order), then by severity, node order and line.
    public var findings: [Finding]
    /// What `--live` observed on the node it ran on; nil without `--live`.
    public var live: LiveReport?

    public init(nodes: [NodeSummary], findings: [Finding], live: LiveReport? = nil) {
        self.nodes = nodes
        self.live = live
        let nodeOrder = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let categoryOrder = Dictionary(uniqueKeysWithValues: Finding.Category.allCases.enumerated().map { ($1, $0) })
        self.findings = findings.enumerated().sorted { left, right in
            let (a, b) = (left.element, right.element)
            if a.category != b.category {
                return categoryOrder[a.category, default: 0] < categoryOrder[b.category, default: 0]
            }
            if a.severity != b.severity { return a.severity < b.severity }
            let nodeA = a.node.flatMap { nodeOrder[$0] } ?? Int.max
            let nodeB = b.node.flatMap { nodeOrder[$0] } ?? Int.max
            if nodeA != nodeB { return nodeA < nodeB }
            // Findings without a line come after those with one, so the order stays a strict weak ordering.
            switch (a.location, b.location) {
            case (let la?, let lb?) where la != lb: return la < lb
            case (.some, .none): return true
            case (.none, .some): return false
            default: return left.offset < right.offset
            }
        }.map(\.element)
    }

    public func count(_ severity: Finding.Severity) -> Int { findings.filter { $0.severity == severity }.count }

    /// No error: the pair may go live (warnings are the operator's call).
    public var passed: Bool { count(.error) == 0 }

    /// `portico check`'s exit status: 0 without error, 1 otherwise.
    public var exitStatus: Int32 { passed ? 0 : 1 }

    enum CodingKeys: String, CodingKey {
        case nodes, findings, live
    }

    /// The report with the live findings of `node` (the node `portico check --live` runs on) added.
    public func addingLive(node: String, _ observation: LiveObservation, findings live: [Finding]) -> CheckReport {
        CheckReport(nodes: nodes, findings: findings + live, live: LiveReport(node: node, observation: observation))
    }
}

/// The node `--live` ran on and what it saw there.
public struct LiveReport: Sendable, Codable, Equatable {
    public var node: String
    public var observation: LiveObservation

    public init(node: String, observation: LiveObservation) {
        self.node = node
        self.observation = observation
    }
}

/// The node list at the top of the report and in the JSON output.
public struct NodeSummary: Sendable, Codable, Equatable {
    public var name: String
    public var balancerConfig: String
    public var vrrpConfig: String
    public var balancer: BalancerKind
    public var address: String?

    public init(_ node: LoadedNode) {
        name = node.name
        balancerConfig = node.source.balancerConfigPath
        vrrpConfig = node.source.vrrpConfigPath
        balancer = node.source.balancer
        address = node.source.address?.description
    }
}
