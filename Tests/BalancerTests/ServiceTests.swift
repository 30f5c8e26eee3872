import Balancer
import HAProxyConfig
import NIOCore
import NIOPosix
import Testing

@Suite("Graceful stop")
struct ServiceTests {
    @Test("stop: new connections are refused at once, the request in flight still gets its response")
    func gracefulStop() async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .milliseconds(500)) { backends in
            let topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            let balancer = try LoadBalancer(
                config: try topology.config,
                options: BalancerOptions(maxConnections: 100, gracePeriod: .seconds(5)),
                threads: 2,
                logger: LogCapture().logger
            )
            try await balancer.start()
            let port = topology.port
            async let inFlight = HTTPTestClient.get(port: port, "/slow", group: testGroup)
            // Stop once the request is with the server (an idle connection would simply be closed).
            #expect(await eventually { backends[0].requests == 1 })
            async let stopped: Void = balancer.stop()
            try await Task.sleep(for: .milliseconds(100))
            await #expect(throws: (any Error).self) {
                _ = try await HTTPTestClient.get(port: port, "/", group: testGroup)
            }
            let response = try await inFlight
            #expect(response.status == 200)
            #expect(response.body == "web01")
            #expect(response.headers["connection"] == ["close"])
            await stopped
        }
    }

    @Test("stop: a connection waiting in the listen queue (frontend maxconn reached) is served, not reset")
    func queuedConnectionIsServedOnStop() async throws {
        // The slow request holds the only slot long enough for the second client to be seen in the queue, also
        // on a loaded machine (at 800 ms a slow run could see the slot free again first).
        try await withBackends(["web01"], group: testGroup, slowDelay: .seconds(3)) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.frontend = ["maxconn 1"]
            let balancer = try LoadBalancer(
                config: try topology.config, options: BalancerOptions(maxConnections: 100, gracePeriod: .seconds(5)),
                threads: 2, logger: LogCapture().logger)
            try await balancer.start()
            let port = topology.port
            async let first = HTTPTestClient.get(port: port, "/slow", group: testGroup)
            #expect(await eventually { backends[0].slowRequests == 1 })
            // The second client's handshake completes in the kernel and its request is sent, but the balancer, at its
            // maxconn, leaves the connection in the listening socket's queue.
            async let second = HTTPTestClient.get(port: port, "/", group: testGroup)
            #expect(await eventually { listenQueueLength(port: port) == 1 })
            await balancer.stop()
            #expect(try await first.status == 200)
            let queued = try await second
            #expect(queued.status == 200)
            #expect(queued.body == "web01")
        }
    }
}

/// How many accepted-by-the-kernel connections wait in the queue of the socket listening on 127.0.0.1:`port`
/// (/proc/net/tcp's rx_queue of a LISTEN socket, as `ss -lnt` shows it in Recv-Q); nil if none listens there.
func listenQueueLength(port: Int) -> Int? {
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
    let local = "0100007F:" + String(format: "%04X", port)
    for line in table.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        // sl local_address rem_address st tx_queue:rx_queue ...; st 0A is LISTEN.
        guard fields.count > 4, fields[1] == local, fields[3] == "0A" else { continue }
        return fields[4].split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
    return nil
}
