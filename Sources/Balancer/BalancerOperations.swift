import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The operator's side of a running balancer: traffic counters per frontend, backend and server, the
/// syslog sender, and the stats snapshot that the stats page, the Prometheus endpoint and the runtime
/// API render. Built once per configuration generation next to the `RuntimeTopology`.
final class BalancerOperations: Sendable {
    let process = LiveCounters()
    let frontends: [String: FrontendOperations]
    let backends: [String: BackendOperations]
    let syslog: SyslogSender
    let config: BalancerConfig
    let maxConnections: Int
    let threads: Int
    /// Wall-clock start (Unix seconds) and monotonic origin of this process.
    let startTimeSeconds: Int64
    let started = NIODeadline.now()
    let stopping = Atomic<Bool>(false)
    /// The runtime API sockets, open while the balancer runs.
    let controlChannels = Mutex<[(path: String, channel: Channel)]>([])

    init(
        config: BalancerConfig, topology: RuntimeTopology, maxConnections: Int, threads: Int, syslog: SyslogSender,
        startTimeSeconds: Int64? = nil
    ) {
        self.config = config
        self.maxConnections = maxConnections
        self.threads = threads
        self.syslog = syslog
        self.startTimeSeconds = startTimeSeconds ?? Int64(time(nil))
        var backends: [String: BackendOperations] = [:]
        for backend in topology.backends {
            backends[backend.name] = BackendOperations(runtime: backend)
        }
        var frontends: [String: FrontendOperations] = [:]
        let process = self.process
        for frontend in topology.frontends {
            frontends[frontend.name] = FrontendOperations(
                runtime: frontend, backends: frontend.routes.compactMap { backends[$0.backend.name] },
                process: process, syslog: syslog)
        }
        self.frontends = frontends
        self.backends = backends
    }

    var uptimeMilliseconds: Int64 { (NIODeadline.now() - self.started).nanoseconds / 1_000_000 }

    /// Every counter set whose rates the stats show: the process, each frontend, each backend and server.
    var allCounters: [LiveCounters] {
        [self.process] + self.frontends.values.map(\.counters)
            + self.backends.values.flatMap { [$0.counters] + $0.servers }
    }

    /// One rate sample of every counter set, at the same instant (the sampler's tick).
    func sampleRates() {
        let now = Duration.nanoseconds((NIODeadline.now() - self.started).nanoseconds)
        for counters in self.allCounters {
            counters.sampleRates(at: now)
        }
    }

    /// Samples the rates about once a second on one event loop until the returned task is cancelled. The
    /// first sample is taken now, so the first tick already reads a full second.
    func startRateSampler(on eventLoop: EventLoop) -> RepeatedTask {
        self.sampleRates()
        return eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            self.sampleRates()
        }
    }

    /// Every proxy's figures now, in declaration order, numbered as HAProxy numbers proxies (from 2).
    func snapshot(topology: RuntimeTopology) -> StatsSnapshot {
        let now = self.uptimeMilliseconds
        var order: [(location: SourceLocation, name: String)] = []
        for frontend in self.config.frontends where !order.contains(where: { $0.name == frontend.name }) {
            order.append((frontend.location, frontend.name))
        }
        for backend in self.config.backends where !order.contains(where: { $0.name == backend.name }) {
            order.append((backend.location, backend.name))
        }
        order.sort { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }
        var proxies: [ProxyStatsInput] = []
        var monotonicNow: Duration = .zero
        for (offset, entry) in order.enumerated() {
            var proxy = ProxyStatsInput(name: entry.name, id: offset + 2)
            if let frontend = topology.frontends.first(where: { $0.name == entry.name }) {
                proxy.mode = frontend.config.mode.rawValue
                proxy.frontend = FrontendStatsInput(
                    counters: self.frontends[entry.name]?.counters.value ?? TrafficCounters(),
                    sessionLimit: frontend.config.maxConn ?? self.maxConnections,
                    isOpen: !self.stopping.load(ordering: .relaxed))
            }
            if let backend = topology.backends.first(where: { $0.name == entry.name }),
                let operations = self.backends[entry.name]
            {
                proxy.mode = backend.config.mode.rawValue
                operations.observe(backend)
                let (state, stateNow) = backend.stateSnapshot()
                monotonicNow = stateNow
                let slots = backend.selector.servers
                let servers = state.servers.enumerated().map { index, server in
                    let counters = operations.servers[index].value
                    return ServerStatsInput(
                        state: server, counters: counters,
                        address: backend.servers[index].config.address.description,
                        currentSessions: slots.indices.contains(index) ? slots[index].connections : 0,
                        selectedTotal: counters.totalSessions,
                        secondsSinceLastSession: operations.servers[index].lastSessionMilliseconds.map {
                            (ExchangeRecorder.monotonicMilliseconds() - $0) / 1000
                        })
                }
                let frontendLimit =
                    topology.frontends.filter { $0.routes.contains { $0.backend === backend } }
                    .map { $0.config.maxConn ?? self.maxConnections }.reduce(0, +)
                let (sinceChange, downtime, downTransitions) = operations.history
                proxy.backend = BackendStatsInput(
                    counters: operations.counters.value, algorithm: backend.config.balance.description,
                    servers: servers, queueCurrent: backend.queue.count,
                    queueMax: max(operations.queueMax, backend.queue.count),
                    sessionLimit: backend.config.fullConn ?? max(1, frontendLimit / 10),
                    secondsSinceChange: sinceChange, downtimeSeconds: servers.isEmpty ? nil : downtime,
                    downTransitions: downTransitions)
            }
            proxies.append(proxy)
        }
        let counters = self.process.value
        var name = utsname()
        uname(&name)
        let node = withUnsafeBytes(of: &name.nodename) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let process = ProcessStatsInput(
            pid: Int(getpid()), threads: self.threads, uptimeSeconds: now / 1000,
            startTimeSeconds: self.startTimeSeconds, maxConnections: self.maxConnections,
            currentConnections: counters.currentSessions, totalConnections: counters.totalSessions,
            totalRequests: counters.requests, descriptorLimit: Int(clamping: limit.rlim_cur), nodeName: node,
            listeners: self.config.frontends.reduce(0) { $0 + $1.binds.count },
            stopping: self.stopping.load(ordering: .relaxed), sessionRate: counters.sessionRate,
            maxSessionRate: counters.maxSessionRate)
        return StatsSnapshot(process: process, proxies: proxies, now: monotonicNow)
    }
}

/// Counters of a backend and of each of its servers (same indexes as the selector).
final class BackendOperations: Sendable {
    let name: String
    let counters = LiveCounters()
    let servers: [LiveCounters]
    let serverNames: [String]
    let logTargets: [LogTarget]
    private let availability = Mutex(Availability())
    private let runtime: BackendRuntime
    private let queuePeak = Atomic<Int>(0)

    /// The backend's own UP/DOWN history (DOWN: no usable server), for `lastchg`, `downtime`, `chkdown`.
    struct Availability {
        var isDown = false
        var lastChange = NIODeadline.now()
        var downSince: NIODeadline?
        var pastDowntime: TimeAmount = .zero
        var downTransitions = 0
    }

    init(runtime: BackendRuntime) {
        self.runtime = runtime
        self.name = runtime.name
        self.servers = runtime.servers.map { _ in LiveCounters() }
        self.serverNames = runtime.servers.map(\.name)
        self.logTargets = runtime.config.logging.targets
    }

    /// A request joined the backend's queue: `qmax` follows the queue's length.
    func queueEntered() {
        let length = self.runtime.queue.count
        var seen = self.queuePeak.load(ordering: .relaxed)
        while length > seen {
            let (exchanged, original) = self.queuePeak.compareExchange(
                expected: seen, desired: length, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    var queueMax: Int { self.queuePeak.load(ordering: .relaxed) }

    /// Records the backend's availability after a state change (called on each state-change line and on
    /// each stats read, so a transition is seen when it happens).
    func observe(_ backend: BackendRuntime) {
        guard !backend.servers.isEmpty else { return }
        let usable = backend.health.withLock { $0.usableCount }
        let down = usable.active + usable.backup == 0
        let now = NIODeadline.now()
        self.availability.withLock { state in
            guard state.isDown != down else { return }
            state.isDown = down
            state.lastChange = now
            if down {
                state.downSince = now
                state.downTransitions += 1
            } else if let since = state.downSince {
                state.pastDowntime = state.pastDowntime + (now - since)
                state.downSince = nil
            }
        }
    }

    /// (seconds since the last change, total downtime in seconds, DOWN transitions).
    var history: (Int64, Int64, Int) {
        let now = NIODeadline.now()
        return self.availability.withLock { state in
            let current = state.downSince.map { now - $0 } ?? .zero
            return (
                (now - state.lastChange).nanoseconds / 1_000_000_000,
                (state.pastDowntime + current).nanoseconds / 1_000_000_000, state.downTransitions
            )
        }
    }
}

/// What a client connection of one frontend needs for counting and logging.
final class FrontendOperations: Sendable {
    let name: String
    let counters = LiveCounters()
    /// The counters of each backend the frontend can send to, in the order of its `routes`.
    let backends: [BackendOperations]
    let process: LiveCounters
    let logging: ProxyLogging
    let syslog: SyslogSender
    /// `logging.targets` resolved against `syslog`, for the line logged at the end of every exchange.
    let logRoutes: [SyslogSender.Route]

    init(runtime: FrontendRuntime, backends: [BackendOperations], process: LiveCounters, syslog: SyslogSender) {
        self.name = runtime.name
        self.backends = backends
        self.process = process
        self.logging = runtime.config.logging
        self.syslog = syslog
        self.logRoutes = syslog.routes(runtime.config.logging.targets)
    }
}

extension BalancerOperations {
    /// Opens the `stats socket` lines of the configuration.
    func openControlSockets(group: EventLoopGroup, control: RuntimeControl, logger: Logger) async {
        let channels = await ControlSocket.open(
            self.config.global.statsSockets, group: group, control: control, logger: logger)
        self.controlChannels.withLock { $0 += channels }
    }

    /// Closes the runtime API sockets (their files are removed) and marks the process as stopping.
    func closeControlSockets() async {
        self.stopping.store(true, ordering: .relaxed)
        let channels = self.controlChannels.withLock { channels -> [(path: String, channel: Channel)] in
            defer { channels.removeAll() }
            return channels
        }
        for (path, channel) in channels {
            try? await channel.close()
            // Only the file this generation created: after a reload the path belongs to the new one.
            if ControlSocket.tcpAddress(path) == nil { unlink(path) }
        }
    }

    /// What one client connection of this frontend records with: the byte meter (told by the connection's
    /// receive-buffer allocator) and the exchange recorder the proxy handler calls.
    func connectionRecording(for frontend: FrontendRuntime) -> (meter: TrafficMeter, recorder: ExchangeRecorder) {
        let operations = self.frontends[frontend.name] ?? FrontendOperations.detached(frontend, self)
        let meter = TrafficMeter(operations: operations)
        return (meter, ExchangeRecorder(operations: operations, meter: meter))
    }
}

extension FrontendOperations {
    /// For a frontend unknown to the registry (cannot happen with one topology; keeps the pipeline total).
    static func detached(_ frontend: FrontendRuntime, _ operations: BalancerOperations) -> FrontendOperations {
        FrontendOperations(runtime: frontend, backends: [], process: operations.process, syslog: operations.syslog)
    }
}

extension BalancerConfig {
    /// Every `log` target of the configuration (global and per proxy), for opening the syslog sockets once.
    var allLogTargets: [LogTarget] {
        self.global.logTargets + self.frontends.flatMap(\.logging.targets) + self.backends.flatMap(\.logging.targets)
    }
}
