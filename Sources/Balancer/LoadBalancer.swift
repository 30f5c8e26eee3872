import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The running HAProxy role: listeners for every frontend, the proxy pipeline, the per-loop server
/// connection pools and the health checkers. As a `Service`, it runs until graceful shutdown
/// (SIGTERM/SIGINT in a `ServiceGroup`), then stops accepting and lets in-flight requests finish
/// within `options.gracePeriod`.
public final class LoadBalancer: Service, Sendable {
    public let config: BalancerConfig
    public let options: BalancerOptions
    private let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let topology: RuntimeTopology
    private let pools: LoopPools
    private let globalLimiter: ConnectionLimiter
    private let checkers: [HealthChecker]
    let state = Mutex(RunState())
    /// Counters, syslog, stats snapshot and runtime API (issue 5).
    let operations: BalancerOperations
    let control: RuntimeControl
    let listenerSockets: ListenerSockets?

    struct RunState {
        var listeners: [(frontend: String, channel: Channel)] = []
        /// Takes the once-a-second rate samples while the balancer runs.
        var rateSampler: RepeatedTask?
        var started = false
        var stopped = false
    }

    /// - Parameters:
    ///   - threads: event loops; nil → `global nbthread`, else one per CPU (HAProxy 2.x's default).
    ///   - listeners: listening sockets shared across reloads (see `BalancerSupervisor`); nil: bind directly.
    public init(
        config: BalancerConfig, options: BalancerOptions, threads: Int? = nil, logger: Logger,
        listeners: ListenerSockets? = nil
    ) throws {
        self.listenerSockets = listeners
        for frontend in config.frontends {
            for name in frontend.reachableBackends {
                guard let backend = config.backends.first(where: { $0.name == name }) else { continue }
                if backend.mode != frontend.mode {
                    throw BalancerStartError.modeMismatch(frontend: frontend.name, backend: name)
                }
            }
        }
        self.config = config
        self.options = options
        self.logger = logger
        LoadBalancer.typeMetadataWarmedUp
        let count = max(1, threads ?? config.global.threadCount ?? System.coreCount)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: count)
        // Each reload builds a new group, so a changed cpu-map applies to the new threads.
        CPUPinning.apply(config.global.cpuMap, to: self.group, logger: logger)
        do {
            self.topology = try RuntimeTopology(config: config)
        } catch {
            try? self.group.syncShutdownGracefully()
            throw error
        }
        self.pools = LoopPools(group: self.group, serverCount: self.topology.serverCount, options: options)
        self.globalLimiter = ConnectionLimiter(limit: options.maxConnections)
        var checkers: [HealthChecker] = []
        for backend in self.topology.backends {
            for server in backend.servers where server.config.checkEnabled {
                checkers.append(
                    HealthChecker(server: server, backend: backend, eventLoop: self.group.next(), logger: logger)
                )
            }
        }
        self.checkers = checkers
        self.operations = BalancerOperations(
            config: config, topology: self.topology, maxConnections: options.maxConnections, threads: count,
            syslog: SyslogSender.open(targets: config.allLogTargets, logger: logger))
        self.control = RuntimeControl(topology: self.topology, operations: self.operations)
    }

    /// Instantiates the generic types every connection uses, once per process and on one thread only,
    /// before any event loop serves. The Swift runtime can crash when two threads instantiate the same
    /// generic metadata for the first time at once (swift_conformsToProtocol →
    /// isCanonicalStaticallySpecializedGenericMetadata, as in swiftlang/swift#58414): seen once with two
    /// event loops taking their first connections, and once with two balancers started by parallel tests
    /// each running this warm-up. A `static let` runs its initializer exactly once (swift_once); every other
    /// thread waits for it.
    public static let typeMetadataWarmedUp: Void = warmUpTypeMetadata()

    private static func warmUpTypeMetadata() {
        _ = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes))
        _ = ServerConnection.responseDecoder()
        _ = NIOAny(HTTPServerRequestPart.end(nil))
        _ = NIOAny(HTTPServerResponsePart.end(nil))
        _ = NIOAny(HTTPClientResponsePart.end(nil))
        _ = NIOAny(ByteBuffer())
        _ = NIOAny(IOData.byteBuffer(ByteBuffer()))
    }

    /// The addresses actually bound, per frontend (useful with port 0).
    public var boundAddresses: [(frontend: String, address: SocketAddress)] {
        self.state.withLock { state in
            state.listeners.compactMap { listener in
                listener.channel.localAddress.map { (listener.frontend, $0) }
            }
        }
    }

    public func boundAddress(frontend: String) -> SocketAddress? {
        self.boundAddresses.first { $0.frontend == frontend }?.address
    }

    /// Binds every frontend and starts the health checks. Idempotent.
    public func start() async throws {
        let alreadyStarted = self.state.withLock { state -> Bool in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { return }
        for frontend in self.topology.frontends {
            for bind in frontend.config.binds {
                let channel: Channel
                do {
                    channel = try await self.bind(
                        frontend,
                        host: bind.address.host.description,
                        port: bind.address.port
                    )
                } catch {
                    await self.stop()
                    throw BalancerStartError.bindFailed(
                        frontend: frontend.name,
                        address: bind.address.description,
                        underlying: error
                    )
                }
                self.state.withLock { $0.listeners.append((frontend.name, channel)) }
                self.logger.info(
                    "Proxy \(frontend.name) started on \(channel.localAddress.map { "\($0)" } ?? bind.text)."
                )
            }
        }
        let sampler = self.operations.startRateSampler(on: self.group.next())
        let keep = self.state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.rateSampler = sampler
            return true
        }
        if !keep { sampler.cancel() }
        await self.operations.openControlSockets(group: self.group, control: self.control, logger: self.logger)
        let logger = self.logger
        for backend in self.topology.backends {
            let checkers = Dictionary(
                self.checkers.filter { $0.backend === backend }.map { ($0.server.index, $0) },
                uniquingKeysWith: { first, _ in first }
            )
            backend.actions.withLock {
                $0 = BackendRuntime.ActionSink(
                    log: { [operations] level, line in
                        // HAProxy sends server state changes to syslog as alerts but prints them on stderr
                        // as warnings.
                        let stderrLevel: Logger.Level = line.hasPrefix("Server ") ? .warning : Logger.Level(level)
                        logger.log(level: stderrLevel, "\(line)")
                        operations.syslog.send(level, line, to: backend.config.logging.targets)
                        operations.backends[backend.name]?.observe(backend)
                    },
                    scheduleCheck: { server, delay in checkers[server]?.scheduleNext(after: delay) }
                )
            }
            backend.startChecks()
        }
    }

    func bind(_ frontend: FrontendRuntime, host: String, port: Int) async throws -> Channel {
        let limiters = [self.globalLimiter] + (frontend.limiter.map { [$0] } ?? [])
        let pools = self.pools
        let logger = self.logger
        let bufferSize = self.config.global.bufferSize
        let operations = self.operations
        let localService = LocalService(frontend: frontend.config, control: self.control)
        let isTCP = frontend.config.mode == .tcp
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: Int32(clamping: min(self.options.maxConnections, 4096)))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // One accept per read, so the AcceptGate sees the limit before the next connection is taken.
            .serverChannelOption(.maxMessagesPerRead, value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptGate(limiters: limiters, eventLoop: channel.eventLoop)
                    )
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let pool = pools.pool(for: channel.eventLoop) else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    let sync = channel.pipeline.syncOperations
                    let recording = operations.connectionRecording(for: frontend)
                    try channel.syncOptions?.setOption(
                        .recvAllocator, value: MeteredReceiveAllocator(meter: recording.meter))
                    let connection = ClientConnection(
                        environment: ProxyEnvironment(
                            frontend: frontend, pool: pool, logger: logger, localService: localService,
                            requestBufferSize: bufferSize),
                        recorder: recording.recorder
                    )
                    if isTCP {
                        // mode tcp: raw bytes from the start, and the client's FIN is relayed, not a close.
                        try channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                        try sync.addHandler(TunnelReader(end: connection))
                    } else {
                        try sync.addHandler(ClientConnection.requestDecoder(bufferSize: bufferSize))
                    }
                    // No response encoder: ClientConnection writes the response bytes itself.
                    try sync.addHandler(connection)
                }
            }
            .bind(host: host, port: port, sharing: self.listenerSockets)
            .get()
    }

    /// Runs until graceful shutdown, then drains.
    public func run() async throws {
        try await self.start()
        try? await gracefulShutdown()
        await self.stop()
    }

    /// Stops accepting, finishes in-flight requests within the grace period, closes the rest and
    /// releases the event loops. Idempotent.
    ///
    /// Connections already waiting in a listening socket's queue (the client sent its request; the
    /// balancer had not accepted it yet, at `maxconn` or just busy) are accepted and served first: closing
    /// the socket would reset them, which HAProxy does on stop. New ones keep arriving until the socket
    /// closes, so the wait for an empty queue is bounded (1 s).
    /// - Parameter listenersClosed: runs once this generation's listening channels are closed (the supervisor
    ///   closes the shared sockets then, so that later connections are refused at once, not queued).
    public func stop(listenersClosed: (@Sendable () -> Void)? = nil) async {
        let stopping = self.state.withLock { state -> (listeners: [Channel], sampler: RepeatedTask?)? in
            guard !state.stopped else { return nil }
            state.stopped = true
            defer { state.rateSampler = nil }
            return (state.listeners.map(\.channel), state.rateSampler)
        }
        guard let (listeners, sampler) = stopping else { return }
        sampler?.cancel()
        await self.operations.closeControlSockets()
        await Self.drainAcceptQueues(listeners, within: .seconds(1))
        for listener in listeners {
            try? await listener.close()
        }
        listenersClosed?()
        for checker in self.checkers {
            checker.stop()
        }
        for pool in self.pools.all {
            try? await pool.eventLoop.submit { pool.drain() }.get()
        }
        let deadline = NIODeadline.now() + self.options.gracePeriod
        while NIODeadline.now() < deadline {
            var remaining = 0
            for pool in self.pools.all {
                remaining += (try? await pool.eventLoop.submit { pool.clientConnections.count }.get()) ?? 0
            }
            if remaining == 0 { break }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        for pool in self.pools.all {
            try? await pool.eventLoop.submit { pool.closeAll() }.get()
        }
        self.operations.syslog.close()
        try? await self.group.shutdownGracefully()
    }
}

extension LoadBalancer {
    /// Accepts what waits in the listening sockets' queues until they are empty (the kernel's count, TCP_INFO's
    /// `tcpi_unacked` on a listening socket) or `within` passes.
    static func drainAcceptQueues(_ listeners: [Channel], within limit: TimeAmount) async {
        for listener in listeners {
            if let gate = try? await listener.pipeline.handler(type: AcceptGate.self).get() { gate.drainQueue() }
        }
        let deadline = NIODeadline.now() + limit
        while NIODeadline.now() < deadline {
            var waiting: UInt32 = 0
            for listener in listeners {
                guard let provider = listener as? SocketOptionProvider,
                    let info = try? await provider.getTCPInfo().get()
                else { continue }
                waiting += info.tcpi_unacked
            }
            if waiting == 0 { return }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}

extension Logger.Level {
    /// HAProxy's syslog severities onto swift-log's levels.
    init(_ level: LogLevel) {
        switch level {
        case .emergency, .alert, .critical: self = .critical
        case .error: self = .error
        case .warning: self = .warning
        case .notice: self = .notice
        case .info: self = .info
        case .debug: self = .debug
        }
    }
}
