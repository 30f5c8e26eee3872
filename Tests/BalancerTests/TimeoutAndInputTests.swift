import Foundation
import Balancer
import HAProxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@Suite("Timeouts, X-Forwarded-For and bad input on loopback")
struct TimeoutAndInputTests {
    // MARK: Timeouts

    @Test("timeout http-request: a request head that never completes gets 408 and the connection closes")
    func httpRequestTimeout() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.defaults.append("timeout http-request 200ms")
            try await withBalancer(topology) { port, _ in
                let response = try await rawExchange(port: port, "GET / HTTP/1.1\r\nHost: x\r\n", group: testGroup)
                #expect(statusCode(response) == 408)
                #expect(response.contains("<h1>408 Request Time-out</h1>"))
            }
        }
    }

    @Test("timeout client: a request body that stops arriving gets 408 and the connection closes")
    func clientBodyTimeout() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.defaults[3] = "timeout client 300ms"
            try await withBalancer(topology) { port, _ in
                let clock = ContinuousClock()
                let start = clock.now
                let response = try await rawExchange(
                    port: port,
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part",
                    group: testGroup,
                    timeout: .seconds(15)
                )
                // The proxy closes after 300 ms; only our own 15 s bound would take longer (a loaded test
                // machine can add a second or two, so the margin is wide).
                #expect(clock.now - start < .seconds(10))
                #expect(response.contains("408 Request Time-out") || response.hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test("timeout http-keep-alive: an idle kept-alive connection is closed silently")
    func keepAliveTimeout() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.defaults.append("timeout http-keep-alive 200ms")
            try await withBalancer(topology) { port, _ in
                let clock = ContinuousClock()
                let start = clock.now
                let response = try await rawExchange(
                    port: port,
                    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                    group: testGroup,
                    timeout: .seconds(15)
                )
                // One response, then the proxy closed the idle connection after 200 ms, well before our own
                // 15 s bound (a loaded test machine can add a second or two, so the margin is wide).
                #expect(clock.now - start < .seconds(10))
                #expect(response.hasPrefix("HTTP/1.1 200"))
                #expect(response.hasSuffix("web01"))
            }
        }
    }

    @Test("timeout server: a server that does not answer in time gives 504")
    func serverTimeout() async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .seconds(2)) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.defaults.append("timeout server 200ms")
            try await withBalancer(topology) { port, _ in
                let response = try await HTTPTestClient.get(port: port, "/slow", group: testGroup)
                #expect(response.status == 504)
                #expect(response.body.contains("The server didn't respond in time."))
            }
        }
    }

    @Test("timeout queue: with the server at its maxconn, a queued request gets 503 after the queue timeout")
    func queueTimeout() async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .seconds(1)) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "maxconn 1"
            topology.defaults.append("timeout queue 200ms")
            try await withBalancer(topology) { port, _ in
                async let slow = HTTPTestClient.get(port: port, "/slow", group: testGroup)
                // The slow request holds the only slot once the server has it.
                #expect(await eventually { backends[0].requests == 1 })
                let queued = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(queued.status == 503)
                #expect(try await slow.status == 200)
            }
        }
    }

    @Test("maxconn 1 queue: requests wait for the slot and are all served when the queue timeout allows it")
    func queueServed() async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .milliseconds(100)) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "maxconn 1"
            topology.defaults.append("timeout queue 5s")
            try await withBalancer(topology) { port, _ in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<5 {
                        group.addTask { try await HTTPTestClient.get(port: port, "/slow", group: testGroup).status }
                    }
                    var statuses: [Int] = []
                    for try await status in group { statuses.append(status) }
                    #expect(statuses == [200, 200, 200, 200, 200])
                }
            }
        }
    }

    @Test(
        "frontend or global maxconn: excess connections wait in the backlog and are served later, not refused",
        arguments: ["frontend", "global"]
    )
    func maxConnBacklog(_ section: String) async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .milliseconds(300)) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            if section == "frontend" {
                topology.frontend.append("maxconn 2")
            } else {
                topology.global = ["maxconn 2"]
            }
            try await withBalancer(topology) { port, _ in
                let clock = ContinuousClock()
                let start = clock.now
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<4 {
                        group.addTask { try await HTTPTestClient.get(port: port, "/slow", group: testGroup).status }
                    }
                    var statuses: [Int] = []
                    for try await status in group { statuses.append(status) }
                    #expect(statuses == [200, 200, 200, 200])
                }
                // Two at a time: the last two waited for the first two (≥ 2 × 300 ms in all).
                #expect(clock.now - start >= .milliseconds(550))
            }
        }
    }

    // MARK: X-Forwarded-For

    @Test("option forwardfor appends the client address after an existing X-Forwarded-For")
    func forwardForAppends() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let plain = try await HTTPTestClient.get(port: port, "/headers", group: testGroup)
                #expect(plain.body.contains("x-forwarded-for: 127.0.0.1\n"))
                let chained = try await HTTPTestClient.get(
                    port: port,
                    "/headers",
                    group: testGroup,
                    headers: [("X-Forwarded-For", "203.0.113.7")]
                )
                let values = chained.body.split(separator: "\n").filter { $0.hasPrefix("x-forwarded-for:") }
                #expect(values == ["x-forwarded-for: 203.0.113.7", "x-forwarded-for: 127.0.0.1"])
            }
        }
    }

    @Test("option forwardfor except 127.0.0.0/8 adds nothing for loopback clients; if-none keeps an existing header")
    func forwardForExceptAndIfNone() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var except = TestTopology(servers: backends.map { ($0.name, $0.port) })
            except.defaults[1] = "option forwardfor except 127.0.0.0/8"
            try await withBalancer(except) { port, _ in
                let response = try await HTTPTestClient.get(port: port, "/headers", group: testGroup)
                #expect(!response.body.contains("x-forwarded-for"))
            }
            var ifNone = TestTopology(servers: backends.map { ($0.name, $0.port) })
            ifNone.defaults[1] = "option forwardfor header X-Client if-none"
            try await withBalancer(ifNone) { port, _ in
                let kept = try await HTTPTestClient.get(
                    port: port,
                    "/headers",
                    group: testGroup,
                    headers: [("X-Client", "198.51.100.1")]
                )
                #expect(
                    kept.body.split(separator: "\n").filter { $0.hasPrefix("x-client:") } == ["x-client: 198.51.100.1"]
                )
                let added = try await HTTPTestClient.get(port: port, "/headers", group: testGroup)
                #expect(added.body.contains("x-client: 127.0.0.1\n"))
                #expect(!added.body.contains("x-forwarded-for"))
            }
        }
    }

    // MARK: Bad input

    static let badRequests: [(String, String)] = [
        ("malformed request line", "GET\r\n\r\n"),
        ("malformed header", "GET / HTTP/1.1\r\nHost x\r\n\r\n"),
        (
            "Content-Length with Transfer-Encoding",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        (
            "differing Content-Lengths",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
        ),
        (
            "invalid chunk size",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
        ),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n"),
        ("bare CR", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r2\r\n\r\n"),
        (
            "Transfer-Encoding not ending in chunked",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
        ),
        ("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("CONNECT (tunnels are not supported)", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        // A server routing on Host and a filter reading the other value would see different sites (RFC 9112 §3.2).
        ("two differing Host fields", "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"),
        (
            "absolute-form target with another Host",
            "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n"
        ),
        // Where the path ends would depend on who reads it.
        ("a fragment in the target", "GET /a#/../admin HTTP/1.1\r\nHost: x\r\n\r\n"),
        // Re-framed as `transfer-encoding: chunked`, the server would get the gzip-coded body as if plain.
        (
            "a transfer coding other than chunked",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
        ),
    ]

    @Test("bad requests get 400 and a closed connection; no byte reaches a server", arguments: badRequests)
    func badRequest(_ name: String, _ request: String) async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let response = try await rawExchange(port: port, request, group: testGroup)
                #expect(statusCode(response) == 400, "\(name): \(response)")
                #expect(response.contains("<h1>400 Bad request</h1>"), "\(name)")
                #expect(backends[0].requests == 0, "\(name) was forwarded")
                // Other clients are unaffected.
                let good = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(good.body == "web01")
            }
        }
    }

    @Test("errorfile: the operator's page goes out byte for byte (HEAD: its head), the backend's before the frontend's")
    func errorFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("errorfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // Debian's style: HTTP/1.0, no Content-Length (the body runs to the close).
        let backendHead =
            "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n"
        let backendPage = backendHead + "<html><body>web_backend is in maintenance</body></html>\n"
        let frontendPage = "HTTP/1.0 503 Service Unavailable\r\n\r\nfrontend page\n"
        let badRequestPage = "HTTP/1.0 400 Bad request\r\nContent-Type: text/plain\r\n\r\nplease check the request\n"
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            // The only server is disabled: every request gets a 503 from the backend.
            topology.serverOptions = "disabled"
            topology.frontend = [
                "errorfile 503 \(try file("frontend-503.http", frontendPage))",
                "errorfile 400 \(try file("400.http", badRequestPage))",
            ]
            topology.backend.append("errorfile 503 \(try file("backend-503.http", backendPage))")
            try await withBalancer(topology) { port, _ in
                let unavailable = try await rawExchange(
                    port: port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", group: testGroup)
                #expect(unavailable == backendPage)
                let head = try await rawExchange(port: port, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", group: testGroup)
                #expect(head == backendHead)
                let bad = try await rawExchange(port: port, "GET\r\n\r\n", group: testGroup)
                #expect(bad == badRequestPage)
                #expect(backends[0].requests == 0)
            }
        }
    }

    @Test("identical Host fields reach the server as one; an absolute-form target matching Host is forwarded")
    func identicalHostFields() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let twice = try await rawExchange(
                    port: port,
                    "GET /headers HTTP/1.1\r\nHost: a.example\r\nHOST: a.example\r\nConnection: close\r\n\r\n",
                    group: testGroup)
                #expect(statusCode(twice) == 200, "\(twice)")
                // The body lists the fields the server got, one per line.
                let body = twice.firstRange(of: "\r\n\r\n").map { String(twice[$0.upperBound...]) } ?? ""
                #expect(body.split(separator: "\n").filter { $0.hasPrefix("host:") } == ["host: a.example"], "\(twice)")
                let absolute = try await rawExchange(
                    port: port,
                    "GET http://A.example/headers HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n",
                    group: testGroup)
                #expect(statusCode(absolute) == 200, "\(absolute)")
                // The scheme's default port written on one side only is the same authority (HAProxy normalizes it).
                let defaultPort = try await rawExchange(
                    port: port,
                    "GET http://a.example:80/headers HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n",
                    group: testGroup)
                #expect(statusCode(defaultPort) == 200, "\(defaultPort)")
            }
        }
    }

    @Test("a request head larger than tune.bufsize gets 431 and the connection closes")
    func oversizedHead() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.global.append("tune.bufsize 4096")
            try await withBalancer(topology) { port, _ in
                let big = String(repeating: "a", count: 5000)
                let response = try await rawExchange(
                    port: port,
                    "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n",
                    group: testGroup
                )
                #expect(statusCode(response) == 431)
                let fits = try await HTTPTestClient.get(
                    port: port,
                    "/",
                    group: testGroup,
                    headers: [("X-Small", String(repeating: "b", count: 3000))]
                )
                #expect(fits.status == 200)
            }
        }
    }

    @Test("a malformed server response gives 502 and the server connection is not reused")
    func malformedResponse() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 1) { port, _ in
                let bad = try await HTTPTestClient.get(port: port, "/malformed", group: testGroup)
                #expect(bad.status == 502)
                #expect(bad.body.contains("The server returned an invalid or incomplete response."))
                let good = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(good.body == "web01")
                #expect(backends[0].connections == 2)
            }
        }
    }

    @Test("a response head larger than tune.bufsize gives 502, as HAProxy answers")
    func oversizedResponseHead() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.global.append("tune.bufsize 4096")
            try await withBalancer(topology) { port, _ in
                let response = try await HTTPTestClient.get(port: port, "/big-header", group: testGroup)
                #expect(response.status == 502)
                #expect(response.body.contains("The server returned an invalid or incomplete response."))
                let good = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(good.body == "web01")
            }
        }
    }

    @Test("a 204 with a (wrong) body reaches a kept-alive client at once, without Content-Length or the body")
    func noContentWithBody() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 1) { port, _ in
                // Kept alive: nothing but the server's read batch flushes the client's response. The client closes
                // after a second; the 204 must be there by then.
                let response = try await rawExchange(
                    port: port, "GET /no-content-with-body HTTP/1.1\r\nHost: x\r\n\r\n", group: testGroup,
                    timeout: .seconds(1))
                #expect(response.hasPrefix("HTTP/1.1 204 No Content\r\n"), "\(response)")
                #expect(!response.lowercased().contains("content-length"), "\(response)")
                #expect(!response.contains("body"), "\(response)")
                let good = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(good.body == "web01")
            }
        }
    }

    @Test("a server that closes without answering a POST gives 502 (not replayed: not idempotent)")
    func closedWithoutAnswer() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            try await withBalancer(topology) { port, _ in
                let client = try await HTTPTestClient.connect(port: port, group: testGroup)
                let response = try await client.request(.POST, "/close", body: [ByteBuffer(string: "x")])
                #expect(response.status == 502)
                await client.close()
                #expect(backends[0].requests == 1)
            }
        }
    }
}
