import Balancer
import Foundation
import HAProxyConfig
import NIOCore
import NIOPosix

/// The seed's haproxy.cfg on loopback, whole: global `log` to a local UDP port and a runtime API socket,
/// `web_entry` with the Prometheus path, `web_backend`, and `listen stats` with the seed's stats lines.
struct OperationsTopology {
    var servers: [(name: String, port: Int)]
    var frontendPort = freePort()
    var statsPort = freePort()
    var syslogPort: Int
    var socketPath: String
    /// Optional level filter on the global `log` line (`log 127.0.0.1:PORT local2 notice`).
    var logLevel: String?
    var statsLines = [
        "stats enable", "stats uri /stats", "stats refresh 10s", "stats auth admin:strong_password_here",
    ]
    // `inter` is also the check timeout: 500 ms keeps checks passing on a busy test machine.
    var serverOptions = "check inter 500ms fall 3 rise 2"
    var backendLines = ["balance roundrobin", "option httpchk GET /health", "http-check expect status 200"]
    /// Extra lines of the `web_entry` frontend (after its bind), e.g. `maxconn 1`.
    var frontendLines: [String] = []

    var text: String {
        var lines = [
            "global", "    log 127.0.0.1:\(self.syslogPort) local2" + (self.logLevel.map { " " + $0 } ?? ""),
            "    maxconn 1000",
            "    stats socket \(self.socketPath) mode 600 level admin", "",
            "defaults", "    mode http", "    log global", "    option httplog", "    option dontlognull",
            "    option forwardfor", "    timeout connect 3s", "    timeout client 30s", "    timeout server 30s", "",
            "frontend web_entry", "    bind 127.0.0.1:\(self.frontendPort)",
        ]
        lines += self.frontendLines.map { "    " + $0 }
        lines += [
            "    default_backend web_backend",
            "    http-request use-service prometheus-exporter if { path /metrics }", "",
            "backend web_backend",
        ]
        lines += self.backendLines.map { "    " + $0 }
        for server in self.servers {
            lines.append("    server \(server.name) 127.0.0.1:\(server.port) \(self.serverOptions)")
        }
        lines += ["", "listen stats", "    bind 127.0.0.1:\(self.statsPort)", "    mode http"]
        lines += self.statsLines.map { "    " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    var config: BalancerConfig {
        get throws {
            let result = BalancerConfig.parse(self.text, fileName: "haproxy.cfg")
            if result.hasAlerts { throw TestConfigError.rejected(result.report.joined(separator: "\n") + self.text) }
            return result.config
        }
    }
}

/// A unique runtime API socket path for one test.
func temporarySocketPath() -> String {
    "/tmp/pops-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
}

/// Collects syslog datagrams sent to 127.0.0.1 on an ephemeral port.
final class SyslogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [String] = []
    private var channel: Channel?
    private(set) var port = 0

    var lines: [String] { self.lock.withLock { self.received } }

    func start(group: EventLoopGroup) async throws {
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramCollector(collector: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    func append(_ line: String) {
        self.lock.withLock { self.received.append(line) }
    }

    func stop() async {
        try? await self.channel?.close()
    }
}

private final class DatagramCollector: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let collector: SyslogCollector

    init(collector: SyslogCollector) {
        self.collector = collector
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.collector.append(String(buffer: self.unwrapInboundIn(data).data))
    }
}

/// web01 and web02 behind a balancer with the default operations topology (stats listener, syslog
/// collector, runtime API socket): the set-up most operations tests share.
func withTwoServerOperations<T>(
    _ body: (OperationsTopology, LoadBalancer, SyslogCollector) async throws -> T
) async throws -> T {
    try await withBackends(["web01", "web02"], group: testGroup) { backends in
        try await withOperationsBalancer({ syslog in
            OperationsTopology(
                servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
        }, body)
    }
}

/// Starts the balancer for `topology` with a syslog collector and always stops both.
func withOperationsBalancer<T>(
    _ topology: (Int) -> OperationsTopology,
    logs: LogCapture = LogCapture(),
    _ body: (OperationsTopology, LoadBalancer, SyslogCollector) async throws -> T
) async throws -> T {
    let syslog = SyslogCollector()
    try await syslog.start(group: testGroup)
    let resolved = topology(syslog.port)
    let balancer: LoadBalancer
    do {
        balancer = try LoadBalancer(
            config: try resolved.config, options: BalancerOptions(maxConnections: 1000, gracePeriod: .seconds(2)),
            threads: 2, logger: logs.logger)
        try await balancer.start()
    } catch {
        await syslog.stop()
        throw error
    }
    do {
        let result = try await body(resolved, balancer, syslog)
        await balancer.stop()
        await syslog.stop()
        return result
    } catch {
        await balancer.stop()
        await syslog.stop()
        throw error
    }
}

/// One runtime API exchange over a UNIX socket: the command line out, everything until the close in.
func runtimeCommand(_ path: String, _ command: String, timeout: TimeAmount = .seconds(5)) async throws -> String {
    let promise = testGroup.next().makePromise(of: String.self)
    let channel: Channel
    do {
        channel = try await ClientBootstrap(group: testGroup)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UntilCloseCollector(promise: promise))
                }
            }
            .connect(unixDomainSocketPath: path)
            .get()
    } catch {
        promise.fail(error)  // no-op when the handler already did
        throw error
    }
    try await channel.writeAndFlush(ByteBuffer(string: command + "\n"))
    let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    defer { timer.cancel() }
    return try await promise.futureResult.get()
}

func basicAuthorization(_ user: String, _ password: String) -> (String, String) {
    ("authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
}

/// Which backend answered each of `count` sequential GET / requests on fresh connections.
func answers(port: Int, count: Int) async throws -> [String] {
    var bodies: [String] = []
    for _ in 0..<count {
        bodies.append(try await HTTPTestClient.get(port: port, "/", group: testGroup).body)
    }
    return bodies
}
