import Balancer
import BalancerCore
import Foundation
import HAProxyConfig
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The configuration text a supervisor reloads from, editable by the test (the file an operator edits).
final class EditableConfig: Sendable {
    private let text: Mutex<String>

    init(_ text: String) {
        self.text = Mutex(text)
    }

    func set(_ text: String) { self.text.withLock { $0 = text } }

    func load() -> ConfigParseResult {
        BalancerConfig.parse(self.text.withLock { $0 }, fileName: "haproxy.cfg")
    }
}

/// Runs a supervisor for `topology` (reloading from `file`) and always stops it.
func withSupervisor<T>(
    _ topology: OperationsTopology, file: EditableConfig, logs: LogCapture = LogCapture(),
    _ body: (BalancerSupervisor) async throws -> T
) async throws -> T {
    let supervisor = try BalancerSupervisor(
        config: try topology.config, load: { file.load() },
        options: BalancerOptions(maxConnections: 1000, gracePeriod: .seconds(3)), threads: 2, logger: logs.logger)
    do {
        try await supervisor.start()
        let result = try await body(supervisor)
        await supervisor.stop()
        return result
    } catch {
        await supervisor.stop()
        throw error
    }
}

/// Counts what a bounded client loop saw: `clients` concurrent loops, one fresh connection per request.
final class LoadTally: Sendable {
    private let counts = Mutex<(ok: Int, failed: [String])>((0, []))
    let stop = Atomic<Bool>(false)
    /// Responses that closed a kept-alive connection (`Connection: close`).
    let handedOver = Atomic<Int>(0)

    var ok: Int { self.counts.withLock { $0.ok } }
    var failures: [String] { self.counts.withLock { $0.failed } }

    func record(_ result: Result<TestResponse, Error>) {
        self.counts.withLock { counts in
            switch result {
            case .success(let response) where response.status == 200: counts.ok += 1
            case .success(let response): counts.failed.append("status \(response.status)")
            case .failure(let error): counts.failed.append("\(error)")
            }
        }
    }
}

/// Paced (`pause` between requests) so the loop does not churn through the ephemeral port range that the
/// other tests, running in parallel, pick their listening ports from.
func runLoad(port: Int, clients: Int, maxRequests: Int, pause: Duration = .milliseconds(4), tally: LoadTally) async {
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<clients {
            group.addTask {
                var sent = 0
                while !tally.stop.load(ordering: .relaxed), sent < maxRequests {
                    sent += 1
                    do {
                        tally.record(.success(try await HTTPTestClient.get(port: port, "/", group: testGroup)))
                    } catch {
                        tally.record(.failure(error))
                    }
                    try? await Task.sleep(for: pause)
                }
            }
        }
    }
}

/// Like `runLoad`, over kept-alive connections: a client reconnects only when a response says
/// `Connection: close` (what a reloading balancer says on the connections it hands over).
func runKeepAliveLoad(port: Int, clients: Int, maxRequests: Int, tally: LoadTally) async {
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<clients {
            group.addTask {
                var client: HTTPTestClient?
                var sent = 0
                while !tally.stop.load(ordering: .relaxed), sent < maxRequests {
                    sent += 1
                    do {
                        if client == nil { client = try await HTTPTestClient.connect(port: port, group: testGroup) }
                        guard let current = client else { continue }
                        let response = try await current.request(.GET, "/")
                        tally.record(.success(response))
                        if response.headers["connection"].contains(where: { $0.lowercased() == "close" }) {
                            tally.handedOver.wrappingAdd(1, ordering: .relaxed)
                            await current.close()
                            client = nil
                        }
                    } catch {
                        tally.record(.failure(error))
                        await client?.close()
                        client = nil
                    }
                    try? await Task.sleep(for: .milliseconds(4))
                }
                await client?.close()
            }
        }
    }
}

@Suite("Reload", .serialized)
struct ReloadTests {
    func topology(_ backends: [TestBackend]) -> OperationsTopology {
        // Syslog goes to a port nobody listens on: UDP, nothing is refused back to the balancer.
        OperationsTopology(
            servers: backends.map { ($0.name, $0.port) }, syslogPort: freePort(), socketPath: temporarySocketPath())
    }

    func waitUp(_ socket: String, _ servers: [String]) async -> Bool {
        await eventually {
            guard let stat = try? await runtimeCommand(socket, "show stat") else { return false }
            return servers.allSatisfy { csvValue(stat, "web_backend", $0, "status") == "UP" }
        }
    }

    @Test("10 reloads under a steady client loop: not one request fails")
    func reloadsUnderLoad() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = self.topology(backends)
            topology.serverOptions = "check inter 1s fall 3 rise 2"
            let file = EditableConfig(topology.text)
            try await withSupervisor(topology, file: file) { supervisor in
                #expect(await self.waitUp(topology.socketPath, ["web01", "web02"]))
                let tally = LoadTally()
                let port = topology.frontendPort
                async let load: Void = runLoad(port: port, clients: 3, maxRequests: 1000, tally: tally)
                var reloaded = 0
                let before = tally.ok
                for round in 0..<10 {
                    try await Task.sleep(for: .milliseconds(150))
                    // Every other reload really changes something (a weight), the others reload the same text.
                    // `inter 1s` (also the check timeout): a check slowed by a busy test machine must not fail.
                    topology.serverOptions = "check inter 1s fall 3 rise 2" + (round % 2 == 0 ? " weight 2" : "")
                    file.set(topology.text)
                    if await supervisor.reload() { reloaded += 1 }
                }
                let during = tally.ok - before
                try await Task.sleep(for: .milliseconds(150))
                tally.stop.store(true, ordering: .relaxed)
                await load
                #expect(reloaded == 10)
                #expect(tally.failures.isEmpty, "\(tally.failures.prefix(5))")
                // The clients kept going while the generations changed (at least one request per reload).
                #expect(during >= 10, "\(during) requests answered between the first and the last reload")
            }
        }
    }

    @Test("10 reloads under kept-alive clients: not one request fails")
    func reloadsUnderKeepAliveLoad() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = self.topology(backends)
            topology.serverOptions = "check inter 1s fall 3 rise 2"
            let file = EditableConfig(topology.text)
            try await withSupervisor(topology, file: file) { supervisor in
                #expect(await self.waitUp(topology.socketPath, ["web01", "web02"]))
                let tally = LoadTally()
                let port = topology.frontendPort
                async let load: Void = runKeepAliveLoad(port: port, clients: 3, maxRequests: 1000, tally: tally)
                var reloaded = 0
                let before = tally.ok
                for _ in 0..<10 {
                    try await Task.sleep(for: .milliseconds(150))
                    if await supervisor.reload() { reloaded += 1 }
                }
                let during = tally.ok - before
                try await Task.sleep(for: .milliseconds(150))
                tally.stop.store(true, ordering: .relaxed)
                await load
                #expect(reloaded == 10)
                #expect(tally.failures.isEmpty, "\(tally.failures.prefix(5))")
                // The clients kept going while the generations changed (at least one request per reload).
                #expect(during >= 10, "\(during) requests answered between the first and the last reload")
                // The old generations really handed their kept-alive connections over.
                #expect(tally.handedOver.load(ordering: .relaxed) >= 10)
            }
        }
    }

    @Test("a request in flight during a reload finishes on the old configuration")
    func inFlightRequestFinishesOnOldGeneration() async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .milliseconds(600)) { backends in
            var topology = self.topology(backends)
            topology.serverOptions = "check inter 1s fall 3 rise 2"
            let file = EditableConfig(topology.text)
            try await withSupervisor(topology, file: file) { supervisor in
                #expect(await self.waitUp(topology.socketPath, ["web01"]))
                let old = supervisor.balancer
                let port = topology.frontendPort
                async let slow = HTTPTestClient.get(port: port, "/slow", group: testGroup)
                try await Task.sleep(for: .milliseconds(150))
                // The new configuration would answer nothing but 503 (its only server is in maintenance).
                var next = topology
                next.serverOptions += " disabled"
                file.set(next.text)
                #expect(await supervisor.reload())
                #expect(supervisor.balancer !== old)
                let answered = try await slow
                #expect(answered.status == 200)
                #expect(answered.body == "web01")
                let after = try await HTTPTestClient.get(port: topology.frontendPort, "/", group: testGroup)
                #expect(after.status == 503, "new requests get the new configuration")
            }
        }
    }

    @Test("a broken file is refused with its errors; the running configuration keeps serving unchanged")
    func brokenReloadChangesNothing() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            let topology = self.topology(backends)
            let file = EditableConfig(topology.text)
            let logs = LogCapture()
            try await withSupervisor(topology, file: file, logs: logs) { supervisor in
                #expect(await self.waitUp(topology.socketPath, ["web01", "web02"]))
                let before = supervisor.balancer
                file.set(topology.text.replacingOccurrences(of: "balance roundrobin", with: "balanse roundrobin"))
                #expect(await supervisor.reload() == false)
                #expect(supervisor.balancer === before)
                #expect(
                    logs.lines.contains {
                        $0.contains("parsing [haproxy.cfg:") && $0.contains("unknown keyword 'balanse'")
                    })
                #expect(logs.lines.contains { $0.hasPrefix("Reload refused") })
                let served = try await answers(port: topology.frontendPort, count: 4)
                #expect(served.sorted() == ["web01", "web01", "web02", "web02"])
                let info = try await runtimeCommand(topology.socketPath, "show info")
                #expect(info.contains("Name: Portico"))

                // A file that parses but cannot start (its new frontend's port is taken): refused as well, and
                // the running generation takes connections again.
                file.set(
                    topology.text + "\nfrontend extra\n    bind 127.0.0.1:\(backends[0].port)\n"
                        + "    default_backend web_backend\n")
                #expect(await supervisor.reload() == false)
                #expect(supervisor.balancer === before)
                let servedAfter = try await answers(port: topology.frontendPort, count: 2)
                #expect(servedAfter.sorted() == ["web01", "web02"])
                let infoAfter = try await runtimeCommand(topology.socketPath, "show info")
                #expect(infoAfter.contains("Name: Portico"))
                #expect(infoAfter.contains("Stopping: 0"))
                let statAfter = try await runtimeCommand(topology.socketPath, "show stat")
                #expect(csvValue(statAfter, "web_entry", "FRONTEND", "status") == "OPEN")
            }
        }
    }

    @Test("unchanged servers keep their state across a reload; changed and new servers start fresh")
    func stateCarriedOver() async throws {
        try await withBackends(["web01", "web02", "web03"], group: testGroup) { backends in
            var topology = self.topology(Array(backends.prefix(2)))
            // Slow checks: nothing but the reload can change what the stats show during the test.
            topology.serverOptions = "check inter 10s fall 3 rise 2"
            let file = EditableConfig(topology.text)
            try await withSupervisor(topology, file: file) { supervisor in
                let socket = topology.socketPath
                #expect(try await runtimeCommand(socket, "set server web_backend/web01 state drain") == "\n")
                #expect(try await runtimeCommand(socket, "set server web_backend/web02 health down") == "\n")
                var next = topology
                next.servers.append(("web03", backends[2].port))
                file.set(next.text)
                #expect(await supervisor.reload())
                let stat = try await runtimeCommand(socket, "show stat")
                #expect(csvValue(stat, "web_backend", "web01", "status") == "DRAIN")
                #expect(csvValue(stat, "web_backend", "web02", "status") == "DOWN")
                #expect(csvValue(stat, "web_backend", "web03", "status") == "UP 1/3")
                // Only the new server takes traffic: the drained and the DOWN ones stayed out.
                #expect(try await answers(port: topology.frontendPort, count: 3) == ["web03", "web03", "web03"])

                // web01 edited (weight): it starts fresh, UP and READY.
                next.serverOptions = "check inter 10s fall 3 rise 2 weight 3"
                file.set(next.text)
                #expect(await supervisor.reload())
                let after = try await runtimeCommand(socket, "show stat")
                // Fresh: no longer DRAIN; "UP 1/3" until its first check, which runs at once, then "UP".
                #expect(csvValue(after, "web_backend", "web01", "status")?.hasPrefix("UP") == true)
                #expect(csvValue(after, "web_backend", "web01", "weight") == "3")
            }
        }
    }
}
