import Foundation
import Balancer
import HAProxyConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The seed's haproxy.cfg shape on loopback, as text: one frontend `web_entry` on an ephemeral port
/// and one backend `web_backend`. Tests change lines the way an operator would edit the file; the
/// text goes through the real parser, so the whole path from haproxy.cfg to sockets is exercised.
struct TestTopology {
    var servers: [(name: String, port: Int)]
    var global: [String] = ["maxconn 1000"]
    var defaults: [String] = [
        "mode http", "option forwardfor", "timeout connect 3s", "timeout client 30s", "timeout server 30s",
    ]
    var frontend: [String] = []
    var backend: [String] = ["balance roundrobin", "option httpchk GET /health", "http-check expect status 200"]
    /// Appended to every `server` line, e.g. `check inter 100ms fall 3 rise 2`.
    var serverOptions = ""
    /// The frontend's port: a free ephemeral port found when the topology is made.
    var port = freePort()

    var text: String {
        var lines = ["global"] + self.global.map { "    " + $0 }
        lines += ["", "defaults"] + self.defaults.map { "    " + $0 }
        lines += ["", "frontend web_entry", "    bind 127.0.0.1:\(self.port)", "    default_backend web_backend"]
        lines += self.frontend.map { "    " + $0 }
        lines += ["", "backend web_backend"] + self.backend.map { "    " + $0 }
        for server in self.servers {
            lines.append("    server \(server.name) 127.0.0.1:\(server.port) \(self.serverOptions)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var config: BalancerConfig {
        get throws {
            let result = BalancerConfig.parse(self.text, fileName: "test.cfg")
            if result.hasAlerts {
                throw TestConfigError.rejected(result.report.joined(separator: "\n") + "\n" + self.text)
            }
            // As `BalancerConfig.load` does for `portico lb -f`: `errorfile` lines read their files.
            var config = result.config
            let problems = config.readErrorFiles { FileManager.default.contents(atPath: $0) }
            if !problems.isEmpty {
                throw TestConfigError.rejected(problems.map(\.description).joined(separator: "\n"))
            }
            return config
        }
    }
}

enum TestConfigError: Error {
    case rejected(String)
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
    poolIdleTimeout: TimeAmount = .seconds(5),
    _ body: (Int, LoadBalancer) async throws -> T
) async throws -> T {
    let config = try topology.config
    // As `portico lb` does: global maxconn, capped to what the descriptor limit allows.
    let (maxConnections, _) = config.effectiveGlobalMaxConn(fileDescriptorLimit: 20000)
    let balancer = try LoadBalancer(
        config: config,
        options: BalancerOptions(
            maxConnections: maxConnections,
            gracePeriod: .seconds(2),
            poolIdleTimeout: poolIdleTimeout
        ),
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

/// Starts a balancer on a whole haproxy.cfg `text` (which must load without an alert), runs `body`, and always
/// stops it: for tests whose configuration is not the seed's shape (several backends, `mode tcp`).
func withConfigText<T>(_ text: String, _ body: () async throws -> T) async throws -> T {
    let parsed = BalancerConfig.parse(text, fileName: "haproxy.cfg")
    if parsed.hasAlerts { throw TestConfigError.rejected(parsed.report.joined(separator: "\n") + "\n" + text) }
    let balancer = try LoadBalancer(
        config: parsed.config, options: BalancerOptions(maxConnections: 100, gracePeriod: .seconds(1)),
        threads: 2, logger: LogCapture().logger)
    try await balancer.start()
    do {
        let result = try await body()
        await balancer.stop()
        return result
    } catch {
        await balancer.stop()
        throw error
    }
}

/// A syslog collector and a runtime API socket path for one test; both gone afterwards.
func withSyslogAndSocket<T>(_ body: (SyslogCollector, String) async throws -> T) async throws -> T {
    let syslog = SyslogCollector()
    try await syslog.start(group: testGroup)
    let socketPath = temporarySocketPath()
    defer {
        unlink(socketPath)
        Task { await syslog.stop() }
    }
    return try await body(syslog, socketPath)
}

/// Starts backends named web01, web02, ... and always kills them at the end.
func withBackends<T>(
    _ names: [String],
    group: EventLoopGroup,
    slowDelay: TimeAmount = .seconds(3),
    _ body: ([TestBackend]) async throws -> T
) async throws -> T {
    // The backends' HTTP pipelines use the same generic types as the balancer: instantiated once, first.
    LoadBalancer.typeMetadataWarmedUp
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

/// A port that is free now and will not be taken by anyone else in this run (the parser, like HAProxy, refuses
/// `bind :0`). Ports come from below the kernel's ephemeral range (32768 and up), so the many client sockets of
/// concurrent tests can never be given one of them as their local port between our check and the balancer's bind,
/// and from a process-wide counter, so two tests never get the same one.
func freePort() -> Int {
    nextTestPort.withLockedValue { next in
        for _ in 0..<2000 {
            let candidate = next
            next = next >= 31999 ? 20000 : next + 1
            if let channel = try? ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 0)
                .bind(host: "127.0.0.1", port: candidate).wait()
            {
                try? channel.close().wait()
                return candidate
            }
        }
        return 0
    }
}

/// Where `freePort` looks next: spread by pid so that two test processes on the machine rarely start together.
private let nextTestPort = NIOLockedValueBox(20000 + Int(getpid() % 300) * 40)
