import Balancer
import HAProxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@Suite("Health checks, retries and failover on loopback", .serialized)
struct HealthAndFailoverTests {
    @Test("a failing /health marks the server DOWN (HAProxy's log line), it gets no traffic, then comes back UP")
    func downAndUp() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "check inter 200ms fall 3 rise 2"
            // Checks of a busy test machine must not time out: only the 503 should take web02 down.
            topology.defaults.append("timeout check 2s")
            let logs = LogCapture()
            try await withBalancer(topology, logs: logs) { port, _ in
                backends[1].healthy = false
                let down = await eventually {
                    logs.lines.contains { $0.contains("web_backend/web02 is DOWN") }
                }
                #expect(down)
                let line = logs.lines.first { $0.contains("web_backend/web02 is DOWN") } ?? ""
                #expect(line.contains("reason: Layer7 wrong status, code: 503"))
                #expect(line.contains("1 active and 0 backup servers left"))
                var bodies: [String] = []
                for _ in 0..<6 {
                    bodies.append(try await HTTPTestClient.get(port: port, "/", group: testGroup).body)
                }
                #expect(bodies == Array(repeating: "web01", count: 6))

                backends[1].healthy = true
                let up = await eventually {
                    logs.lines.contains { $0.contains("web_backend/web02 is UP") }
                }
                #expect(up)
                var after: Set<String> = []
                for _ in 0..<4 {
                    after.insert(try await HTTPTestClient.get(port: port, "/", group: testGroup).body)
                }
                #expect(after == ["web01", "web02"])
            }
        }
    }

    @Test("timeout check: a /health that never answers marks the server DOWN with 'Layer7 timeout'")
    func checkTimeout() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "check inter 200ms fall 2 rise 2"
            topology.defaults.append("timeout check 300ms")
            let logs = LogCapture()
            try await withBalancer(topology, logs: logs) { _, _ in
                backends[0].healthHangs = true
                #expect(await eventually { logs.lines.contains { $0.contains("web_backend/web01 is DOWN") } })
                let line = logs.lines.first { $0.contains("web_backend/web01 is DOWN") } ?? ""
                #expect(line.contains("reason: Layer7 timeout"))
                #expect(!logs.lines.contains { $0.contains("web_backend/web02 is DOWN") })
            }
        }
    }

    @Test("every server DOWN: 503 with HAProxy's body")
    func allDown() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "check inter 200ms fall 2 rise 2"
            topology.defaults.append("timeout check 2s")
            let logs = LogCapture()
            try await withBalancer(topology, logs: logs) { port, _ in
                backends[0].healthy = false
                #expect(await eventually { logs.lines.contains { $0.contains("web_backend/web01 is DOWN") } })
                let response = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(response.status == 503)
                #expect(
                    response.body
                        == "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
                )
                #expect(logs.lines.contains { $0.contains("has no server available") })
            }
        }
    }

    @Test("a backend killed under load (seed config: no redispatch option): zero failed GETs")
    func killedUnderLoad() async throws {
        let (failures, counts) = try await self.killBackendUnderLoad(backendLines: [])
        #expect(failures == [])
        #expect(counts.values.reduce(0, +) == 500)
        #expect((counts["web02"] ?? 0) > 0, "web02 served requests before it was killed")
        #expect((counts["web02"] ?? 0) < (counts["web01"] ?? 0), "web02 stopped serving when killed")
    }

    @Test("the same kill with `no option redispatch`: HAProxy's plain retries on the dead server fail some GETs")
    func killedUnderLoadWithoutRedispatch() async throws {
        let (failures, counts) = try await self.killBackendUnderLoad(backendLines: ["no option redispatch"])
        // Until checks mark web02 DOWN, requests balanced to it retry web02 only and get HAProxy's 503; requests
        // already sent on its connections are not replayed (502). Every request still gets an answer.
        #expect(!failures.isEmpty)
        #expect(failures.allSatisfy { $0 == "status 503" || $0 == "status 502" }, "\(failures)")
        #expect(counts.values.reduce(0, +) == 500)
    }

    /// 10 keep-alive clients and 10 one-shot clients, 25 GETs each (500 in all), through the seed's shape with
    /// `backendLines` added; web02 is killed after the first 100. Returns the failures and the bodies served.
    private func killBackendUnderLoad(
        backendLines: [String]
    ) async throws -> (failures: [String], served: [String: Int]) {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "check inter 2s fall 3 rise 2"
            topology.backend += backendLines
            return try await withBalancer(topology) { port, _ in
                let failures = Mutex<[String]>([])
                let served = Mutex<[String: Int]>([:])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<20 {
                        group.addTask {
                            let keepAlive = client < 10
                            var connection =
                                keepAlive ? try await HTTPTestClient.connect(port: port, group: testGroup) : nil
                            for _ in 0..<25 {
                                do {
                                    let response: TestResponse
                                    if let connection {
                                        response = try await connection.request(.GET, "/")
                                    } else {
                                        response = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                                    }
                                    if response.status != 200 {
                                        failures.withLock { $0.append("status \(response.status)") }
                                    }
                                    served.withLock { $0[response.body, default: 0] += 1 }
                                    let closing = response.headers[canonicalForm: "connection"].contains("close")
                                    if let current = connection, closing {
                                        // An error response closes the connection, as HAProxy does.
                                        await current.close()
                                        connection = try await HTTPTestClient.connect(port: port, group: testGroup)
                                    }
                                } catch {
                                    failures.withLock { $0.append("\(error)") }
                                    if keepAlive {
                                        await connection?.close()
                                        connection = try await HTTPTestClient.connect(port: port, group: testGroup)
                                    }
                                }
                                try await Task.sleep(for: .milliseconds(4))
                            }
                            await connection?.close()
                        }
                    }
                    group.addTask {
                        // Kill web02 once about a fifth of the load went through (bounded wait).
                        _ = await eventually(timeout: .seconds(10)) {
                            served.withLock { $0.values.reduce(0, +) } >= 100
                        }
                        await backends[1].kill()
                    }
                    try await group.waitForAll()
                }
                return (failures.withLock { $0 }, served.withLock { $0 })
            }
        }
    }

    @Test(
        "first server dead, no checks: unset and `option redispatch` go on to web02, `no option redispatch` answers 503",
        arguments: [("", 200), ("option redispatch", 200), ("no option redispatch", 503)]
    )
    func redispatchSettings(line: String, status: Int) async throws {
        try await withBackends(["web02"], group: testGroup) { backends in
            // web01's port has no listener: every connect is refused at once.
            var topology = TestTopology(servers: [("web01", freePort()), ("web02", backends[0].port)])
            topology.backend += ["retries 1"] + (line.isEmpty ? [] : [line])
            try await withBalancer(topology) { port, _ in
                // Round robin starts with web01.
                let response = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(response.status == status)
                if status == 200 {
                    #expect(response.body == "web02")
                } else {
                    #expect(response.body.contains("No server is available to handle this request."))
                }
            }
        }
    }

    @Test("no server reachable (connection refused on every retry): 503")
    func noServerReachable() async throws {
        var topology = TestTopology(servers: [("web01", freePort())])
        topology.defaults.append("retries 2")
        try await withBalancer(topology) { port, _ in
            let response = try await HTTPTestClient.get(port: port, "/", group: testGroup)
            #expect(response.status == 503)
            #expect(response.body.contains("No server is available to handle this request."))
        }
    }

    @Test("timeout connect per attempt: a server that never completes the handshake is left for another one")
    func connectTimeout() async throws {
        // A listener that never accepts, with its backlog filled: further SYNs are dropped, so connecting hangs.
        let blackhole = try await ServerBootstrap(group: testGroup)
            .serverChannelOption(.backlog, value: 1)
            .serverChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let blackholePort = blackhole.localAddress?.port ?? 0
        var fillers: [Channel] = []
        for _ in 0..<4 {
            if let channel = try? await ClientBootstrap(group: testGroup)
                .connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: blackholePort).get()
            {
                fillers.append(channel)
            }
        }
        defer {
            for channel in fillers { channel.close(promise: nil) }
            blackhole.close(promise: nil)
        }
        try await withBackends(["web02"], group: testGroup) { backends in
            var topology = TestTopology(servers: [("web01", blackholePort), ("web02", backends[0].port)])
            topology.defaults[2] = "timeout connect 300ms"
            try await withBalancer(topology) { port, _ in
                let clock = ContinuousClock()
                let start = clock.now
                // Round robin sends the first request to web01: it times out, then goes to web02.
                let response = try await HTTPTestClient.get(port: port, "/", group: testGroup)
                #expect(response.status == 200)
                #expect(response.body == "web02")
                #expect(clock.now - start >= .milliseconds(250))
            }
        }
    }

    @Test("weights and backup servers: 3:1 split, the backup only serves when the active servers are DOWN")
    func weightsAndBackup() async throws {
        try await withBackends(["web01", "web02", "web03"], group: testGroup) { backends in
            var topology = TestTopology(servers: [])
            topology.backend += [
                "server web01 127.0.0.1:\(backends[0].port) check inter 200ms fall 2 rise 2 weight 3",
                "server web02 127.0.0.1:\(backends[1].port) check inter 200ms fall 2 rise 2 weight 1",
                "server web03 127.0.0.1:\(backends[2].port) check inter 200ms fall 2 rise 2 backup",
            ]
            topology.defaults.append("timeout check 2s")
            let logs = LogCapture()
            try await withBalancer(topology, logs: logs) { port, _ in
                var counts: [String: Int] = [:]
                for _ in 0..<8 {
                    counts[try await HTTPTestClient.get(port: port, "/", group: testGroup).body, default: 0] += 1
                }
                #expect(counts == ["web01": 6, "web02": 2])
                backends[0].healthy = false
                backends[1].healthy = false
                #expect(await eventually { logs.lines.filter { $0.contains(" is DOWN") }.count == 2 })
                var after: Set<String> = []
                for _ in 0..<3 {
                    after.insert(try await HTTPTestClient.get(port: port, "/", group: testGroup).body)
                }
                #expect(after == ["web03"])
            }
        }
    }
}
