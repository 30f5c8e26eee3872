import Foundation

/// A balancer's view of its backends, read from its stats page.
public struct BalancerView: Codable, Sendable, Equatable {
    /// False when the stats page did not answer (balancer stopped, node unreachable, or a balancer without one).
    public var available: Bool
    public var error: String?
    public var servers: [ServerView]
    /// "stats" (the `;csv` page) or "log" (the balancer's own log, for a balancer without a stats page).
    public var source: String

    public init(available: Bool, error: String?, servers: [ServerView], source: String = "stats") {
        self.available = available
        self.error = error
        self.servers = servers
        self.source = source
    }

    public static func unavailable(_ why: String) -> BalancerView {
        BalancerView(available: false, error: why, servers: [])
    }

    /// The state of one server ("UP", "DOWN", ...) or nil when unknown.
    public func state(of server: String) -> String? {
        servers.first { $0.name == server }?.state
    }
}

/// One look at the lab: who holds the VIP and what each balancer thinks of the backends.
public struct Observation: Sendable {
    public var time: Double
    public var vipHolders: [LabHost]
    public var views: [LabHost: BalancerView]
}

/// Looks at the lab from the inside, on a thread that hops between lab namespaces: addresses are read in
/// each balancer's namespace, HTTP requests start in the client's.
enum Observer {
    static func vipHolders(_ hopper: NamespaceHopper) throws -> [LabHost] {
        var holders: [LabHost] = []
        for host in LabHost.balancers {
            try hopper.enter(host.namespace)
            if hopper.addresses(of: LabTopology.interface).contains(LabTopology.vip) { holders.append(host) }
        }
        return holders
    }

    /// Fetches both balancers' stats CSV, and optionally GET / through the VIP, all at once from the client.
    /// When a running balancer has no stats page (or it does not answer), its log says which servers it
    /// marked DOWN and UP; the lab reads that instead.
    static func observe(
        _ hopper: NamespaceHopper,
        statsTimeout: Double,
        requestThroughVIP: Bool = false,
        directory: LabDirectory? = nil
    ) throws -> (Observation, HTTPOutcome?) {
        let holders = try vipHolders(hopper)
        // The sample is stamped when the addresses were read; the stats may take a moment longer.
        let time = WallClock.now()
        try hopper.enter(LabHost.client.namespace)
        let exchanges = HTTPExchanges()
        let statsRequest = HTTPExchanges.getRequest(
            host: "stats", path: LabTopology.statsPath, credentials: (LabTopology.statsUser, LabTopology.statsPassword)
        )
        for (index, host) in LabHost.balancers.enumerated() {
            exchanges.begin(
                id: index, address: host.address, port: LabTopology.statsPort, request: statsRequest,
                timeout: statsTimeout
            )
        }
        if requestThroughVIP {
            exchanges.begin(
                id: 99, address: LabTopology.vip, port: LabTopology.httpPort,
                request: HTTPExchanges.getRequest(host: LabTopology.vip, path: "/"), timeout: 1
            )
        }
        var outcomes: [Int: HTTPOutcome] = [:]
        let deadline = Monotonic.now() + max(statsTimeout, 1) + 0.5
        while (exchanges.inFlight > 0 || outcomes.isEmpty) && Monotonic.now() < deadline {
            for (id, outcome) in exchanges.step(maxWait: 0.05) { outcomes[id] = outcome }
            if exchanges.inFlight == 0 { break }
        }
        var views: [LabHost: BalancerView] = [:]
        for (index, host) in LabHost.balancers.enumerated() {
            guard let outcome = outcomes[index] else {
                views[host] = .unavailable("no answer")
                continue
            }
            if outcome.status == 200 {
                views[host] = BalancerView(available: true, error: nil, servers: StatsCSV.servers(from: outcome.body))
            } else {
                views[host] = .unavailable(outcome.detail ?? outcome.failure?.rawValue ?? "no answer")
            }
        }
        if let directory {
            for host in LabHost.balancers where views[host]?.available != true {
                if let fallback = logView(host, directory: directory) { views[host] = fallback }
            }
        }
        return (Observation(time: time, vipHolders: holders, views: views), outcomes[99])
    }

    /// The servers' states from the balancer's log since the lab last started it, if it runs.
    static func logView(_ host: LabHost, directory: LabDirectory) -> BalancerView? {
        guard let pid = directory.recordedPid(.lb, on: host), ProcessTable.isAlive(pid),
            let log = try? String(contentsOfFile: directory.logFile(.lb, on: host), encoding: .utf8),
            let config = try? String(contentsOfFile: directory.haproxyConfig(host), encoding: .utf8)
        else { return nil }
        let servers = BalancerLog.servers(log: String(log.sinceLastStart), config: config)
        guard !servers.isEmpty else { return nil }
        return BalancerView(available: true, error: nil, servers: servers, source: "log")
    }
}
