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
}
