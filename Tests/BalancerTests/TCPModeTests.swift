import Balancer
import Foundation
import HAProxyConfig
import NIOCore
import NIOPosix
import Testing

/// The seed's topology turned into `mode tcp` (in `defaults`), with `serverLines`' servers.
private func tcpTopology(_ servers: [(name: String, port: Int)]) -> TestTopology {
    var topology = TestTopology(servers: servers)
    topology.defaults = ["mode tcp", "timeout connect 1s", "timeout client 30s", "timeout server 30s"]
    topology.backend = ["balance roundrobin"]
    return topology
}

/// Echo servers named web01, web02, ... for the body's duration, always stopped.
private func withEchoServers<T>(_ count: Int, _ body: ([EchoServer]) async throws -> T) async throws -> T {
    var servers: [EchoServer] = []
    do {
        for index in 1...count {
            let server = EchoServer(name: "web0\(index)", group: testGroup)
            try await server.start()
            servers.append(server)
        }
        let result = try await body(servers)
        for server in servers { await server.stop() }
        return result
    } catch {
        for server in servers { await server.stop() }
        throw error
    }
}

/// Connects a fresh client and returns the name in the server's greeting (nil: no greeting in time).
private func greeting(port: Int) async throws -> String? {
    let client = try await RawClient.connect(port: port, group: testGroup)
    defer { Task { await client.close() } }
    guard await client.receive("\n") else { return nil }
    let line = client.received.split(separator: "\n").first.map(String.init) ?? ""
    return line.hasPrefix("hello from ") ? String(line.dropFirst("hello from ".count)) : nil
}

@Suite("mode tcp: raw byte relay")
struct TCPModeTests {
    @Test("the server speaks first, several round trips are echoed, 4 MiB go through whole and in order")
    func echoes() async throws {
        try await withEchoServers(1) { servers in
            try await withBalancer(tcpTopology([("web01", servers[0].port)]), threads: 2) { port, _ in
                let client = try await RawClient.connect(port: port, group: testGroup)
                defer { Task { await client.close() } }
                #expect(await client.receive("hello from web01\n"))
                for round in 1...5 {
                    // HTTP-looking bytes too: nothing parses them in mode tcp.
                    try await client.send("GET /round-\(round) HTTP/1.1\r\n\r\n")
                    #expect(await client.receive("round-\(round) HTTP"), "round \(round): \(client.received)")
                }
                let before = client.receivedCount
                var payload = ""
                payload.reserveCapacity(4 << 20)
                var index = 0
                while payload.utf8.count < 4 << 20 {
                    payload += String(format: "%08d", index)
                    index += 1
                }
                try await client.send(payload)
                let expected = before + payload.utf8.count
                #expect(await eventually(timeout: .seconds(20)) { client.receivedCount >= expected })
                #expect(client.receivedCount == expected)
                #expect(client.received.hasSuffix(String(payload.suffix(64))))
                #expect(client.received.contains(String(payload.prefix(4096))))
                #expect(!client.sawEOF)
            }
        }
    }

    @Test("round robin across two servers over fresh connections: web01, web02, web01, web02")
    func roundRobin() async throws {
        try await withEchoServers(2) { servers in
            let topology = tcpTopology(servers.map { ($0.name, $0.port) })
            try await withBalancer(topology, threads: 4) { port, _ in
                var names: [String?] = []
                for _ in 0..<4 { names.append(try await greeting(port: port)) }
                #expect(names == ["web01", "web02", "web01", "web02"])
            }
        }
    }

    @Test("a server its TCP check marked DOWN gets no connection")
    func downServerSkipped() async throws {
        try await withEchoServers(2) { servers in
            var topology = tcpTopology(servers.map { ($0.name, $0.port) })
            topology.serverOptions = "check inter 100ms fall 1 rise 1"
            let logs = LogCapture()
            try await withBalancer(topology, threads: 2, logs: logs) { port, _ in
                await servers[1].stop()
                #expect(await eventually { logs.lines.contains { $0.contains("web_backend/web02 is DOWN") } })
                let acceptedBefore = servers[1].accepted
                var names: [String?] = []
                for _ in 0..<4 { names.append(try await greeting(port: port)) }
                #expect(names == ["web01", "web01", "web01", "web01"])
                #expect(servers[1].accepted == acceptedBefore)
            }
        }
    }

    @Test("a refused connect is retried and redispatched to the other server: every client gets through")
    func connectFailureRedispatched() async throws {
        try await withEchoServers(1) { servers in
            // web02's port has nothing listening, and no check tells the balancer so.
            var topology = tcpTopology([("web01", servers[0].port), ("web02", freePort())])
            topology.backend += ["retries 2", "option redispatch"]
            try await withBalancer(topology, threads: 2) { port, _ in
                var names: [String?] = []
                for _ in 0..<4 { names.append(try await greeting(port: port)) }
                #expect(names == ["web01", "web01", "web01", "web01"])
            }
        }
    }

    @Test("no server reachable: the client connection closes without a byte (no HTTP error page in mode tcp)")
    func noServerCloses() async throws {
        var topology = tcpTopology([("web01", freePort())])
        topology.backend += ["retries 1"]
        try await withBalancer(topology, threads: 2) { port, _ in
            let client = try await RawClient.connect(port: port, group: testGroup)
            defer { Task { await client.close() } }
            #expect(await client.waitForEOF())
            #expect(client.receivedCount == 0)
        }
    }

    @Test("client FIN reaches the server as EOF (its answer still comes back); a server close reaches the client")
    func halfCloseBothWays() async throws {
        try await withEchoServers(1) { servers in
            try await withBalancer(tcpTopology([("web01", servers[0].port)]), threads: 2) { port, _ in
                let client = try await RawClient.connect(port: port, group: testGroup)
                defer { Task { await client.close() } }
                #expect(await client.receive("hello from web01\n"))
                try await client.send("last words")
                try await client.finishSending()
                #expect(await eventually { servers[0].peerFINs == 1 })
                #expect(await client.receive("last words"))
                #expect(await client.waitForEOF())

                let second = try await RawClient.connect(port: port, group: testGroup)
                defer { Task { await second.close() } }
                #expect(await second.receive("hello from web01\n"))
                try await second.send("bye\n")
                #expect(await second.waitForEOF())
                #expect(second.received == "hello from web01\nbye\n")
                #expect(servers[0].peerFINs == 1)
            }
        }
    }

    @Test("timeout client closes an idle session, not before it is due")
    func idleClientTimeout() async throws {
        try await withEchoServers(1) { servers in
            var topology = tcpTopology([("web01", servers[0].port)])
            topology.defaults = ["mode tcp", "timeout connect 1s", "timeout client 400ms", "timeout server 30s"]
            try await withBalancer(topology, threads: 2) { port, _ in
                // Measured from before the connection exists, the idle timer (armed once the session started)
                // cannot have fired sooner than 400 ms after this, however slow the machine is.
                let clock = ContinuousClock()
                let start = clock.now
                let client = try await RawClient.connect(port: port, group: testGroup)
                defer { Task { await client.close() } }
                #expect(await client.receive("hello from web01\n"))
                #expect(await client.waitForEOF(timeout: .seconds(5)))
                #expect(clock.now - start >= .milliseconds(400))
            }
        }
    }
}

@Suite("mode tcp: counters and tcplog")
struct TCPModeOperationsTests {
    @Test("a session's bytes and counts reach show stat; option tcplog sends HAProxy's tcplog line")
    func countersAndLog() async throws {
        try await withEchoServers(1) { servers in
            try await withSyslogAndSocket { syslog, socketPath in
                let frontendPort = freePort()
                let text = """
                    global
                        log 127.0.0.1:\(syslog.port) local2
                        stats socket \(socketPath) mode 600 level admin
                    defaults
                        mode tcp
                        log global
                        option tcplog
                        timeout connect 1s
                        timeout client 30s
                        timeout server 30s
                    frontend db_in
                        bind 127.0.0.1:\(frontendPort)
                        default_backend db
                    backend db
                        server db1 127.0.0.1:\(servers[0].port)

                    """
                #expect(BalancerConfig.parse(text, fileName: "haproxy.cfg").diagnostics.isEmpty)
                try await withConfigText(text) {
                    let client = try await RawClient.connect(port: frontendPort, group: testGroup)
                    #expect(await client.receive("hello from web01\n"))
                    try await client.send("0123456789")
                    #expect(await client.receive("0123456789"))
                    try await client.finishSending()
                    #expect(await client.waitForEOF())
                    await client.close()
                    #expect(await eventually { syslog.lines.contains { $0.contains(" db_in db/db1 ") } })
                    let line = try #require(syslog.lines.first { $0.contains(" db_in db/db1 ") })
                    // `<150>Nov 26 13:51:24 haproxy[1]: 127.0.0.1:33786 [26/Nov/2026:13:51:24.658] db_in db/db1
                    //  0/0/208 27 -- 1/1/0/0/0 0/0`: 27 bytes to the client (17 of greeting, 10 echoed).
                    let message = try #require(line.split(separator: "]: ", maxSplits: 1).last).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                    #expect(
                        message.wholeMatch(
                            of: #/127\.0\.0\.1:\d+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] db_in db/db1 0/\d+/\d+ 27 -- 1/1/0/0/0 0/0/#
                        ) != nil, "\(message)")

                    let stat = try await runtimeCommand(socketPath, "show stat")
                    #expect(csvValue(stat, "db_in", "FRONTEND", "stot") == "1")
                    #expect(csvValue(stat, "db_in", "FRONTEND", "bin") == "10")
                    #expect(csvValue(stat, "db_in", "FRONTEND", "bout") == "27")
                    #expect(csvValue(stat, "db", "db1", "stot") == "1")
                    #expect(csvValue(stat, "db", "db1", "scur") == "0")
                    #expect(csvValue(stat, "db", "db1", "bout") == "27")
                    #expect(csvValue(stat, "db", "BACKEND", "bin") == "10")
                    #expect(csvValue(stat, "db", "db1", "status") == "no check")
                    #expect(csvValue(stat, "db", "BACKEND", "req_tot") == "0")
                    #expect(csvValue(stat, "db_in", "FRONTEND", "req_tot") == "0")
                }
            }
        }
    }
}

@Suite("mode tcp: routing")
struct TCPModeRoutingTests {
    static let defaults = """
        defaults
            mode tcp
            timeout connect 1s
            timeout client 30s
            timeout server 30s
        """

    @Test("mode tcp: use_backend on the client's address (src) picks the backend when the connection is accepted")
    func tcpSourceRouting() async throws {
        try await withEchoServers(2) { servers in
            let port = freePort()
            let text = """
                \(Self.defaults)
                frontend db_in
                    bind 127.0.0.1:\(port)
                    acl local src 127.0.0.0/8 ::1
                    use_backend second if local
                    default_backend first
                backend first
                    server one 127.0.0.1:\(servers[0].port)
                backend second
                    server two 127.0.0.1:\(servers[1].port)

                """
            let routed = try await withConfigText(text) { try await greeting(port: port) }
            #expect(routed == "web02")
        }
    }

    @Test("mode tcp: a connection no rule routes, without default_backend, is closed at once without a byte")
    func tcpUnroutedConnectionCloses() async throws {
        try await withEchoServers(1) { servers in
            let port = freePort()
            let text = """
                \(Self.defaults)
                frontend db_in
                    bind 127.0.0.1:\(port)
                    use_backend only if { src 192.0.2.0/24 }
                backend only
                    server one 127.0.0.1:\(servers[0].port)

                """
            try await withConfigText(text) {
                let client = try await RawClient.connect(port: port, group: testGroup)
                #expect(await client.waitForEOF(timeout: .seconds(5)))
                #expect(client.received.isEmpty)
                await client.close()
                #expect(servers[0].accepted == 0, "the server was never connected")
            }
        }
    }
}
