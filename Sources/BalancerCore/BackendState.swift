/// Administrative state set by the operator (`disabled`, `set server B/S state ready|drain|maint`).
public enum AdminState: String, Sendable, Equatable {
    /// Normal operation.
    case ready
    /// UP and checked, but sent no new traffic; in-flight and persistent sessions finish.
    case drain
    /// Taken out: no traffic, checks paused.
    case maintenance
}

/// Syslog severities (RFC 5424 §6.2.1 numbering, shared with RFC 3164).
public enum LogLevel: Int, Sendable, Equatable, Comparable, CaseIterable {
    case emergency = 0
    case alert, critical, error, warning, notice, info, debug

    /// The keyword haproxy.cfg uses (`log 127.0.0.1 local2 notice`).
    public var keyword: String {
        switch self {
        case .emergency: return "emerg"
        case .alert: return "alert"
        case .critical: return "crit"
        case .error: return "err"
        case .warning: return "warning"
        case .notice: return "notice"
        case .info: return "info"
        case .debug: return "debug"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the configuration says about one server, as far as its state is concerned.
public struct ServerSettings: Sendable, Equatable {
    public var name: String
    /// Configured weight, 0...256 (HAProxy's default is 1).
    public var weight: Int
    public var isBackup: Bool
    /// `nil` when the server line has no `check`: it is always considered UP ("no check").
    public var check: CheckSettings?
    /// `slowstart`: after coming UP, the weight ramps from almost nothing to full over this time.
    public var slowstart: Duration?
    public var maxConnections: Int?
    /// `disabled`: the server starts in maintenance.
    public var startsInMaintenance: Bool

    public init(
        name: String,
        weight: Int = 1,
        isBackup: Bool = false,
        check: CheckSettings? = nil,
        slowstart: Duration? = nil,
        maxConnections: Int? = nil,
        startsInMaintenance: Bool = false
    ) {
        self.name = name
        self.weight = weight
        self.isBackup = isBackup
        self.check = check
        self.slowstart = slowstart
        self.maxConnections = maxConnections
        self.startsInMaintenance = startsInMaintenance
    }
}

/// Sessions figures the log lines print; the I/O layer knows them, the state machine does not.
public struct SessionCounts: Sendable, Equatable {
    /// Sessions currently on the server.
    public var active: Int
    /// Sessions moved to another server (or from the backend queue) by this change.
    public var requeued: Int
    /// Requests waiting in the server's (DOWN) or the backend's (UP) queue.
    public var queued: Int

    public init(active: Int = 0, requeued: Int = 0, queued: Int = 0) {
        self.active = active
        self.requeued = requeued
        self.queued = queued
    }
}

/// What the I/O layer must do after a state change. Server indexes match `BackendSelector`'s.
public enum BackendAction: Sendable, Equatable {
    /// Log this line (to syslog and, for warnings and worse, to stderr as HAProxy does).
    case log(LogLevel, String)
    /// Apply to `SharedBackendSelector.setUsable`.
    case setUsable(server: Int, Bool)
    /// Apply to `SharedBackendSelector.setWeight` (effective weight, see `ServerState.effectiveWeight`).
    case setWeight(server: Int, Int)
    /// Run the server's next check after this delay, replacing any pending check timer for it.
    case scheduleCheck(server: Int, after: Duration)
    /// Call `slowstartStep` for the server after this delay.
    case scheduleSlowstartStep(server: Int, after: Duration)
}

/// One server's control-plane state: checks, admin state, runtime weight, counters.
public struct ServerState: Sendable, Equatable {
    public let settings: ServerSettings
    /// `nil` for a server without `check`.
    public internal(set) var health: ServerHealth?
    public internal(set) var admin: AdminState
    /// Weight set at runtime (`set server B/S weight`), initially the configured one.
    public internal(set) var weight: Int
    /// When the state last changed (UP/DOWN/MAINT/DRAIN), for `lastchg`.
    public internal(set) var lastChange: Duration
    /// Start of the current slowstart ramp, if one is running.
    public internal(set) var rampStart: Duration?
    var downSince: Duration?
    var pastDowntime: Duration = .zero

    /// See `ServerSlot.weightScale`.
    public static let weightScale = ServerSlot.weightScale

    /// UP as far as checks and maintenance go (a DRAIN server is UP).
    public var isUp: Bool { admin != .maintenance && (health?.isUp ?? true) }

    /// Takes new traffic.
    public var isUsable: Bool { isUp && admin == .ready && weight > 0 }

    /// The stats page's status column: "UP", "UP 1/3", "DOWN", "DOWN 1/2", "MAINT", "DRAIN", "no check".
    public var statusText: String {
        switch admin {
        case .maintenance: return "MAINT"
        case .drain where isUp: return "DRAIN"
        default: return health?.statusText ?? "no check"
        }
    }

    /// Total time spent not UP (`downtime`), including the current outage.
    public func downtime(at now: Duration) -> Duration {
        pastDowntime + (downSince.map { now - $0 } ?? .zero)
    }

    /// The weight to give the selector at `now`: `weight × 16`, scaled down during slowstart
    /// (at least 1 so the server takes a trickle from the first moment).
    public func effectiveWeight(at now: Duration) -> Int {
        let full = weight * Self.weightScale
        guard full > 0, let start = rampStart, let slowstart = settings.slowstart, slowstart > .zero else {
            return full
        }
        let elapsed = now - start
        guard elapsed < slowstart else { return full }
        let fraction = elapsed / slowstart
        return max(1, min(full, Int((Double(full) * fraction).rounded(.up))))
    }
}

/// The control-plane state of one backend's servers: health checks, admin states and weights.
/// It decides; the I/O layer executes the returned actions (timers, selector updates, log lines).
/// `now` is a monotonic instant expressed as time since an arbitrary origin: tests use a virtual clock.
///
/// Log lines are worded exactly as HAProxy 2.6 prints them (checked against the real binary), e.g.
/// `Server web_backend/web01 is DOWN, reason: Layer4 connection problem, info: "Connection refused",
/// check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining
/// in queue.` followed, when nothing is left, by `backend web_backend has no server available!`.
public struct BackendState: Sendable {
    public let name: String
    public internal(set) var servers: [ServerState]
    /// `option log-health-checks`: log every check that changes a server's health counter, and word
    /// the UP/DOWN lines without the check detail (already logged), as HAProxy does.
    public let logsHealthChecks: Bool

    public init(name: String, servers: [ServerSettings], logsHealthChecks: Bool = false, now: Duration = .zero) {
        self.name = name
        self.logsHealthChecks = logsHealthChecks
        self.servers = servers.map { settings in
            var server = ServerState(
                settings: settings,
                health: settings.check.map(ServerHealth.init(settings:)),
                admin: settings.startsInMaintenance ? .maintenance : .ready,
                weight: min(256, max(0, settings.weight)),
                lastChange: now,
                rampStart: nil
            )
            // Downtime counts from start-up for a server that starts in maintenance or `init-state down`.
            if !server.isUp { server.downSince = now }
            return server
        }
    }

    public func index(of server: String) -> Int? {
        servers.firstIndex { $0.settings.name == server }
    }

    /// The selector matching this state (same indexes, usable flags and effective weights). Prefer it to
    /// building `ServerSlot`s by hand: both must agree on indexes and on the weight scale.
    public func makeSelector(
        algorithm: BalanceAlgorithm,
        allBackups: Bool = false,
        seed: UInt64 = 0,
        now: Duration = .zero
    ) -> BackendSelector {
        let slots = servers.enumerated().map { offset, server in
            ServerSlot(
                name: server.settings.name,
                id: offset + 1,
                effectiveWeight: server.effectiveWeight(at: now),
                isBackup: server.settings.isBackup,
                maxConnections: server.settings.maxConnections,
                isUsable: server.isUsable
            )
        }
        return BackendSelector(servers: slots, algorithm: algorithm, allBackups: allBackups, seed: seed)
    }

    /// Servers taking new traffic, split as HAProxy counts them in its log lines.
    public var usableCount: (active: Int, backup: Int) {
        var active = 0
        var backup = 0
        for server in servers where server.isUsable {
            if server.settings.isBackup { backup += 1 } else { active += 1 }
        }
        return (active, backup)
    }

    /// First checks, spread evenly over each server's `inter` so they do not fire together.
    public func start() -> [BackendAction] {
        let checked = servers.indices.filter { servers[$0].health != nil && servers[$0].admin != .maintenance }
        return checked.enumerated().map { position, index in
            let inter = servers[index].settings.check?.inter ?? .seconds(2)
            return .scheduleCheck(server: index, after: inter * position / checked.count)
        }
    }

    /// A check of `server` finished. Results that arrive while the server is in maintenance are
    /// dropped and no further check is scheduled (HAProxy pauses checks in MAINT).
    public mutating func checkCompleted(
        server index: Int,
        _ report: CheckReport,
        now: Duration,
        sessions: SessionCounts = SessionCounts()
    ) -> [BackendAction] {
        guard servers.indices.contains(index), var health = servers[index].health,
            servers[index].admin != .maintenance
        else { return [] }
        let label = self.label(index)
        let before = snapshot(index)
        let crossed = health.record(report)
        servers[index].health = health
        var actions: [BackendAction] = []
        if logsHealthChecks, before.health?.health != health.health {
            actions.append(.log(.notice, healthCheckLine(index, report, health)))
        }
        if crossed {
            let detail = logsHealthChecks ? "" : ", " + report.logDetail
            actions += transition(index, from: before, now: now) { server, counts in
                server.isUp
                    ? "\(label) is UP\(detail). \(counts.online(sessions))"
                    : "\(label) is DOWN\(detail). \(counts.left(sessions))"
            }
        }
        actions.append(.scheduleCheck(server: index, after: health.nextInterval))
        return actions
    }

    /// `set server B/S state ready|drain|maint` (also `disable server` / `enable server`).
    public mutating func setAdmin(
        server index: Int,
        _ admin: AdminState,
        now: Duration,
        sessions: SessionCounts = SessionCounts()
    ) -> [BackendAction] {
        guard servers.indices.contains(index), servers[index].admin != admin else { return [] }
        let label = self.label(index)
        let before = snapshot(index)
        let previous = servers[index].admin
        var actions: [BackendAction] = []
        if previous == .maintenance {
            // "start OK but check immediately": UP 1/fall, and the first failed check takes it down.
            servers[index].health?.restart()
            servers[index].admin = .ready
            actions += transition(index, from: before, now: now, level: .notice) { _, _ in
                "\(label) is UP/READY (leaving forced maintenance)."
            }
            if servers[index].health != nil {
                actions.append(.scheduleCheck(server: index, after: .zero))
            }
            if admin == .ready { return actions }
        }
        let middle = snapshot(index)
        servers[index].admin = admin
        switch admin {
        case .maintenance:
            let wasUp = middle.isUp
            actions += transition(index, from: middle, now: now, level: .notice) { _, counts in
                wasUp
                    ? "\(label) is going DOWN for maintenance. \(counts.left(sessions))"
                    : "\(label) was DOWN and now enters maintenance."
            }
        case .drain:
            actions += transition(index, from: middle, now: now, level: .notice) { _, counts in
                "\(label) enters drain state. \(counts.online(sessions))"
            }
        case .ready:
            actions += transition(index, from: middle, now: now, level: .notice) { _, _ in
                "\(label) is UP (leaving forced drain)."
            }
        }
        return actions
    }

    /// `set server B/S health up|down`: forces the check state (ignored for servers without `check`).
    /// In maintenance the health changes silently and shows once the server is enabled again.
    public mutating func setHealth(
        server index: Int,
        up: Bool,
        now: Duration,
        sessions: SessionCounts = SessionCounts()
    ) -> [BackendAction] {
        guard servers.indices.contains(index), var health = servers[index].health else { return [] }
        let label = self.label(index)
        let before = snapshot(index)
        let crossed = health.force(up: up)
        servers[index].health = health
        guard crossed, servers[index].admin != .maintenance else { return [] }
        return transition(index, from: before, now: now) { server, counts in
            server.isUp
                ? "\(label) is UP, changed from CLI. \(counts.online(sessions))"
                : "\(label) is DOWN, changed from CLI. \(counts.left(sessions))"
        }
    }

    /// `set server B/S weight N` (0...256). Weight 0 keeps the server UP but sends it nothing.
    public mutating func setWeight(server index: Int, _ weight: Int, now: Duration) -> [BackendAction] {
        guard servers.indices.contains(index) else { return [] }
        let before = snapshot(index)
        servers[index].weight = min(256, max(0, weight))
        var actions: [BackendAction] = [.setWeight(server: index, servers[index].effectiveWeight(at: now))]
        if before.isUsable != servers[index].isUsable {
            actions.append(.setUsable(server: index, servers[index].isUsable))
            if before.isUsable { actions += noServerAlertIfEmpty() }
        }
        return actions
    }

    /// One step of a slowstart ramp: the new effective weight and, until the ramp ends, the next step.
    public mutating func slowstartStep(server index: Int, now: Duration) -> [BackendAction] {
        guard servers.indices.contains(index), let start = servers[index].rampStart,
            let slowstart = servers[index].settings.slowstart
        else { return [] }
        guard servers[index].isUp else {
            servers[index].rampStart = nil
            return []
        }
        let weight = servers[index].effectiveWeight(at: now)
        if now - start >= slowstart {
            servers[index].rampStart = nil
            return [.setWeight(server: index, weight)]
        }
        return [.setWeight(server: index, weight), .scheduleSlowstartStep(server: index, after: slowstart / 16)]
    }

    // MARK: - Transitions

    /// `Health check for server web_backend/web01 failed, reason: ..., check duration: 2ms, status: 2/3 UP.`
    private func healthCheckLine(_ index: Int, _ report: CheckReport, _ health: ServerHealth) -> String {
        let kind = servers[index].settings.isBackup ? "backup server" : "server"
        let verdict = report.status.passed ? "succeeded" : "failed"
        let settings = health.settings
        let status =
            health.isUp
            ? "\(health.health - settings.rise + 1)/\(settings.fall) UP"
            : "\(health.health)/\(settings.rise) DOWN"
        return "Health check for \(kind) \(name)/\(servers[index].settings.name) \(verdict), "
            + "\(report.logDetail), status: \(status)."
    }

    private func snapshot(_ index: Int) -> ServerState { servers[index] }

    /// "Server web_backend/web01" or "Backup Server web_backend/web03".
    private func label(_ index: Int) -> String {
        (servers[index].settings.isBackup ? "Backup Server " : "Server ") + "\(name)/\(servers[index].settings.name)"
    }

    /// Bookkeeping shared by every change: counters, selector updates, slowstart, the log line and
    /// the backend alert when the last usable server goes.
    private mutating func transition(
        _ index: Int,
        from before: ServerState,
        now: Duration,
        level: LogLevel? = nil,
        message: (ServerState, ServerCounts) -> String
    ) -> [BackendAction] {
        var server = servers[index]
        if before.isUp != server.isUp || before.admin != server.admin {
            server.lastChange = now
        }
        if before.isUp && !server.isUp {
            server.downSince = now
            server.rampStart = nil
        } else if !before.isUp && server.isUp {
            if let since = server.downSince { server.pastDowntime += now - since }
            server.downSince = nil
            if server.settings.slowstart != nil { server.rampStart = now }
        }
        servers[index] = server
        let counts = ServerCounts(active: usableCount.active, backup: usableCount.backup)
        let lineLevel = level ?? (server.isUp ? .notice : .alert)
        var actions: [BackendAction] = [.log(lineLevel, message(server, counts))]
        // The ramp's first weight goes out before the server becomes usable, so that no pick sees it
        // at full weight in between.
        let rampStarts = server.rampStart != nil && before.rampStart == nil
        if rampStarts || (before.rampStart != nil && server.rampStart == nil) {
            actions.append(.setWeight(server: index, server.effectiveWeight(at: now)))
        }
        if before.isUsable != server.isUsable {
            actions.append(.setUsable(server: index, server.isUsable))
        }
        if rampStarts, let slowstart = server.settings.slowstart {
            actions.append(.scheduleSlowstartStep(server: index, after: slowstart / 16))
        }
        if before.isUsable && !server.isUsable {
            actions += noServerAlertIfEmpty()
        }
        return actions
    }

    private func noServerAlertIfEmpty() -> [BackendAction] {
        let counts = usableCount
        guard counts.active + counts.backup == 0 else { return [] }
        return [.log(.emergency, "backend \(name) has no server available!")]
    }
}

/// The "N active and M backup servers ..." part of HAProxy's state-change lines.
struct ServerCounts {
    var active: Int
    var backup: Int

    func left(_ sessions: SessionCounts) -> String {
        "\(active) active and \(backup) backup servers left. \(sessions.active) sessions active, "
            + "\(sessions.requeued) requeued, \(sessions.queued) remaining in queue."
    }

    func online(_ sessions: SessionCounts) -> String {
        "\(active) active and \(backup) backup servers online. \(sessions.requeued) sessions requeued, "
            + "\(sessions.queued) total in queue."
    }
}
