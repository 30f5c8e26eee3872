import BalancerCore
import Dispatch
import HAProxyConfig
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs `portico lb` across configuration reloads, the way HAProxy's master process does with `-W`:
///
/// - SIGHUP (`portico lb reload`, `systemctl reload`): the files are read and checked again. A broken
///   configuration is reported line by line and the running one is kept. A good one starts a new
///   generation that accepts on the same listening sockets (see `ListenerSockets`), with the health,
///   admin state and runtime weight of unchanged servers carried over; the old generation stops accepting
///   and finishes its in-flight requests on the old configuration, then goes away.
/// - SIGTERM/SIGINT (the `ServiceGroup`'s graceful shutdown) and SIGUSR1 (HAProxy's soft stop): stop
///   accepting, let in-flight requests finish within the grace period, exit 0.
public final class BalancerSupervisor: Service, Sendable {
    public typealias ConfigLoader = @Sendable () -> ConfigParseResult

    public enum Event: Sendable {
        case reload
        case softStop
    }

    private let load: ConfigLoader
    private let options: BalancerOptions
    private let optionsFor: (@Sendable (BalancerConfig) -> BalancerOptions)?
    private let threads: Int?
    private let logger: Logger
    private let listeners: ListenerSockets
    private let current: Mutex<LoadBalancer>
    private let retiring = Mutex<[Task<Void, Never>]>([])
    private let events: AsyncStream<Event>
    private let eventInput: AsyncStream<Event>.Continuation
    private let signalSources = Mutex<[DispatchSourceSignal]>([])

    /// - Parameters:
    ///   - config: the configuration already loaded and checked by the caller.
    ///   - load: reads and parses the files again on each reload.
    ///   - optionsFor: the options a reloaded configuration runs with (its `global maxconn` may have
    ///     changed); nil: `options` for every generation. The listen backlog stays the first one's.
    public init(
        config: BalancerConfig, load: @escaping ConfigLoader, options: BalancerOptions, threads: Int? = nil,
        logger: Logger, optionsFor: (@Sendable (BalancerConfig) -> BalancerOptions)? = nil
    ) throws {
        self.load = load
        self.options = options
        self.optionsFor = optionsFor
        self.threads = threads
        self.logger = logger
        self.listeners = ListenerSockets(backlog: Int32(clamping: min(options.maxConnections, 4096)))
        let first = try LoadBalancer(
            config: config, options: options, threads: threads, logger: logger, listeners: self.listeners)
        self.current = Mutex(first)
        (self.events, self.eventInput) = AsyncStream.makeStream(of: Event.self)
    }

    /// The generation serving now.
    public var balancer: LoadBalancer { self.current.withLock { $0 } }

    public func start() async throws {
        try await self.balancer.start()
    }

    /// Asks the run loop to reload (what SIGHUP does).
    public func requestReload() { self.eventInput.yield(.reload) }

    /// Asks the run loop for a soft stop (what SIGUSR1 does).
    public func requestSoftStop() { self.eventInput.yield(.softStop) }

    /// Turns SIGHUP into reloads and SIGUSR1 into a soft stop for this process.
    public func handleSignals() {
        var sources: [DispatchSourceSignal] = []
        for (signalNumber, event) in [(SIGHUP, Event.reload), (SIGUSR1, Event.softStop)] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            let input = self.eventInput
            source.setEventHandler { input.yield(event) }
            source.resume()
            sources.append(source)
        }
        self.signalSources.withLock { $0 += sources }
    }

    public func run() async throws {
        try await self.start()
        await withGracefulShutdownHandler {
            for await event in self.events {
                switch event {
                case .reload:
                    _ = await self.reload()
                case .softStop:
                    self.logger.notice("Soft stop requested (SIGUSR1): stopping listeners, finishing sessions.")
                    return
                }
            }
        } onGracefulShutdown: {
            self.eventInput.finish()
        }
        await self.stop()
    }

    /// Reads the configuration again and switches to it without dropping a connection. Returns false,
    /// keeping the running configuration, when the files have errors or the new generation cannot start.
    @discardableResult
    public func reload() async -> Bool {
        let result = self.load()
        for diagnostic in result.diagnostics {
            let place = diagnostic.location.map { "parsing [\($0)]" } ?? "config"
            self.logger.log(level: diagnostic.isAlert ? .error : .warning, "\(place) : \(diagnostic.message)")
        }
        guard !result.hasAlerts else {
            let count = result.alerts.count
            self.logger.error(
                "Reload refused: the new configuration has \(count) error(s); still running the previous configuration."
            )
            return false
        }
        let old = self.balancer
        let next: LoadBalancer
        do {
            next = try LoadBalancer(
                config: result.config, options: self.optionsFor?(result.config) ?? self.options,
                threads: self.threads, logger: self.logger, listeners: self.listeners)
        } catch {
            self.logger.error("Reload refused: \(error); still running the previous configuration.")
            return false
        }
        next.carryOver(from: old)
        // Hand-over: the old generation lets go of the listening sockets (they stay open, so new connections
        // wait in the kernel's queue), then the new one accepts from the same sockets. The two never poll one
        // socket at once, which would wake both for every connection. The runtime API socket path passes over
        // the same way.
        await old.stopAccepting()
        await old.operations.closeControlSockets()
        do {
            try await next.start()
        } catch {
            self.logger.error("Reload refused: \(error); still running the previous configuration.")
            await next.stop()
            do {
                try await old.resumeAccepting()
            } catch {
                self.logger.critical("Cannot listen again with the previous configuration: \(error)")
            }
            old.operations.stopping.store(false, ordering: .relaxed)
            await old.operations.openControlSockets(group: old.group, control: old.control, logger: self.logger)
            return false
        }
        self.current.withLock { $0 = next }
        let keys = Set(result.config.frontends.flatMap { $0.binds.map { "\($0.address.host):\($0.address.port)" } })
        self.listeners.retain(only: keys)
        // The old generation finishes its requests on its own configuration, in the background.
        let retire = Task { await old.stop() }
        self.retiring.withLock { tasks in
            tasks.append(retire)
        }
        self.logger.notice("Reload complete: new configuration running; previous one finishing its sessions.")
        return true
    }

    public func stop() async {
        let sources = self.signalSources.withLock { sources -> [DispatchSourceSignal] in
            defer { sources.removeAll() }
            return sources
        }
        for source in sources { source.cancel() }
        // Once the serving generation has taken what waited in the queues, the sockets close: a connection that
        // comes later is refused at once (the client can try the peer) instead of waiting out the grace period
        // in a queue nobody reads, then being reset.
        let listeners = self.listeners
        await self.balancer.stop(listenersClosed: { listeners.closeAll() })
        let tasks = self.retiring.withLock { tasks -> [Task<Void, Never>] in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { await task.value }
        self.listeners.closeAll()
    }
}

extension LoadBalancer {
    /// Hands the listening sockets back to the supervisor: stops polling them, lets the set-up of
    /// connections accepted a moment before finish (NIO closes, with a reset, the children of a listener
    /// closed while their set-up is still hopping between event loops), then closes this generation's
    /// channels. The sockets stay open in `ListenerSockets`; meanwhile new connections wait in their queue.
    func stopAccepting() async {
        let channels = self.state.withLock { $0.listeners.map(\.channel) }
        for channel in channels {
            try? await channel.setOption(.autoRead, value: false).get()
        }
        try? await Task.sleep(for: .milliseconds(50))
        let closing = self.state.withLock { state -> [Channel] in
            defer { state.listeners.removeAll() }
            return state.listeners.map(\.channel)
        }
        for channel in closing {
            try? await channel.close()
        }
    }

    /// Accepts again on every bind address (after a failed hand-over).
    func resumeAccepting() async throws {
        for frontend in self.topology.frontends {
            for bind in frontend.config.binds {
                let channel = try await self.bind(
                    frontend, host: bind.address.host.description, port: bind.address.port)
                self.state.withLock { $0.listeners.append((frontend.name, channel)) }
            }
        }
    }

    /// Takes over the state of the previous generation's servers that did not change (same backend,
    /// name, address and settings), before this generation starts its checks.
    func carryOver(from previous: LoadBalancer) {
        for backend in self.topology.backends {
            guard let old = previous.topology.backends.first(where: { $0.name == backend.name }) else { continue }
            let (oldState, oldNow) = old.stateSnapshot()
            let newNow = backend.now
            let offset = oldNow - newNow
            let addresses = Dictionary(
                old.servers.map { ($0.name, $0.config.address) }, uniquingKeysWith: { first, _ in first })
            let (carried, state) = backend.health.withLock { state in
                let carried = state.carryOver(from: oldState, offset: offset) { name in
                    addresses[name] == backend.servers.first(where: { $0.name == name })?.config.address
                }
                return (carried, state)
            }
            for index in carried {
                backend.selector.setUsable(index, state.servers[index].isUsable)
                backend.selector.setWeight(index, state.servers[index].effectiveWeight(at: newNow))
            }
        }
    }
}
