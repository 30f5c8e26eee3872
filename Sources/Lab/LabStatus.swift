import Foundation

/// One program of a role on a host.
public struct RoleProcess: Codable, Sendable {
    public var role: Role
    public var implementation: RoleImplementation
    public var pid: Int32?
    public var running: Bool
}

/// A balancer node as the lab sees it.
public struct BalancerStatus: Codable, Sendable {
    public var host: LabHost
    public var holdsVIP: Bool
    public var processes: [RoleProcess]
    /// MASTER, BACKUP, FAULT or unknown.
    public var vrrpState: String
    public var priority: Int?
    /// Where the state came from: the daemon's own log, or inferred from who holds the VIP.
    public var vrrpStateSource: String
    public var view: BalancerView
}

/// A backend node.
public struct WebStatus: Codable, Sendable {
    public var host: LabHost
    public var process: RoleProcess
}

/// One GET / from the client through the VIP.
public struct RequestCheck: Codable, Sendable {
    public var status: Int?
    public var backend: String?
    public var failure: FailureKind?
    public var detail: String?
    public var latencyMilliseconds: Double
}

/// `portico lab status`.
public struct LabStatus: Codable, Sendable {
    public var running: Bool
    /// Lab namespaces found when the lab is not complete (left over by a crash).
    public var leftovers: [String] = []
    public var stack: String?
    public var vipHolders: [LabHost]
    public var splitBrain: Bool
    public var balancers: [BalancerStatus]
    public var webs: [WebStatus]
    public var request: RequestCheck?

    /// The text `portico lab status` prints.
    public var text: String {
        guard running else {
            if !leftovers.isEmpty {
                return "no complete lab, but \(leftovers.joined(separator: ", ")) left over: run `portico lab down`\n"
            }
            return "no lab is running (start one with `portico lab up`)\n"
        }
        var lines: [String] = []
        lines.append("stack: \(stack ?? "unknown")")
        let holders = vipHolders.isEmpty ? "nobody" : vipHolders.map(\.rawValue).joined(separator: " and ")
        lines.append("VIP \(LabTopology.vip): \(holders)" + (splitBrain ? "  ** SPLIT BRAIN: two holders **" : ""))
        for balancer in balancers {
            let processes = balancer.processes.map {
                "\($0.implementation.rawValue) \($0.running ? "running (pid \($0.pid ?? 0))" : "NOT RUNNING")"
            }.joined(separator: ", ")
            let priority = balancer.priority.map { " priority \($0)" } ?? ""
            lines.append(
                "\(balancer.host.rawValue): \(balancer.vrrpState)\(priority) (\(balancer.vrrpStateSource)); "
                    + processes
            )
            if balancer.view.available {
                let servers = balancer.view.servers.map { "\($0.name) \($0.status)" }.joined(separator: ", ")
                let source = balancer.view.source == "stats" ? "" : " (from its \(balancer.view.source))"
                lines.append("    backends as \(balancer.host.rawValue) sees them\(source): \(servers)")
            } else {
                lines.append(
                    "    backends as \(balancer.host.rawValue) sees them: unavailable (\(balancer.view.error ?? "?"))")
            }
        }
        for web in webs {
            let process = web.process
            lines.append(
                "\(web.host.rawValue): \(process.implementation.rawValue) "
                    + (process.running ? "running (pid \(process.pid ?? 0))" : "NOT RUNNING")
            )
        }
        if let request {
            if let status = request.status, request.failure == nil {
                lines.append(
                    "client → http://\(LabTopology.vip)/: \(status) from \(request.backend ?? "?") "
                        + String(format: "in %.1f ms", request.latencyMilliseconds)
                )
            } else {
                lines.append(
                    "client → http://\(LabTopology.vip)/: FAILED "
                        + "(\(request.detail ?? request.failure?.rawValue ?? "?"))"
                )
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension Lab {
    /// Looks at the running lab: VIP holders, VRRP state, each balancer's view of the backends, one request.
    public func status() throws -> LabStatus {
        guard geteuid() == 0 else { throw LabError.notRoot }
        let namespaces = try LabNetwork.existingNamespaces()
        guard Set(LabTopology.namespaces).isSubset(of: Set(namespaces)) else {
            var status = LabStatus(
                running: false, stack: nil, vipHolders: [], splitBrain: false, balancers: [], webs: [], request: nil
            )
            status.leftovers = namespaces
            return status
        }
        let stack = loadState()?.stack
        let (observation, outcome) = try NamespaceThread.run { hopper in
            try Observer.observe(hopper, statsTimeout: 1, requestThroughVIP: true, directory: self.directory)
        }
        func process(_ role: Role, _ host: LabHost) -> RoleProcess {
            let pid = directory.recordedPid(role, on: host)
            return RoleProcess(
                role: role, implementation: stack?.implementation(of: role, on: host) ?? role.reference,
                pid: pid, running: pid.map(ProcessTable.isAlive) ?? false
            )
        }
        let balancers = LabHost.balancers.map { host -> BalancerStatus in
            let holds = observation.vipHolders.contains(host)
            let vrrp = process(.vrrp, host)
            var state = holds ? "MASTER" : (vrrp.running ? "BACKUP" : "STOPPED")
            var source = "inferred from the VIP"
            var priority: Int? = configuredPriority(host)
            if vrrp.implementation == .portico, vrrp.running, let daemon = porticoVRRPStatus(host) {
                state = daemon.state
                priority = daemon.effectivePriority
                source = "portico vrrp status"
            }
            if vrrp.implementation == .keepalived,
                let log = try? String(contentsOfFile: directory.logFile(.vrrp, on: host), encoding: .utf8)
            {
                let view = KeepalivedLogView.parse(String(log.sinceLastStart))
                if vrrp.running, let logged = view.state {
                    state = logged
                    source = "keepalived log"
                }
                if let logged = view.priority { priority = logged }
            }
            return BalancerStatus(
                host: host, holdsVIP: holds, processes: [process(.lb, host), vrrp], vrrpState: state,
                priority: priority, vrrpStateSource: source,
                view: observation.views[host] ?? .unavailable("no answer")
            )
        }
        let webs = LabHost.webs.map { WebStatus(host: $0, process: process(.web, $0)) }
        let request = outcome.map {
            RequestCheck(
                status: $0.status, backend: $0.status == 200 ? $0.body.trimmed : nil, failure: $0.failure,
                detail: $0.detail, latencyMilliseconds: $0.latency * 1000
            )
        }
        return LabStatus(
            running: true, stack: stack?.summary, vipHolders: observation.vipHolders,
            splitBrain: observation.vipHolders.count > 1, balancers: balancers, webs: webs, request: request
        )
    }

    /// `portico vrrp status` over the node's control socket (a Unix socket: no network involved).
    func porticoVRRPStatus(_ host: LabHost) -> PorticoVRRPStatus.Instance? {
        guard let portico = porticoExecutable,
            let result = try? Subprocess.run(
                [portico, "vrrp", "status", "--control-socket", directory.vrrpControlSocket(host)], timeout: 5
            ), result.succeeded
        else { return nil }
        return PorticoVRRPStatus.parse(result.output)?.instances.first
    }

    func configuredPriority(_ host: LabHost) -> Int? {
        guard let text = try? String(contentsOfFile: directory.keepalivedConfig(host), encoding: .utf8) else {
            return nil
        }
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count == 2 && fields[0] == "priority" { return Int(fields[1]) }
        }
        return nil
    }
}

extension String {
    /// The part of a log after the lab last started the program (the lab writes a `--- ... starting:` line).
    var sinceLastStart: Substring {
        guard let range = range(of: "--- portico lab ", options: .backwards) else { return self[...] }
        return self[range.lowerBound...]
    }
}

/// The part of `portico vrrp status`'s JSON the lab shows.
public struct PorticoVRRPStatus: Decodable, Sendable {
    public struct Instance: Decodable, Sendable {
        public var name: String
        public var state: String
        public var effectivePriority: Int
    }

    public var instances: [Instance]

    public static func parse(_ text: String) -> PorticoVRRPStatus? {
        try? JSONDecoder().decode(PorticoVRRPStatus.self, from: Data(text.utf8))
    }
}
