import Balancer
import HAProxyConfig
import Logging
import NIOCore
import NIOPosix

let testLocation = SourceLocation(file: "test.cfg", line: 1)

/// The seed's frontend/backend shape on loopback: one frontend on an ephemeral port, one backend
/// `web_backend` with the given servers.
struct TestTopology {
    var servers: [(name: String, port: Int)]
    var check = false
    var inter: Duration = .milliseconds(100)
    var rise = 2
    var fall = 3
    var httpCheck: HTTPCheck? = HTTPCheck(
        method: "GET",
        uri: "/health",
        expect: HTTPCheckExpectation(match: .status([200...200]))
    )
    var timeouts = Timeouts(connect: .seconds(3), client: .seconds(30), server: .seconds(30))
    var forwardFor: ForwardFor? = ForwardFor()
    var retries = 3
    var redispatch: Redispatch?
    var serverMaxConn: Int?
    var frontendMaxConn: Int?
    var bufferSize = 16384

    var config: BalancerConfig {
        let servers = self.servers.map { server in
            Server(
                name: server.name,
                address: ServerAddress(host: .ipv4("127.0.0.1"), port: server.port),
                location: testLocation,
                checkEnabled: self.check,
                checkInterval: self.inter,
                fall: self.fall,
                rise: self.rise,
                maxConn: self.serverMaxConn
            )
        }
        let backend = Backend(
            name: "web_backend",
            location: testLocation,
            servers: servers,
            timeouts: self.timeouts,
            retries: self.retries,
            redispatch: self.redispatch,
            httpCheck: self.httpCheck,
            forwardFor: nil
        )
        let frontend = Frontend(
            name: "web_entry",
            location: testLocation,
            binds: [
                Bind(address: BindAddress(host: .ipv4("127.0.0.1"), port: 0), text: "127.0.0.1:0", location: testLocation)
            ],
            defaultBackend: "web_backend",
            maxConn: self.frontendMaxConn,
            timeouts: self.timeouts,
            forwardFor: self.forwardFor
        )
        var global = GlobalSettings(maxConn: 1000)
        global.bufferSize = self.bufferSize
        return BalancerConfig(global: global, frontends: [frontend], backends: [backend])
    }
}

/// Captures log lines so tests can assert HAProxy's wording.
final class LogCapture: @unchecked Sendable {
    private let lock = TestLock()
    private var _lines: [String] = []

    var lines: [String] { self.lock.withLock { self._lines } }

    func append(_ line: String) {
        self.lock.withLock { self._lines.append(line) }
    }

    var logger: Logger {
        var logger = Logger(label: "test") { _ in CaptureHandler(capture: self) }
        logger.logLevel = .info
        return logger
    }
}

private struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.capture.append("\(event.message)")
    }
}

/// Starts a balancer for `topology`, runs `body` with its port, and always stops it.
func withBalancer<T>(
    _ topology: TestTopology,
    threads: Int = 4,
    logs: LogCapture = LogCapture(),
    _ body: (Int, LoadBalancer) async throws -> T
) async throws -> T {
    let balancer = try LoadBalancer(
        config: topology.config,
        options: BalancerOptions(maxConnections: 1000, gracePeriod: .seconds(2)),
        threads: threads,
        logger: logs.logger
    )
    do {
        try await balancer.start()
        let port = balancer.boundAddress(frontend: "web_entry")?.port ?? 0
        let result = try await body(port, balancer)
        await balancer.stop()
        return result
    } catch {
        await balancer.stop()
        throw error
    }
}

/// Starts backends named web01, web02, ... and always kills them at the end.
func withBackends<T>(
    _ names: [String],
    group: EventLoopGroup,
    slowDelay: TimeAmount = .seconds(3),
    _ body: ([TestBackend]) async throws -> T
) async throws -> T {
    var backends: [TestBackend] = []
    do {
        for name in names {
            let backend = TestBackend(name: name, group: group, slowDelay: slowDelay)
            try await backend.start()
            backends.append(backend)
        }
        let result = try await body(backends)
        for backend in backends { await backend.kill() }
        return result
    } catch {
        for backend in backends { await backend.kill() }
        throw error
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes (bounded waits for async effects).
func eventually(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
