/// What the I/O layer knows about one proxy at the moment the stats are read. Plain values: the
/// balancer copies them out of its shared state (selector, backend state, per-loop counters) and
/// hands them over; every rendering (CSV, JSON, HTML, Prometheus, `show stat`) reads the rows that
/// ``StatsSnapshot`` derives from them.
public struct ProxyStatsInput: Sendable, Equatable {
    public var name: String
    /// HAProxy's proxy id (`iid`): 1-based position among proxies, in declaration order.
    public var id: Int
    /// `http` or `tcp`.
    public var mode: String
    public var frontend: FrontendStatsInput?
    public var backend: BackendStatsInput?

    public init(
        name: String, id: Int, mode: String = "http", frontend: FrontendStatsInput? = nil,
        backend: BackendStatsInput? = nil
    ) {
        self.name = name
        self.id = id
        self.mode = mode
        self.frontend = frontend
        self.backend = backend
    }
}

public struct FrontendStatsInput: Sendable, Equatable {
    public var counters: TrafficCounters
    /// `slim`: the frontend's `maxconn` (or the process limit when it has none, as HAProxy shows).
    public var sessionLimit: Int?
    /// Listening (`OPEN`) or stopped during a soft stop (`STOP`).
    public var isOpen: Bool

    public init(counters: TrafficCounters = TrafficCounters(), sessionLimit: Int? = nil, isOpen: Bool = true) {
        self.counters = counters
        self.sessionLimit = sessionLimit
        self.isOpen = isOpen
    }
}

public struct BackendStatsInput: Sendable, Equatable {
    /// The backend's own counters (sessions it handled, whatever server took them).
    public var counters: TrafficCounters
    /// `balance` keyword as written (`roundrobin`).
    public var algorithm: String
    public var servers: [ServerStatsInput]
    public var queueCurrent: Int
    /// nil: not measured (the column stays empty).
    public var queueMax: Int?
    /// `slim` of the backend (HAProxy shows `fullconn`, or a tenth of the frontend's maxconn).
    public var sessionLimit: Int?
    /// Seconds since the backend last became UP or DOWN (every server gone or one back).
    public var secondsSinceChange: Int64?
    /// Seconds the backend spent with no usable server.
    public var downtimeSeconds: Int64?
    /// `chkdown` of the backend: times it lost its last server.
    public var downTransitions: Int

    public init(
        counters: TrafficCounters = TrafficCounters(), algorithm: String = "roundrobin",
        servers: [ServerStatsInput] = [], queueCurrent: Int = 0, queueMax: Int? = nil, sessionLimit: Int? = nil,
        secondsSinceChange: Int64? = nil, downtimeSeconds: Int64? = nil, downTransitions: Int = 0
    ) {
        self.counters = counters
        self.algorithm = algorithm
        self.servers = servers
        self.queueCurrent = queueCurrent
        self.queueMax = queueMax
        self.sessionLimit = sessionLimit
        self.secondsSinceChange = secondsSinceChange
        self.downtimeSeconds = downtimeSeconds
        self.downTransitions = downTransitions
    }
}

public struct ServerStatsInput: Sendable, Equatable {
    /// The core's view of the server: health, admin state, runtime weight, last change, downtime.
    public var state: ServerState
    public var counters: TrafficCounters
    /// `addr`: `192.168.10.21:80`.
    public var address: String
    /// Requests now assigned to the server (the selector's count); shown as `scur`.
    public var currentSessions: Int
    public var queueCurrent: Int
    public var queueMax: Int
    /// `lbtot`: times the server was picked by load balancing.
    public var selectedTotal: Int
    /// Seconds since the last session went to this server; nil if none ever did (`lastsess` -1).
    public var secondsSinceLastSession: Int64?

    public init(
        state: ServerState, counters: TrafficCounters = TrafficCounters(), address: String, currentSessions: Int = 0,
        queueCurrent: Int = 0, queueMax: Int = 0, selectedTotal: Int = 0, secondsSinceLastSession: Int64? = nil
    ) {
        self.state = state
        self.counters = counters
        self.address = address
        self.currentSessions = currentSessions
        self.queueCurrent = queueCurrent
        self.queueMax = queueMax
        self.selectedTotal = selectedTotal
        self.secondsSinceLastSession = secondsSinceLastSession
    }
}

/// Process-wide figures for `show info` and the page header.
public struct ProcessStatsInput: Sendable, Equatable {
    public var name: String
    public var version: String
    public var releaseDate: String
    public var pid: Int
    public var threads: Int
    public var uptimeSeconds: Int64
    /// Unix time the process started.
    public var startTimeSeconds: Int64
    public var maxConnections: Int
    public var currentConnections: Int
    public var totalConnections: Int
    public var totalRequests: Int
    public var descriptorLimit: Int
    public var nodeName: String
    public var listeners: Int
    /// A soft stop is under way.
    public var stopping: Bool
    /// Sessions (= accepted connections) per second over the last second, every frontend together:
    /// `show info`'s SessRate and ConnRate.
    public var sessionRate: Int
    /// MaxSessRate and MaxConnRate.
    public var maxSessionRate: Int

    public init(
        name: String = "Portico", version: String = PorticoVersion.current, releaseDate: String = "",
        pid: Int = 0, threads: Int = 1, uptimeSeconds: Int64 = 0, startTimeSeconds: Int64 = 0,
        maxConnections: Int = 0, currentConnections: Int = 0, totalConnections: Int = 0, totalRequests: Int = 0,
        descriptorLimit: Int = 0, nodeName: String = "", listeners: Int = 0, stopping: Bool = false,
        sessionRate: Int = 0, maxSessionRate: Int = 0
    ) {
        self.name = name
        self.version = version
        self.releaseDate = releaseDate
        self.pid = pid
        self.threads = threads
        self.uptimeSeconds = uptimeSeconds
        self.startTimeSeconds = startTimeSeconds
        self.maxConnections = maxConnections
        self.currentConnections = currentConnections
        self.totalConnections = totalConnections
        self.totalRequests = totalRequests
        self.descriptorLimit = descriptorLimit
        self.nodeName = nodeName
        self.listeners = listeners
        self.stopping = stopping
        self.sessionRate = sessionRate
        self.maxSessionRate = maxSessionRate
    }
}

public enum PorticoVersion {
    public static let current = "0.1.0"
}

/// What kind of row: HAProxy's `type` column (0 frontend, 1 backend, 2 server).
public enum StatsRowKind: Int, Sendable, Equatable {
    case frontend = 0
    case backend = 1
    case server = 2

    /// `objType` in the JSON output.
    public var objectType: String {
        switch self {
        case .frontend: return "Frontend"
        case .backend: return "Backend"
        case .server: return "Server"
        }
    }
}

/// One line of the stats table, for a frontend, a backend or a server. Optional fields are the
/// columns that do not apply to the row's kind (empty in the CSV, absent from the JSON).
public struct StatsRow: Sendable, Equatable {
    public var kind: StatsRowKind
    /// `pxname`
    public var proxy: String
    /// `svname`: `FRONTEND`, `BACKEND` or the server's name.
    public var service: String
    /// `iid`
    public var proxyID: Int
    /// `sid`: 0 for frontend and backend rows.
    public var serverID: Int
    public var counters: TrafficCounters
    public var queueCurrent: Int?
    public var queueMax: Int?
    public var sessionLimit: Int?
    /// `status`: OPEN/STOP, UP/DOWN, "UP 1/3", MAINT, DRAIN, "no check".
    public var status: String
    /// Effective weight (`weight`) and configured/runtime weight (`uweight`).
    public var weight: Int?
    public var userWeight: Int?
    /// `act`, `bck`: for a server 1/0 flags; for a backend the number of usable servers.
    public var active: Int?
    public var backup: Int?
    public var failedChecks: Int?
    public var downTransitions: Int?
    public var secondsSinceChange: Int64?
    public var downtimeSeconds: Int64?
    public var selectedTotal: Int?
    public var checkStatus: String?
    public var checkCode: Int?
    public var checkDurationMilliseconds: Int64?
    /// `check_desc`: "Layer7 check passed".
    public var checkDescription: String?
    /// `last_chk`: the check's detail ("Connection refused", the HTTP reason).
    public var lastCheckInfo: String?
    public var checkRise: Int?
    public var checkFall: Int?
    public var checkHealth: Int?
    public var address: String?
    public var mode: String
    public var algorithm: String?
    public var secondsSinceLastSession: Int64?
    /// The server's admin state (nil for frontend/backend rows), for the page's colours and actions.
    public var admin: AdminState?
    public var isBackupServer: Bool

    public init(kind: StatsRowKind, proxy: String, service: String, proxyID: Int, serverID: Int = 0, mode: String) {
        self.kind = kind
        self.proxy = proxy
        self.service = service
        self.proxyID = proxyID
        self.serverID = serverID
        self.counters = TrafficCounters()
        self.status = ""
        self.mode = mode
        self.isBackupServer = false
    }

    /// UP-ish for colouring and for Prometheus' `state="UP"`.
    public var isUp: Bool {
        status == "OPEN" || status == "UP" || status.hasPrefix("UP ") || status == "no check" || status == "DRAIN"
    }
}

/// Every row, in HAProxy's order: per proxy its frontend, then its servers, then its backend.
public struct StatsSnapshot: Sendable, Equatable {
    public var process: ProcessStatsInput
    public var rows: [StatsRow]

    /// - Parameter now: the same monotonic origin the `ServerState`s were driven with.
    public init(process: ProcessStatsInput, proxies: [ProxyStatsInput], now: Duration) {
        self.process = process
        var rows: [StatsRow] = []
        for proxy in proxies {
            if let frontend = proxy.frontend {
                var row = StatsRow(
                    kind: .frontend, proxy: proxy.name, service: "FRONTEND", proxyID: proxy.id,
                    mode: proxy.mode)
                row.counters = frontend.counters
                row.sessionLimit = frontend.sessionLimit
                row.status = frontend.isOpen ? "OPEN" : "STOP"
                rows.append(row)
            }
            guard let backend = proxy.backend else { continue }
            var totalWeight = 0
            var totalUserWeight = 0
            var usableActive = 0
            var usableBackup = 0
            for (offset, server) in backend.servers.enumerated() {
                let row = Self.serverRow(proxy, server, serverID: offset + 1, now: now)
                if server.state.isUsable {
                    if server.state.settings.isBackup { usableBackup += 1 } else { usableActive += 1 }
                    if !server.state.settings.isBackup {
                        totalWeight += server.state.weight
                        totalUserWeight += server.state.weight
                    }
                }
                rows.append(row)
            }
            var row = StatsRow(
                kind: .backend, proxy: proxy.name, service: "BACKEND", proxyID: proxy.id,
                mode: proxy.mode)
            row.counters = backend.counters
            row.queueCurrent = backend.queueCurrent
            row.queueMax = backend.queueMax
            row.sessionLimit = backend.sessionLimit
            // A backend without servers (a stats-only `listen`) is UP, as HAProxy shows it.
            let usable = usableActive + usableBackup
            row.status = backend.servers.isEmpty || usable > 0 ? "UP" : "DOWN"
            row.weight = totalWeight
            row.userWeight = totalUserWeight
            row.active = usableActive
            row.backup = usableBackup
            row.downTransitions = backend.downTransitions
            row.secondsSinceChange = backend.secondsSinceChange
            row.downtimeSeconds = backend.servers.isEmpty ? nil : backend.downtimeSeconds
            row.selectedTotal = backend.servers.reduce(0) { $0 + $1.selectedTotal }
            row.algorithm = backend.algorithm
            row.secondsSinceLastSession = backend.servers.compactMap(\.secondsSinceLastSession).min()
            rows.append(row)
        }
        self.rows = rows
    }

    public init(process: ProcessStatsInput, rows: [StatsRow]) {
        self.process = process
        self.rows = rows
    }

    private static func serverRow(
        _ proxy: ProxyStatsInput, _ server: ServerStatsInput, serverID: Int, now: Duration
    ) -> StatsRow {
        let state = server.state
        let checks = state.checkCounters(at: now)
        var row = StatsRow(
            kind: .server, proxy: proxy.name, service: state.settings.name, proxyID: proxy.id,
            serverID: serverID, mode: proxy.mode)
        var counters = server.counters
        counters.currentSessions = server.currentSessions
        counters.maxSessions = max(counters.maxSessions, server.currentSessions)
        row.counters = counters
        row.queueCurrent = server.queueCurrent
        row.queueMax = server.queueMax
        row.sessionLimit = state.settings.maxConnections
        row.status = checks.status
        // HAProxy shows the effective weight: 0 while draining, the runtime weight otherwise (also when DOWN).
        row.weight = state.admin == .drain ? 0 : state.weight
        row.userWeight = state.weight
        row.active = state.settings.isBackup ? 0 : 1
        row.backup = state.settings.isBackup ? 1 : 0
        row.isBackupServer = state.settings.isBackup
        row.admin = state.admin
        row.secondsSinceChange = checks.secondsSinceChange
        row.downtimeSeconds = checks.downtimeSeconds
        row.selectedTotal = server.selectedTotal
        row.address = server.address
        row.secondsSinceLastSession = server.secondsSinceLastSession
        if let health = state.health {
            row.failedChecks = checks.failedChecks
            row.downTransitions = checks.downTransitions
            row.checkStatus = checks.checkStatus
            row.checkCode = checks.checkCode
            row.checkDurationMilliseconds = checks.checkDurationMilliseconds
            row.checkDescription = health.lastCheck.status.description
            row.lastCheckInfo = health.lastCheck.info ?? health.lastCheck.code.map(String.init)
            row.checkRise = health.settings.rise
            row.checkFall = health.settings.fall
            row.checkHealth = health.health
        }
        return row
    }

    public func rows(of proxy: String) -> [StatsRow] { rows.filter { $0.proxy == proxy } }

    public func row(_ proxy: String, _ service: String) -> StatsRow? {
        rows.first { $0.proxy == proxy && $0.service == service }
    }
}
