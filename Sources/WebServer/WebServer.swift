#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

public struct WebServerConfiguration: Sendable {
    /// The document root; `/` is answered with its `index.html`.
    public var root: String
    /// Where to listen; port 0 takes an ephemeral port (see `WebServer.start()`'s result).
    public var listen: [ListenAddress]
    /// nginx `combined` access log, appended to; `nil` for none.
    public var accessLogPath: String?
    /// The instance's name (e.g. `web01`), for the operator's log.
    public var name: String
    /// nginx's `keepalive_timeout`: idle connections are closed after it.
    public var idleTimeout: TimeAmount
    /// How long `stop()` lets in-flight requests finish before closing their connections.
    public var drainTimeout: TimeAmount
    /// Files up to this size are kept in memory (per event loop) and revalidated with one `stat` per request.
    public var maxCachedFileSize: Int

    public init(
        root: String,
        listen: [ListenAddress],
        accessLogPath: String? = nil,
        name: String = "web",
        idleTimeout: TimeAmount = .seconds(65),
        drainTimeout: TimeAmount = .seconds(10),
        maxCachedFileSize: Int = 1 << 20
    ) {
        self.root = root
        self.listen = listen
        self.accessLogPath = accessLogPath
        self.name = name
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.maxCachedFileSize = maxCachedFileSize
    }
}

/// The static web server (the seed's nginx backend). Usable in-process (it logs nothing unless given a logger):
/// ```
/// let server = WebServer(configuration: .init(root: dir, listen: [.init(host: "127.0.0.1", port: 0)]))
/// let port = try await server.start()[0].port
/// ...
/// await server.stop()
/// ```
public final class WebServer: Sendable {
    public let configuration: WebServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State.idle)
    private let connections = NIOLockedValueBox(Connections())

    /// Open client connections, for a graceful stop.
    private struct Connections {
        var open: [ObjectIdentifier: any Channel] = [:]
        /// False once `stop()` began: a connection accepted just before the listener closed is refused.
        var accepting = true
    }

    private enum State {
        case idle
        case starting
        case running(listeners: [any Channel], loops: [NIOLoopBound<LoopContext>], accessLog: AccessLogFile?)
        case stopped
    }

    public init(
        configuration: WebServerConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "portico.web", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        var logger = logger
        logger[metadataKey: "web.name"] = "\(configuration.name)"
        self.logger = logger
    }

    /// The addresses actually bound, in `listen` order (ports filled in where 0 was asked); empty unless running.
    public var localAddresses: [SocketAddress] {
        guard case .running(let listeners, _, _) = state.withLockedValue({ $0 }) else { return [] }
        return listeners.compactMap(\.localAddress)
    }

    /// Binds every listen address and starts serving. Returns the bound addresses.
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        try state.withLockedValue { state in
            guard case .idle = state else { throw WebServerError.notIdle }
            state = .starting
        }
        do {
            let (listeners, loops, accessLog) = try await bindAll()
            state.withLockedValue { $0 = .running(listeners: listeners, loops: loops, accessLog: accessLog) }
            let addresses = listeners.compactMap(\.localAddress)
            logger.info(
                "serving \(configuration.root) on \(addresses.map(\.hostAndPort).joined(separator: ", "))",
                metadata: ["web.root": "\(configuration.root)"]
            )
            return addresses
        } catch {
            state.withLockedValue { $0 = .idle }
            throw error
        }
    }

    private func bindAll() async throws -> ([any Channel], [NIOLoopBound<LoopContext>], AccessLogFile?) {
        guard !configuration.listen.isEmpty else { throw WebServerError.noListenAddress }
        guard let realRoot = realPath(configuration.root) else {
            throw WebServerError.root(path: configuration.root, reason: String(cString: strerror(errno)))
        }
        var status = stat()
        guard stat(realRoot, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw WebServerError.root(path: configuration.root, reason: "not a directory")
        }
        let accessLog = try configuration.accessLogPath.map { path throws(WebServerError) in
            try AccessLogFile(path: path)
        }

        var loops: [NIOLoopBound<LoopContext>] = []
        for loop in group.makeIterator() {
            let maxCached = configuration.maxCachedFileSize
            let context = try await loop.submit {
                let buffer = accessLog.map { AccessLogBuffer(file: $0, eventLoop: loop) }
                let store = FileStore(realRoot: realRoot, maxCachedFileSize: maxCached)
                return NIOLoopBound(LoopContext(store: store, accessLog: buffer), eventLoop: loop)
            }.get()
            loops.append(context)
        }
        let byLoop = Dictionary(uniqueKeysWithValues: loops.map { (ObjectIdentifier($0.eventLoop), $0) })

        let bootstrap = makeBootstrap(contexts: byLoop, realRoot: realRoot, accessLog: accessLog)
        var listeners: [any Channel] = []
        do {
            for address in configuration.listen {
                do {
                    listeners.append(try await bootstrap.bind(host: address.host, port: address.port).get())
                } catch {
                    throw WebServerError.bind(address: address, underlying: error)
                }
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            accessLog?.closeFile()
            throw error
        }
        return (listeners, loops, accessLog)
    }

    private func makeBootstrap(
        contexts: [ObjectIdentifier: NIOLoopBound<LoopContext>], realRoot: String, accessLog: AccessLogFile?
    ) -> ServerBootstrap {
        let idleTimeout = configuration.idleTimeout
        let maxCached = configuration.maxCachedFileSize
        let connections = self.connections
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let loop: LoopContext
                    if let context = contexts[ObjectIdentifier(channel.eventLoop)] {
                        loop = context.value
                    } else {
                        // A loop the group did not list up front: give it its own cache.
                        let buffer = accessLog.map { AccessLogBuffer(file: $0, eventLoop: channel.eventLoop) }
                        loop = LoopContext(
                            store: FileStore(realRoot: realRoot, maxCachedFileSize: maxCached), accessLog: buffer
                        )
                    }
                    let key = ObjectIdentifier(channel)
                    let accepted = connections.withLockedValue { connections in
                        if connections.accepting { connections.open[key] = channel }
                        return connections.accepting
                    }
                    guard accepted else { throw ChannelError.ioOnClosedChannel }
                    channel.closeFuture.whenComplete { _ in
                        _ = connections.withLockedValue { $0.open.removeValue(forKey: key) }
                    }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    // Every header value sent is built here from known-safe parts (Location is percent-encoded),
                    // so NIO's per-response header validation is skipped.
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false
                    )
                    try sync.addHandler(StaticFileHandler(loop: loop))
                }
            }
    }

    /// Stops gracefully: stops accepting, lets requests in flight finish (up to `drainTimeout`), closes idle
    /// keep-alive connections, flushes the access log. Safe to call more than once.
    public func stop() async {
        let running = state.withLockedValue { state -> ([any Channel], [NIOLoopBound<LoopContext>], AccessLogFile?)? in
            guard case .running(let listeners, let loops, let accessLog) = state else {
                if case .idle = state { state = .stopped }
                return nil
            }
            state = .stopped
            return (listeners, loops, accessLog)
        }
        guard let (listeners, loops, accessLog) = running else { return }

        for listener in listeners { try? await listener.close() }
        let open = connections.withLockedValue { connections in
            connections.accepting = false
            return Array(connections.open.values)
        }
        for channel in open {
            // NIO's pipelining handler closes at once when idle, or after the response in flight.
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        await waitForClose(open)
        for loop in loops {
            try? await loop.eventLoop.submit { loop.value.accessLog?.flush() }.get()
        }
        accessLog?.closeFile()
        logger.info("stopped")
    }

    private func waitForClose(_ channels: [any Channel]) async {
        guard !channels.isEmpty else { return }
        let deadline = NIODeadline.now() + configuration.drainTimeout
        for channel in channels {
            let remaining = deadline - .now()
            if remaining <= .zero {
                try? await channel.close()
                continue
            }
            let timeout = channel.eventLoop.scheduleTask(in: remaining) { channel.close(promise: nil) }
            try? await channel.closeFuture.get()
            timeout.cancel()
        }
    }
}

extension SocketAddress {
    /// `127.0.0.1:8080` or `[::1]:8080`.
    var hostAndPort: String {
        let host = ipAddress ?? "?"
        let port = self.port.map(String.init) ?? "?"
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
