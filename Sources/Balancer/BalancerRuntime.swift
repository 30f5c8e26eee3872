import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import Synchronization

/// Process-level knobs that are not in haproxy.cfg (or are resolved from it by the command).
public struct BalancerOptions: Sendable {
    /// The effective `global maxconn` (after `effectiveMaxConn` capped it to the descriptor limit).
    public var maxConnections: Int
    /// How long a graceful stop waits for in-flight requests before closing what is left.
    public var gracePeriod: TimeAmount
    /// How long an unused keep-alive connection to a server stays pooled (HAProxy's `pool-purge-delay`).
    public var poolIdleTimeout: TimeAmount
    /// Idle keep-alive connections kept per server and event loop.
    public var poolMaxIdlePerServer: Int

    public init(
        maxConnections: Int,
        gracePeriod: TimeAmount = .seconds(10),
        poolIdleTimeout: TimeAmount = .seconds(5),
        poolMaxIdlePerServer: Int = 256
    ) {
        self.maxConnections = maxConnections
        self.gracePeriod = gracePeriod
        self.poolIdleTimeout = poolIdleTimeout
        self.poolMaxIdlePerServer = poolMaxIdlePerServer
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = self.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension TimeAmount {
    var milliseconds: Int64 { self.nanoseconds / 1_000_000 }
}

/// A configured server with its address resolved. Shared by every event loop; immutable.
final class ServerRuntime: Sendable {
    let name: String
    /// Position in the backend (the selector's slot index).
    let index: Int
    /// Position among every server of the process, the key of the per-loop pools.
    let poolKey: Int
    let address: SocketAddress
    let checkAddress: SocketAddress
    let config: Server

    init(config: Server, index: Int, poolKey: Int, address: SocketAddress, checkAddress: SocketAddress) {
        self.name = config.name
        self.index = index
        self.poolKey = poolKey
        self.address = address
        self.checkAddress = checkAddress
        self.config = config
    }
}

/// A backend as the proxy runs it: its servers, the shared selector (global round robin, server
/// up/down, connection counts) and the queue of requests waiting for a free `maxconn` slot.
final class BackendRuntime: Sendable {
    let name: String
    let config: Backend
    let servers: [ServerRuntime]
    let selector: SharedBackendSelector
    let queue: BackendQueue
    let retryPolicy: RetryPolicy
    /// The core's control-plane state (rise/fall, admin state); checkers of several loops feed it.
    let health: Mutex<BackendState>
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    /// Set once by the load balancer: carries out the core's actions that need I/O.
    let actions = Mutex<ActionSink?>(nil)

    struct ActionSink: Sendable {
        let log: @Sendable (LogLevel, String) -> Void
        let scheduleCheck: @Sendable (Int, Duration) -> Void
    }

    init(config: Backend, servers: [ServerRuntime], selector: SharedBackendSelector) {
        self.name = config.name
        self.config = config
        self.servers = servers
        self.selector = selector
        self.queue = BackendQueue()
        self.retryPolicy = RetryPolicy(
            retries: config.retries,
            redispatch: RuntimeTopology.redispatch(config.redispatch),
            timeoutConnect: config.timeouts.connect ?? .seconds(5),
            algorithm: RuntimeTopology.algorithm(config.balance)
        )
        self.started = self.clock.now
        self.health = Mutex(
            BackendState(
                name: config.name,
                servers: config.servers.map { server in
                    ServerSettings(
                        name: server.name,
                        weight: server.weight,
                        isBackup: server.isBackup,
                        check: server.checkEnabled
                            ? CheckSettings(
                                rise: server.rise,
                                fall: server.fall,
                                inter: server.checkInterval,
                                fastInter: server.fastInterval,
                                downInter: server.downInterval
                            ) : nil,
                        slowstart: nil,
                        maxConnections: server.maxConn,
                        startsInMaintenance: server.isDisabled
                    )
                }
            )
        )
    }

    var now: Duration { self.clock.now - self.started }

    /// First checks, spread over each server's interval by the core.
    func startChecks() {
        let actions = self.health.withLock { $0.start() }
        self.perform(actions)
    }

    func checkCompleted(_ server: Int, _ report: CheckReport) {
        let sessions = SessionCounts(
            active: self.selector.servers[server].connections,
            requeued: 0,
            queued: self.queue.count
        )
        let now = self.now
        let actions = self.health.withLock { $0.checkCompleted(server: server, report, now: now, sessions: sessions) }
        self.perform(actions)
    }

    func perform(_ actions: [BackendAction]) {
        guard let sink = self.actions.withLock({ $0 }) else { return }
        for action in actions {
            switch action {
            case .log(let level, let line): sink.log(level, line)
            case .setUsable(let server, let usable): self.selector.setUsable(server, usable)
            case .setWeight(let server, let weight): self.selector.setWeight(server, weight)
            case .scheduleCheck(let server, let delay): sink.scheduleCheck(server, delay)
            case .scheduleSlowstartStep: break  // slowstart is not configured through BalancerRuntime yet
            }
        }
    }

    var connectTimeout: TimeAmount? { self.config.timeouts.connect?.timeAmount }
    var serverTimeout: TimeAmount? { self.config.timeouts.server?.timeAmount }
    var queueTimeout: TimeAmount? { self.config.timeouts.effectiveQueue?.timeAmount }

    /// Gives a server slot back and lets the oldest queued request (if any) try again.
    func release(_ index: Int) {
        self.selector.release(index)
        self.queue.wakeOne()
    }
}

/// Where a frontend sends a request: one backend, with what the frontend and that backend decide together
/// (HAProxy settles these per stream once its backend is known).
final class Route: Sendable {
    let backend: BackendRuntime
    /// Position in the frontend's `routes` (and in its `FrontendOperations.backends`).
    let index: Int
    let forwardFor: ForwardFor?
    /// False with `option httpclose` in the frontend or the backend: the client connection closes after each
    /// response.
    let keepsClientAlive: Bool
    /// False with `option http-server-close` or `httpclose` in either: one server connection per request.
    let reusesServerConnections: Bool
    /// The backend's `http-request` rules, run once the request is routed to it.
    let requestRules: [HTTPRequestRule]
    /// `http-response` rules for this backend's responses: the backend's, then the frontend's (HAProxy's order).
    let responseRules: [HTTPResponseRule]

    init(frontend: Frontend, backend: BackendRuntime, index: Int) {
        self.backend = backend
        self.index = index
        self.requestRules = backend.config.httpRequestRules
        self.responseRules = backend.config.httpResponseRules + frontend.httpResponseRules
        // HAProxy adds the header when either the frontend or the backend enables it; the frontend's wins.
        self.forwardFor = frontend.forwardFor ?? backend.config.forwardFor
        // HAProxy: the stricter of the frontend's and the backend's `option http-server-close` / `httpclose`.
        let modes = [frontend.httpConnectionMode, backend.config.httpConnectionMode]
        self.keepsClientAlive = !modes.contains(.close)
        self.reusesServerConnections = !modes.contains(.close) && !modes.contains(.serverClose)
    }
}

/// A frontend as the proxy runs it.
final class FrontendRuntime: Sendable {
    let name: String
    let config: Frontend
    /// One route per backend the frontend can send to (`use_backend` rules and `default_backend`).
    let routes: [Route]
    /// The `use_backend` rules in order, each with its route; the first whose condition holds wins.
    private let rules: [(condition: Condition?, route: Route)]
    /// `default_backend`'s route: for a request no rule took.
    private let fallback: Route?
    let limiter: ConnectionLimiter?

    init(config: Frontend, backends: [String: BackendRuntime]) throws {
        self.name = config.name
        self.config = config
        var routes: [Route] = []
        func route(_ name: String) throws -> Route {
            if let existing = routes.first(where: { $0.backend.name == name }) { return existing }
            guard let backend = backends[name] else {
                throw BalancerStartError.unknownBackend(frontend: config.name, backend: name)
            }
            let route = Route(frontend: config, backend: backend, index: routes.count)
            routes.append(route)
            return route
        }
        self.rules = try config.useBackends.map { ($0.condition, try route($0.backend)) }
        self.fallback = try config.defaultBackend.map { try route($0) }
        self.routes = routes
        self.limiter = config.maxConn.map { ConnectionLimiter(limit: $0) }
        self.requestRules = config.httpRequestRules
        // Without a backend, the frontend's own connection options alone.
        self.keepsClientAlive = config.httpConnectionMode != .close
    }

    /// The route of a request (or, in `mode tcp`, of a connection): the first `use_backend` whose condition
    /// holds, else `default_backend`; nil when there is neither (503). Without conditions (the seed) nothing is
    /// evaluated: the first rule, or the default, is taken at once.
    func route(for subject: some ACLSubject) -> Route? {
        for rule in self.rules where rule.condition?.matches(subject) ?? true {
            return rule.route
        }
        return self.fallback
    }

    /// Whether a request refused before any backend is chosen (400, 408) may leave the connection open.
    let keepsClientAlive: Bool
    /// The frontend's `http-request` rules (most frontends have none: nothing runs per request).
    let requestRules: [HTTPRequestRule]

    var httpRequestTimeout: TimeAmount? { self.config.timeouts.effectiveHTTPRequest?.timeAmount }
    var keepAliveTimeout: TimeAmount? { self.config.timeouts.effectiveHTTPKeepAlive?.timeAmount }
    var clientTimeout: TimeAmount? { self.config.timeouts.client?.timeAmount }
}

/// Errors raised while turning a configuration into running listeners and servers.
public enum BalancerStartError: Error, CustomStringConvertible {
    case unresolvableServer(backend: String, server: String, address: String, underlying: Error)
    case unknownBackend(frontend: String, backend: String)
    case bindFailed(frontend: String, address: String, underlying: Error)
    /// A frontend and the backend it sends to differ in `mode` (the parser refuses that; a configuration built
    /// in code gets it here).
    case modeMismatch(frontend: String, backend: String)

    public var description: String {
        switch self {
        case .unresolvableServer(let backend, let server, let address, let underlying):
            return "[ALERT] config : backend '\(backend)': could not resolve address '\(address)' of server "
                + "'\(server)': \(underlying)"
        case .unknownBackend(let frontend, let backend):
            return "[ALERT] config : proxy '\(frontend)': unable to find required default_backend: '\(backend)'."
        case .bindFailed(let frontend, let address, let underlying):
            return "[ALERT] config : Starting frontend \(frontend): cannot bind socket (\(underlying)) [\(address)]"
        case .modeMismatch(let frontend, let backend):
            return "[ALERT] config : frontend '\(frontend)' and its backend '\(backend)' have different modes "
                + "(see 'mode')."
        }
    }
}

/// Builds the shared runtime objects from a parsed configuration.
struct RuntimeTopology: Sendable {
    let frontends: [FrontendRuntime]
    let backends: [BackendRuntime]
    let serverCount: Int

    init(config: BalancerConfig) throws {
        var backends: [BackendRuntime] = []
        var poolKey = 0
        for backend in config.backends {
            var servers: [ServerRuntime] = []
            var slots: [ServerSlot] = []
            for (index, server) in backend.servers.enumerated() {
                let address: SocketAddress
                let checkAddress: SocketAddress
                do {
                    address = try SocketAddress.makeAddressResolvingHost(
                        server.address.host.description,
                        port: server.address.port
                    )
                    checkAddress = try SocketAddress.makeAddressResolvingHost(
                        server.checkAddress?.description ?? server.address.host.description,
                        port: server.checkPort ?? server.address.port
                    )
                } catch {
                    throw BalancerStartError.unresolvableServer(
                        backend: backend.name,
                        server: server.name,
                        address: server.address.description,
                        underlying: error
                    )
                }
                servers.append(
                    ServerRuntime(
                        config: server,
                        index: index,
                        poolKey: poolKey,
                        address: address,
                        checkAddress: checkAddress
                    )
                )
                poolKey += 1
                slots.append(
                    ServerSlot(
                        name: server.name,
                        id: index + 1,
                        weight: server.weight,
                        isBackup: server.isBackup,
                        maxConnections: server.maxConn,
                        isUsable: !server.isDisabled
                    )
                )
            }
            let selector = SharedBackendSelector(
                BackendSelector(
                    servers: slots,
                    algorithm: RuntimeTopology.algorithm(backend.balance),
                    seed: UInt64.random(in: 0...UInt64.max)
                )
            )
            backends.append(BackendRuntime(config: backend, servers: servers, selector: selector))
        }
        let byName = Dictionary(backends.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let frontends = try config.frontends.map { try FrontendRuntime(config: $0, backends: byName) }
        self.frontends = frontends
        self.backends = backends
        self.serverCount = poolKey
    }

    /// No `option redispatch` line (nil) selects Portico's zero-loss default; `no option redispatch` HAProxy's
    /// plain retries on the same server. See RetryPolicy.
    static func redispatch(_ setting: Redispatch) -> RetryPolicy.Redispatch? {
        switch setting {
        case .unset: return nil
        case .off: return .off
        case .on(let interval): return .interval(interval)
        }
    }

    static func algorithm(_ balance: HAProxyConfig.BalanceAlgorithm) -> BalancerCore.BalanceAlgorithm {
        switch balance {
        case .roundRobin: return .roundRobin
        case .staticRoundRobin: return .staticRoundRobin
        case .leastConn: return .leastConnections
        case .source: return .source
        case .first: return .first
        case .random(let draws): return .random(draws: draws)
        }
    }
}
