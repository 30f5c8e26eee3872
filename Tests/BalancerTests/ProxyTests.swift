import Balancer
import HAProxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

let testGroup = MultiThreadedEventLoopGroup.singleton

@Suite("Proxying on loopback")
struct ProxyTests {
    @Test("round robin is global: web01, web02, web01 over fresh connections with four event loops")
    func roundRobinOrder() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 4) { port, _ in
                var bodies: [String] = []
                for _ in 0..<6 {
                    bodies.append(try await HTTPTestClient.get(port: port, "/", group: testGroup).body)
                }
                #expect(bodies == ["web01", "web02", "web01", "web02", "web01", "web02"])
            }
        }
    }

    @Test("client keep-alive: several requests on one client connection reuse pooled server connections")
    func keepAliveReuse() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 1) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                for _ in 0..<20 {
                    let response = try await client.request(.GET, "/")
                    #expect(response.status == 200)
                    #expect(response.body == "web01")
                }
                await client.close()
                #expect(backends[0].requests == 20)
                // One server connection served every request: it went back to the pool each time.
                #expect(backends[0].connections == 1)
            }
        }
    }

    @Test("HEAD gets the head only, chunked responses are relayed, hop-by-hop headers are removed")
    func headAndChunked() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                let head = try await client.request(.HEAD, "/")
                #expect(head.status == 200)
                #expect(head.body.isEmpty)
                #expect(head.headers["content-length"] == ["5"])
                let chunked = try await client.request(.GET, "/chunked")
                #expect(chunked.body == "web01")
                #expect(chunked.headers["transfer-encoding"] == ["chunked"])
                // Still usable after HEAD and chunked: framing stayed in step.
                let again = try await client.request(.GET, "/")
                #expect(again.body == "web01")
                let echoed = try await client.request(
                    .GET,
                    "/headers",
                    headers: [
                        ("Connection", "X-Secret"), ("X-Secret", "1"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
                    ]
                )
                #expect(!echoed.body.contains("x-secret"))
                #expect(!echoed.body.contains("keep-alive"))
                #expect(!echoed.body.contains("\nte:"))
                await client.close()
            }
        }
    }

    @Test("large bodies stream both ways: 8 MB download, 4 MB chunked upload echoed back")
    func largeBodies() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                let download = try await client.request(.GET, "/big?8000000", timeout: .seconds(30))
                #expect(download.body.utf8.count == 8_000_000)
                let piece = ByteBuffer(repeating: UInt8(ascii: "y"), count: 65536)
                let parts = Array(repeating: piece, count: 64)
                let upload = try await client.request(.POST, "/echo", body: parts, chunked: true, timeout: .seconds(30))
                #expect(upload.body.utf8.count == 64 * 65536)
                let sized = try await client.request(.PUT, "/echo", body: parts, timeout: .seconds(30))
                #expect(sized.body.utf8.count == 64 * 65536)
                await client.close()
            }
        }
    }

    @Test("HTTP/1.0 clients get a close-delimited body when the server chunks, and keep-alive when asked")
    func http10Framing() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let chunked = try await rawExchange(port: port, "GET /chunked HTTP/1.0\r\n\r\n", group: testGroup)
                #expect(chunked.hasPrefix("HTTP/1.0 200"))
                #expect(!chunked.lowercased().contains("transfer-encoding"))
                #expect(chunked.hasSuffix("\r\n\r\nweb01"))
                let plain = try await rawExchange(
                    port: port,
                    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                    group: testGroup,
                    timeout: .milliseconds(500)
                )
                #expect(plain.lowercased().contains("connection: keep-alive"))
                #expect(plain.hasSuffix("web01"))
            }
        }
    }

    @Test("100-continue: the server's interim response reaches the client, which only then sends the body")
    func expectContinue() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let promise = testGroup.next().makePromise(of: String.self)
                let channel = try await ClientBootstrap(group: testGroup)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                BodyAfterContinue(body: "hello", promise: promise))
                        }
                    }
                    .connect(host: "127.0.0.1", port: port)
                    .get()
                // Without the 100 the body never leaves and the exchange ends here, without a 200.
                let timer = channel.eventLoop.scheduleTask(in: .seconds(3)) { channel.close(promise: nil) }
                defer { timer.cancel() }
                try await channel.writeAndFlush(
                    ByteBuffer(
                        string: "PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                            + "Connection: close\r\n\r\n"))
                let response = try await promise.futureResult.get()
                #expect(response.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"))
                #expect(response.hasSuffix("5\r\nhello\r\n0\r\n\r\n"))
            }
        }
    }

    @Test("a 103 Early Hints reaches an HTTP/1.1 client with its Link field before the response; not an HTTP/1.0 one")
    func earlyHints() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let http11 = try await rawExchange(
                    port: port, "GET /early-hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", group: testGroup)
                let hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                #expect(http11.hasPrefix(hints), "\(http11)")
                #expect(http11.contains("\r\n\r\nHTTP/1.1 200 OK\r\n"), "\(http11)")
                #expect(http11.hasSuffix("\r\n\r\nok"), "\(http11)")
                let http10 = try await rawExchange(
                    port: port, "GET /early-hints HTTP/1.0\r\nHost: x\r\n\r\n", group: testGroup)
                #expect(http10.hasPrefix("HTTP/1.0 200 OK\r\n"), "\(http10)")
                #expect(!http10.contains("103"), "\(http10)")
            }
        }
    }

    @Test("pipelined requests are answered in order on one connection")
    func pipelining() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let response = try await rawExchange(
                    port: port,
                    "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    group: testGroup
                )
                let statuses = response.components(separatedBy: "HTTP/1.1 200 OK").count - 1
                #expect(statuses == 3)
                #expect(response.hasSuffix("\r\n\r\nweb01"))
                // In order: web01's body, then web02's chunked body, then web01 again (round robin).
                #expect(response.contains("\r\n\r\nweb01HTTP/1.1 200 OK"))
                #expect(response.contains("2\r\nb0\r\n1\r\n2\r\n0\r\n\r\nHTTP/1.1 200 OK"))
            }
        }
    }

    @Test("option http-server-close: the client stays alive, every request gets its own server connection")
    func httpServerClose() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.defaults.append("option http-server-close")
            try await withBalancer(topology, threads: 1) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                for _ in 0..<3 {
                    #expect(try await client.request(.GET, "/").body == "web01")
                }
                await client.close()
                #expect(backends[0].connections == 3)
            }
        }
    }

    @Test("a POST never rides an idle pooled connection (http-reuse safe); a GET does")
    func postOnFreshConnection() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 1) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                #expect(try await client.request(.GET, "/").body == "web01")
                #expect(try await client.request(.POST, "/", body: [ByteBuffer(string: "x")]).body == "web01")
                #expect(try await client.request(.GET, "/").body == "web01")
                await client.close()
                // GET, then the POST on a new connection, then the last GET reuses a pooled one.
                #expect(backends[0].connections == 2)
            }
        }
    }

    @Test("a listen section on IPv6 loopback: proxied, X-Forwarded-For carries the IPv6 client address")
    func listenSectionIPv6() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let port = freePort()
            let text = """
                defaults
                    mode http
                    timeout connect 3s
                    timeout client 30s
                    timeout server 30s

                listen web
                    bind [::1]:\(port)
                    option forwardfor
                    server web01 127.0.0.1:\(backends[0].port)
                """
            let result = BalancerConfig.parse(text, fileName: "listen.cfg")
            #expect(!result.hasAlerts, "\(result.report)")
            let balancer = try LoadBalancer(
                config: result.config,
                options: BalancerOptions(maxConnections: 100),
                threads: 2,
                logger: LogCapture().logger
            )
            try await balancer.start()
            defer { Task { await balancer.stop() } }
            let response = try await rawExchange(
                host: "::1",
                port: port,
                "GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                group: testGroup
            )
            #expect(response.hasPrefix("HTTP/1.1 200"))
            #expect(response.contains("x-forwarded-for: ::1\n"))
            await balancer.stop()
        }
    }

    @Test("an unused pooled server connection is closed after the pool's idle timeout")
    func poolIdleTimeout() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 1, poolIdleTimeout: .milliseconds(200)) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                #expect(try await client.request(.GET, "/").body == "web01")
                #expect(try await client.request(.GET, "/").body == "web01")
                #expect(backends[0].connections == 1)
                try await Task.sleep(for: .milliseconds(600))
                #expect(try await client.request(.GET, "/").body == "web01")
                #expect(backends[0].connections == 2)
                await client.close()
            }
        }
    }
}

/// Sends the request body only once a `100 Continue` arrived, as curl does with `Expect: 100-continue`,
/// and collects everything until the connection closes.
private final class BodyAfterContinue: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let body: String
    private let promise: EventLoopPromise<String>
    private var received = ""
    private var bodySent = false

    init(body: String, promise: EventLoopPromise<String>) {
        self.body = body
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += String(buffer: self.unwrapInboundIn(data))
        if !self.bodySent, self.received.contains("HTTP/1.1 100 Continue\r\n\r\n") {
            self.bodySent = true
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: self.body)), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.succeed(self.received)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
