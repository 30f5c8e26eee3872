import Balancer
import BalancerCore
import Foundation
import HAProxyConfig
import NIOCore
import Testing

@Suite("Stats rates over loopback", .serialized)
struct StatsRateTests {
    let admin = basicAuthorization("admin", "strong_password_here")

    /// The named columns of one row of a fresh `;csv` read, as numbers (-1: empty or missing).
    func read(_ topology: OperationsTopology, _ proxy: String, _ service: String, _ columns: [String]) async
        -> [String: Int]
    {
        guard
            let csv = try? await HTTPTestClient.get(
                port: topology.statsPort, "/stats;csv", group: testGroup, headers: [self.admin]
            ).body
        else { return [:] }
        var values: [String: Int] = [:]
        for column in columns {
            values[column] = Int(csvValue(csv, proxy, service, column) ?? "") ?? -1
        }
        return values
    }

    // No timing is asserted tightly (the machine is shared): 50 requests sent at once must show as at least
    // 25/s in some one-second window, and at most 50/s since there were only 50.
    @Test("a burst of 50 requests shows in the rate columns; then the current rates fall to 0 and the max stays")
    func burstThenIdle() async throws {
        try await withTwoServerOperations { topology, _, _ in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await HTTPTestClient.get(port: topology.frontendPort, "/", group: testGroup).status
                    }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses == Array(repeating: 200, count: 50))

            let frontendColumns = [
                "rate", "rate_max", "rate_lim", "req_rate", "req_rate_max", "conn_rate", "conn_rate_max", "stot",
            ]
            var frontend: [String: Int] = [:]
            let measured = await eventually(timeout: .seconds(4)) {
                frontend = await self.read(topology, "web_entry", "FRONTEND", frontendColumns)
                return frontend["req_rate_max", default: -1] >= 25
            }
            #expect(measured, "\(frontend)")
            #expect(frontend["stot"] == 50)
            #expect((25...50).contains(frontend["rate_max", default: -1]), "\(frontend)")
            #expect((25...50).contains(frontend["req_rate_max", default: -1]), "\(frontend)")
            #expect((0...frontend["rate_max", default: -1]).contains(frontend["rate", default: -1]))
            #expect((0...frontend["req_rate_max", default: -1]).contains(frontend["req_rate", default: -1]))
            // Each request came on its own connection: connections, sessions and requests all count 50.
            #expect(frontend["conn_rate_max"] == frontend["rate_max"])
            #expect(frontend["rate_lim"] == 0)

            let backend = await self.read(topology, "web_backend", "BACKEND", ["rate", "rate_max", "req_rate"])
            #expect((25...50).contains(backend["rate_max", default: -1]), "\(backend)")
            #expect(backend["req_rate"] == -1, "only frontends have req_rate")
            var serverPeaks = 0
            for server in ["web01", "web02"] {
                let row = await self.read(topology, "web_backend", server, ["rate", "rate_max"])
                #expect((1...50).contains(row["rate_max", default: -1]), "\(server) \(row)")
                #expect((0...row["rate_max", default: -1]).contains(row["rate", default: -1]))
                serverPeaks += row["rate_max", default: 0]
            }
            #expect(serverPeaks >= 25)

            // A second later with no traffic, the current rates read 0 while the highest stay.
            var idle: [String: Int] = [:]
            let settled = await eventually(timeout: .seconds(4)) {
                idle = await self.read(topology, "web_entry", "FRONTEND", frontendColumns)
                return idle["rate"] == 0 && idle["req_rate"] == 0 && idle["conn_rate"] == 0
            }
            #expect(settled, "\(idle)")
            #expect(idle["rate_max", default: -1] >= frontend["rate_max", default: Int.max])
            #expect(idle["req_rate_max", default: -1] >= frontend["req_rate_max", default: Int.max])

            // The same figures in the other renderings.
            let info = try await runtimeCommand(topology.socketPath, "show info")
            let maxSessRate = info.split(separator: "\n").first { $0.hasPrefix("MaxSessRate: ") }
            #expect(Int(maxSessRate?.dropFirst("MaxSessRate: ".count) ?? "") ?? 0 >= 25, "\(info)")
            let metrics = try await HTTPTestClient.get(port: topology.frontendPort, "/metrics", group: testGroup)
            let peak = idle["req_rate_max", default: -1]
            #expect(
                metrics.body.contains("haproxy_frontend_http_requests_rate_max{proxy=\"web_entry\"} \(peak)\n"))
        }
    }
}
