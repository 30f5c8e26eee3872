import Balancer
import NIOCore
import NIOPosix
import Testing

/// The head of an upgrade request as a WebSocket client sends it.
private func upgradeRequest(
    _ path: String, method: String = "GET", version: String = "HTTP/1.1", connection: String = "keep-alive, Upgrade",
    extra: String = ""
) -> String {
    "\(method) \(path) \(version)\r\nHost: test\r\nConnection: \(connection)\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
}

/// The upgrade backend as the only server of `web_backend`, behind a balancer; both always stopped.
private func withUpgradeBackend<T>(
    backendLines: [String] = [],
    _ body: (Int, UpgradeBackend) async throws -> T
) async throws -> T {
    LoadBalancer.typeMetadataWarmedUp
    let backend = UpgradeBackend(group: testGroup)
    try await backend.start()
    do {
        var topology = TestTopology(servers: [("ws01", backend.port)])
        topology.backend += backendLines
        let result = try await withBalancer(topology, threads: 2) { port, _ in try await body(port, backend) }
        await backend.stop()
        return result
    } catch {
        await backend.stop()
        throw error
    }
}

/// `withUpgradeBackend` with one raw client connected to the balancer for the body's duration.
private func withUpgradeClient<T>(
    backendLines: [String] = [],
    _ body: (RawClient, UpgradeBackend) async throws -> T
) async throws -> T {
    try await withUpgradeBackend(backendLines: backendLines) { port, backend in
        let client = try await RawClient.connect(port: port, group: testGroup)
        defer { Task { await client.close() } }
        return try await body(client, backend)
    }
}

/// A balancer with syslog capture and a runtime socket in front of one `UpgradeBackend`; `backendLine` is
/// added to its backend section.
private func withLoggedUpgradeBalancer<T>(
    backendLine: String, _ body: (OperationsTopology, SyslogCollector) async throws -> T
) async throws -> T {
    LoadBalancer.typeMetadataWarmedUp
    let backend = UpgradeBackend(group: testGroup)
    try await backend.start()
    defer { Task { await backend.stop() } }
    return try await withOperationsBalancer({ syslog in
        var topology = OperationsTopology(
            servers: [("web01", backend.port)], syslogPort: syslog, socketPath: temporarySocketPath())
        topology.backendLines.append(backendLine)
        return topology
    }) { topology, _, syslog in
        try await body(topology, syslog)
    }
}

@Suite("Protocol upgrades (WebSocket) through mode http")
struct UpgradeTests {
    @Test("a 101 makes a tunnel: bytes sent behind the request head and several round trips are echoed")
    func tunnelEchoes() async throws {
        try await withUpgradeClient { client, backend in
            // The first tunnel bytes travel in the same write as the request head.
            try await client.send(upgradeRequest("/ws") + "early-bytes")
            #expect(await client.receive("early-bytes"))
            let text = client.received
            #expect(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), "\(text)")
            #expect(text.contains("\r\nUpgrade: websocket\r\n"), "\(text)")
            #expect(text.contains("\r\nConnection: Upgrade\r\n"), "\(text)")
            #expect(text.hasSuffix("\r\n\r\nearly-bytes"), "\(text)")
            for round in 1...5 {
                try await client.send("ping-\(round);")
                #expect(await client.receive("ping-\(round);"), "round \(round): \(client.received)")
            }
            #expect(client.received.hasSuffix("early-bytesping-1;ping-2;ping-3;ping-4;ping-5;"))
            #expect(!client.sawEOF)
            // The server was offered the upgrade.
            let head = try #require(backend.heads.first).lowercased()
            #expect(head.contains("\r\nupgrade: websocket"), "\(head)")
            #expect(head.contains("\r\nconnection: upgrade"), "\(head)")
            #expect(head.contains("sec-websocket-key: dghlihnhbxbszsbub25jzq=="), "\(head)")
        }
    }

    @Test("4 MiB through the tunnel and back arrive whole and in order")
    func largeTransfer() async throws {
        try await withUpgradeClient { client, _ in
            try await client.send(upgradeRequest("/ws"))
            #expect(await client.receive("\r\n\r\n"))
            let headLength = client.received.utf8.count
            var payload = ""
            for index in 0..<(4 * 1024 * 1024 / 16) { payload += line16(index) }
            try await client.send(payload)
            let expected = headLength + payload.utf8.count
            #expect(await eventually(timeout: .seconds(20)) { client.received.utf8.count >= expected })
            let intact = client.received.utf8.dropFirst(headLength).elementsEqual(payload.utf8)
            #expect(intact, "the echo differs from what was sent")
        }
    }

    @Test("backpressure: a client that does not read holds the server back; what was held arrives when it reads")
    func backpressureTowardsTheClient() async throws {
        try await withUpgradeBackend { port, backend in
            let client = try await RawClient.connect(port: port, group: testGroup, autoRead: false)
            defer { Task { await client.close() } }
            try await client.send(upgradeRequest("/ws-flood"))
            #expect(await eventually { backend.flooded > 0 })
            // Socket buffers on the way (server, balancer both sides, client) hold some MiB at most; a relay
            // that read on regardless would let the server write all of its 64 MiB.
            try await Task.sleep(for: .seconds(1))
            let held = backend.flooded
            #expect(held < backend.floodSize / 2, "the server wrote \(held) bytes to a client that reads nothing")
            try await client.startReading()
            #expect(await eventually(timeout: .seconds(30)) { client.receivedCount >= backend.floodSize })
            #expect(backend.flooded == backend.floodSize)
        }
    }

    @Test("backpressure: a server that does not read holds the client back")
    func backpressureTowardsTheServer() async throws {
        try await withUpgradeClient { client, _ in
            try await client.send(upgradeRequest("/ws-stall"))
            #expect(await client.receive("\r\n\r\n"))
            // 64 MiB in 1 MiB writes; a write completes once the client's socket took it.
            let written = TestCounter()
            let chunk = ByteBuffer(repeating: UInt8(ascii: "c"), count: 1024 * 1024)
            for _ in 0..<64 {
                client.channel.writeAndFlush(chunk).whenSuccess { written.add(chunk.readableBytes) }
            }
            try await Task.sleep(for: .seconds(1))
            #expect(written.value < 32 * 1024 * 1024, "\(written.value) bytes left the client")
        }
    }

    @Test("a server closing the tunnel closes the client connection, after what it sent")
    func serverCloseEndsTunnel() async throws {
        try await withUpgradeClient { client, _ in
            try await client.send(upgradeRequest("/ws-bye"))
            #expect(await client.waitForEOF())
            #expect(client.received.contains("101 Switching Protocols"))
            #expect(client.received.hasSuffix("\r\n\r\nbye"), "\(client.received)")
        }
    }

    @Test("a client closing the tunnel closes the server connection")
    func clientCloseEndsTunnel() async throws {
        try await withUpgradeBackend { port, backend in
            let client = try await RawClient.connect(port: port, group: testGroup)
            try await client.send(upgradeRequest("/ws") + "hello")
            #expect(await client.receive("hello"))
            await client.close()
            #expect(await eventually { backend.tunnelEOFs == 1 })
        }
    }

    @Test("a client's FIN reaches the server as a FIN; what the server sends after it still reaches the client")
    func halfCloseRelayed() async throws {
        try await withUpgradeClient { client, backend in
            try await client.send(upgradeRequest("/ws") + "last")
            #expect(await client.receive("last"))
            try await client.finishSending()
            #expect(await client.receive("eof-seen"))
            #expect(await client.waitForEOF())
            #expect(client.received.hasSuffix("lasteof-seen"))
            #expect(backend.tunnelEOFs == 1)
        }
    }

    @Test("timeout tunnel closes an idle tunnel on both sides")
    func tunnelTimeout() async throws {
        try await withUpgradeClient(backendLines: ["timeout tunnel 300ms"]) { client, backend in
            try await client.send(upgradeRequest("/ws") + "once")
            #expect(await client.receive("once"))
            // `timeout client` and `timeout server` are 30 s here: only the tunnel timeout can close it.
            #expect(await client.waitForEOF(timeout: .seconds(5)))
            #expect(await eventually { backend.tunnelEOFs == 1 })
        }
    }

    @Test("timeout server-fin: a tunnel shut in one direction closes after it, not after timeout tunnel")
    func finTimeoutClosesHalfClosedTunnel() async throws {
        try await withUpgradeClient(backendLines: ["timeout tunnel 30s", "timeout server-fin 300ms"]) { client, _ in
            // The server takes the FIN relayed to it but neither answers nor closes: the tunnel stays half-closed.
            try await client.send(upgradeRequest("/ws-linger"))
            #expect(await client.receive("\r\n\r\n"))
            try await client.finishSending()
            #expect(await client.waitForEOF(timeout: .seconds(5)))
        }
    }

    @Test("without timeout tunnel, the shorter of timeout client and timeout server closes an idle tunnel")
    func tunnelFallsBackToServerTimeout() async throws {
        try await withUpgradeClient(backendLines: ["timeout server 300ms"]) { client, backend in
            try await client.send(upgradeRequest("/ws") + "once")
            #expect(await client.receive("once"))
            #expect(await client.waitForEOF(timeout: .seconds(5)))
            #expect(await eventually { backend.tunnelEOFs == 1 })
        }
    }

    @Test("any other answer to an upgrade request is a normal response; the connection stays HTTP and kept alive")
    func refusedUpgradeStaysHTTP() async throws {
        try await withUpgradeClient { client, backend in
            // A second request pipelined in the same write, behind the upgrade request.
            try await client.send(upgradeRequest("/refused") + "GET /second HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await client.receive("/second"), "\(client.received)")
            #expect(client.received.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(client.received.contains("\r\n\r\n/refused"))
            #expect(!client.received.contains(" 101 "))
            // And a later request on the same connection.
            try await client.send("GET /third HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await client.receive("/third"), "\(client.received)")
            #expect(!client.sawEOF)
            #expect(backend.heads.count == 3)
        }
    }

    @Test("a 101 the client did not ask for is a broken server: 502")
    func unsolicitedSwitchIsBadGateway() async throws {
        try await withUpgradeBackend { port, _ in
            let raw = try await rawExchange(
                port: port, "GET /unsolicited HTTP/1.1\r\nHost: test\r\n\r\n", group: testGroup)
            #expect(statusCode(raw) == 502, "\(raw)")
        }
    }

    @Test("as HAProxy 2.6: a WebSocket handshake without Sec-WebSocket-Key is a 400; a 101 without the accept a 502")
    func webSocketHandshakeFieldsChecked() async throws {
        try await withUpgradeBackend { port, backend in
            let noKey = try await rawExchange(
                port: port, "GET /ws HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                group: testGroup)
            #expect(statusCode(noKey) == 400, "\(noKey)")
            #expect(backend.heads.isEmpty)
            let noAccept = try await rawExchange(port: port, upgradeRequest("/ws-no-accept"), group: testGroup)
            #expect(statusCode(noAccept) == 502, "\(noAccept)")
        }
    }

    @Test("an HTTP/1.0 request without Host reaches the server as HTTP/1.0, which keeps its connection alive")
    func http10WithoutHost() async throws {
        try await withUpgradeBackend { port, backend in
            // One client connection (one event loop, one pool), the second request after the first answer.
            let client = try await RawClient.connect(port: port, group: testGroup)
            defer { Task { await client.close() } }
            try await client.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(await client.receive("\r\n\r\n/one"), "\(client.received)")
            try await client.send("GET /two HTTP/1.0\r\n\r\n")
            #expect(await client.receive("\r\n\r\n/two"), "\(client.received)")
            #expect(client.received.hasPrefix("HTTP/1.0 200 OK\r\n"), "\(client.received)")
            let heads = backend.heads
            #expect(heads.count == 2)
            #expect(heads.allSatisfy { $0.hasPrefix("GET /") && $0.contains(" HTTP/1.0\r\n") }, "\(heads)")
            #expect(heads.allSatisfy { $0.lowercased().contains("connection: keep-alive") }, "\(heads)")
            // The second request rode the server connection the first one left in the pool.
            #expect(backend.connections == 1)
        }
    }

    @Test("a response a server sends unasked behind another never answers the client's next pipelined request")
    func strayResponseNeverAnswersTheNextRequest() async throws {
        try await withUpgradeClient { client, _ in
            try await client.send("GET /extra HTTP/1.1\r\nHost: test\r\n\r\nGET /second HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await client.receive("/second"), "\(client.received)")
            #expect(client.received.contains("\r\n\r\n/extra"))
            #expect(!client.received.contains("stray"))
        }
    }

    @Test("a 101 without Connection: upgrade is a broken server (502): its bytes would be read as HTTP")
    func bareSwitchIsBadGateway() async throws {
        try await withUpgradeBackend { port, _ in
            let raw = try await rawExchange(port: port, upgradeRequest("/ws-bare"), group: testGroup)
            #expect(statusCode(raw) == 502, "\(raw)")
        }
    }

    @Test("Upgrade with Proxy-Connection: upgrade is not offered, and the connection goes on with the next request")
    func proxyConnectionUpgradeDoesNotFreeze() async throws {
        try await withUpgradeClient { client, backend in
            // NIO's decoder stops behind this request (llhttp reads Proxy-Connection as Connection): the
            // next request on the connection must still be answered.
            try await client.send(
                "GET /first HTTP/1.1\r\nHost: test\r\nProxy-Connection: upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            #expect(await client.receive("/first"), "\(client.received)")
            try await client.send("GET /second HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await client.receive("/second"), "\(client.received)")
            #expect(!client.received.contains(" 101 "))
            #expect(backend.heads.first.map { !$0.lowercased().contains("upgrade") } ?? false)
        }
    }

    @Test("a tab beside the upgrade token of Connection is ambiguous to the decoder: 400, nothing reaches a server")
    func tabInConnectionRefused() async throws {
        try await withUpgradeBackend { port, backend in
            let raw = try await rawExchange(
                port: port, upgradeRequest("/ws", connection: "Upgrade\t") + "GET /behind HTTP/1.1\r\n\r\n",
                group: testGroup)
            #expect(statusCode(raw) == 400, "\(raw)")
            #expect(backend.heads.isEmpty)
        }
    }

    @Test("the server gets Upgrade and Connection: upgrade; other hop-by-hop fields and those Connection names do not")
    func upstreamHeadOffersUpgrade() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withBalancer(TestTopology(servers: [("web01", backends[0].port)]), threads: 2) { port, _ in
                let raw = try await rawExchange(
                    port: port,
                    "GET /headers HTTP/1.1\r\nHost: test\r\nConnection: Upgrade, X-Private, close\r\n"
                        + "X-Private: secret\r\nKeep-Alive: timeout=5\r\nUpgrade: websocket\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                    group: testGroup)
                #expect(statusCode(raw) == 200, "\(raw)")
                let fields = raw.split(separator: "\r\n\r\n", maxSplits: 1).last.map(String.init) ?? ""
                #expect(fields.contains("upgrade: websocket\n"), "\(fields)")
                #expect(fields.contains("connection: upgrade\n"), "\(fields)")
                #expect(fields.contains("sec-websocket-key: "), "\(fields)")
                #expect(!fields.contains("x-private"), "\(fields)")
                #expect(!fields.contains("keep-alive"), "\(fields)")
            }
        }
    }

    @Test("HTTP/1.0 and requests with a body are not upgraded: Upgrade is not forwarded")
    func notUpgradable() async throws {
        try await withUpgradeBackend { port, backend in
            let old = try await rawExchange(
                port: port, upgradeRequest("/ws", version: "HTTP/1.0", connection: "Upgrade"), group: testGroup)
            #expect(statusCode(old) == 200, "\(old)")
            #expect(old.hasSuffix("no upgrade"), "\(old)")

            let client = try await RawClient.connect(port: port, group: testGroup)
            defer { Task { await client.close() } }
            let post = upgradeRequest("/ws", method: "POST", extra: "Content-Length: 5\r\n")
            try await client.send(post + "hello")
            #expect(await client.receive("no upgrade"), "\(client.received)")
            #expect(client.received.hasPrefix("HTTP/1.1 200 OK\r\n"))
            // Still HTTP on the same connection.
            try await client.send("GET /after HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await client.receive("/after"), "\(client.received)")

            let heads = backend.heads.map { $0.lowercased() }
            #expect(heads.count == 3)
            #expect(heads.allSatisfy { !$0.contains("\r\nupgrade:") }, "\(heads)")
            #expect(heads.allSatisfy { !$0.contains("connection: upgrade") }, "\(heads)")
        }
    }

    @Test("a half-closed tunnel without -fin timeouts is closed by the shorter side's timeout and logged with its letter")
    func halfClosedTunnelKeepsTimeoutSide() async throws {
        // No timeout tunnel: the idle tunnel falls to the shorter of timeout client (30s) and timeout server.
        try await withLoggedUpgradeBalancer(backendLine: "timeout server 300ms") { topology, syslog in
            let client = try await RawClient.connect(port: topology.frontendPort, group: testGroup)
            defer { Task { await client.close() } }
            // The server takes the relayed FIN but neither answers nor closes: the tunnel stays half-closed.
            try await client.send(upgradeRequest("/ws-linger"))
            #expect(await client.receive("\r\n\r\n"))
            try await client.finishSending()
            #expect(await client.waitForEOF(timeout: .seconds(5)))
            let logged = { (line: String) in line.contains("\"GET /ws-linger HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: logged) })
            let fields = (syslog.lines.first(where: logged) ?? "").split(separator: " ").map(String.init)
            let status = try #require(fields.firstIndex(of: "101"), "\(fields)")
            // Server-side timeout in the data phase, as HAProxy logs it (the client's FIN does not make it cD).
            #expect(fields[status + 4] == "sD--", "\(fields)")
        }
    }

    @Test("a tunnel is logged once, when it ends: 101, every byte relayed, ----, cD-- on timeout, SD-- on a reset")
    func tunnelLoggedAtTheEnd() async throws {
        try await withLoggedUpgradeBalancer(backendLine: "timeout tunnel 1s") { topology, syslog in
            // Closed by the client after one echo.
            let client = try await RawClient.connect(port: topology.frontendPort, group: testGroup)
            try await client.send(upgradeRequest("/ws?closed") + "abc")
            #expect(await client.receive("abc"))
            let received = client.received.utf8.count
            // Still open: nothing is logged before the tunnel ends.
            try await Task.sleep(for: .milliseconds(100))
            #expect(!syslog.lines.contains { $0.contains("/ws?closed") })
            await client.close()
            let closed = { (line: String) in line.contains("\"GET /ws?closed HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: closed) })
            let fields = (syslog.lines.first(where: closed) ?? "").split(separator: " ").map(String.init)
            // `... web_entry web_backend/web01 0/0/0/1/123 101 <bytes> - - ---- 1/1/0/0/0 0/0 "GET ..."`
            let status = try #require(fields.firstIndex(of: "101"), "\(fields)")
            #expect(fields[status - 1].split(separator: "/").count == 5)
            // Bytes: the 101 head and the echo, plus the server's `eof-seen` when it answered the relayed FIN
            // before the client connection was gone (HAProxy counts those too).
            #expect([String(received), String(received + 8)].contains(fields[status + 1]), "\(fields)")
            #expect(fields[status + 4] == "----", "\(fields)")
            #expect(syslog.lines.filter(closed).count == 1)

            // Left idle: `timeout tunnel` closes it, logged as HAProxy does (client-side timeout, data phase).
            let idle = try await RawClient.connect(port: topology.frontendPort, group: testGroup)
            defer { Task { await idle.close() } }
            try await idle.send(upgradeRequest("/ws?idle"))
            #expect(await idle.receive("\r\n\r\n"))
            #expect(await idle.waitForEOF())
            let timedOut = { (line: String) in line.contains("\"GET /ws?idle HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: timedOut) })
            let idleFields = (syslog.lines.first(where: timedOut) ?? "").split(separator: " ").map(String.init)
            let idleStatus = try #require(idleFields.firstIndex(of: "101"), "\(idleFields)")
            #expect(idleFields[idleStatus + 4] == "cD--", "\(idleFields)")
            let active = idleFields[idleStatus - 1].split(separator: "/").compactMap { Int($0) }.last ?? 0
            #expect(active >= 1000, "Ta covers the whole tunnel")

            // Reset by the server: `SD--`, and the client connection closes.
            let reset = try await RawClient.connect(port: topology.frontendPort, group: testGroup)
            defer { Task { await reset.close() } }
            try await reset.send(upgradeRequest("/ws-reset"))
            #expect(await reset.waitForEOF())
            let wasReset = { (line: String) in line.contains("\"GET /ws-reset HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: wasReset) })
            let resetFields = (syslog.lines.first(where: wasReset) ?? "").split(separator: " ").map(String.init)
            let resetStatus = try #require(resetFields.firstIndex(of: "101"), "\(resetFields)")
            #expect(resetFields[resetStatus + 4] == "SD--", "\(resetFields)")

            let stat = try await runtimeCommand(topology.socketPath, "show stat")
            #expect(csvValue(stat, "web_entry", "FRONTEND", "hrsp_1xx") == "3", "\(stat)")
            #expect(csvValue(stat, "web_backend", "web01", "hrsp_1xx") == "3", "\(stat)")
        }
    }
}

/// `index` as 16 bytes: a 15-digit decimal and a newline, so a lost or reordered piece shows.
private func line16(_ index: Int) -> String {
    let digits = String(index)
    return String(repeating: "0", count: max(0, 15 - digits.count)) + digits + "\n"
}

/// A counter shared with event loop callbacks.
private final class TestCounter: Sendable {
    private let lock = TestLock()
    nonisolated(unsafe) private var count = 0

    var value: Int { self.lock.withLock { self.count } }

    func add(_ amount: Int) {
        self.lock.withLock { self.count += amount }
    }
}
