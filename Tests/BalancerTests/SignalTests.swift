import Foundation
import Spawning
import NIOCore
import NIOPosix
import Testing

/// The `portico` executable next to the test bundle, when the test run built it (not in PORTICO_PURE builds).
enum PorticoBinary {
    static let path: String? = {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("portico").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

/// A `portico lb` process on loopback with its files in a temporary directory; killed at the end in any case.
final class LBProcess: @unchecked Sendable {
    let directory: URL
    let process: SpawnedProcess
    var configPath: String { self.directory.appendingPathComponent("haproxy.cfg").path }
    var logPath: String { self.directory.appendingPathComponent("stderr.log").path }
    var outputPath: String { self.directory.appendingPathComponent("stdout.log").path }
    var pid: pid_t { self.process.pid }

    /// - Parameter launcher: a command that runs portico, e.g. `["/usr/bin/taskset", "-c", "0"]`; empty: run it
    ///   directly.
    init(config: String, launcher: [String] = []) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pops-lb-\(UInt32.random(in: 0...UInt32.max))")
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configPath = directory.appendingPathComponent("haproxy.cfg").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let portico = PorticoBinary.path ?? "/nonexistent"
        self.process = try SpawnedProcess(
            launcher + [portico, "lb", "-f", configPath, "--grace", "5"],
            output: .file(directory.appendingPathComponent("stdout.log").path),
            error: .file(directory.appendingPathComponent("stderr.log").path))
    }

    var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }
    var output: String { (try? String(contentsOfFile: self.outputPath, encoding: .utf8)) ?? "" }

    func rewrite(_ config: String) throws {
        try config.write(toFile: self.configPath, atomically: true, encoding: .utf8)
    }

    func signal(_ number: Int32) { self.process.signal(number) }

    /// Waits (bounded) for the process to exit; nil if it is still running.
    func exitStatus(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.process.exitStatus
    }

    /// `portico lb ctl SOCKET COMMAND...`: its exit status and output.
    func control(_ socket: String, _ command: [String]) throws -> (Int32, String) {
        try SpawnedProcess.run([PorticoBinary.path ?? "/nonexistent", "lb", "ctl", socket] + command)
    }

    /// Stops the process if a test left it running (SIGTERM, then SIGKILL after 5 s) and removes its files.
    func cleanUp(socket: String) {
        self.process.stop(grace: 5)
        try? FileManager.default.removeItem(at: self.directory)
        unlink(socket)
    }
}

@Suite("portico lb signals and commands", .serialized, .enabled(if: PorticoBinary.path != nil))
struct SignalTests {
    func start(_ backends: [TestBackend]) throws -> (LBProcess, OperationsTopology) {
        var topology = OperationsTopology(
            servers: backends.map { ($0.name, $0.port) }, syslogPort: freePort(), socketPath: temporarySocketPath())
        topology.serverOptions = "check inter 1s fall 3 rise 2"
        return (try LBProcess(config: topology.text), topology)
    }

    @Test("SIGHUP with a broken file keeps serving; a good file reloads; SIGTERM finishes a slow request, exit 0")
    func reloadAndStop() async throws {
        try await withBackends(["web01", "web02"], group: testGroup, slowDelay: .milliseconds(800)) { backends in
            let (lb, topology) = try self.start(backends)
            defer { lb.cleanUp(socket: topology.socketPath) }
            #expect(await eventually { (try? await runtimeCommand(topology.socketPath, "show info")) != nil })

            try lb.rewrite(topology.text.replacingOccurrences(of: "mode http", with: "mdoe http"))
            let reload = try SpawnedProcess.run(
                [try #require(PorticoBinary.path), "lb", "reload", "--pid", String(lb.pid)])
            #expect(reload.status == 0, "\(reload.output)")
            #expect(await eventually { lb.log.contains("Reload refused") })
            #expect(lb.log.contains("parsing [\(lb.configPath):"))
            let stillServing = try await HTTPTestClient.get(port: topology.frontendPort, "/", group: testGroup)
            #expect(stillServing.status == 200)

            var edited = topology
            edited.serverOptions += " weight 2"
            try lb.rewrite(edited.text.replacingOccurrences(of: "    maxconn 1000", with: "    maxconn 500"))
            lb.signal(SIGHUP)
            #expect(await eventually { lb.log.contains("Reload complete") })
            let (status, output) = try lb.control(topology.socketPath, ["show", "stat"])
            #expect(status == 0)
            #expect(csvValue(output, "web_backend", "web01", "weight") == "2")
            let (_, info) = try lb.control(topology.socketPath, ["show", "info"])
            #expect(info.contains("\nMaxconn: 500\n"), "the reloaded global maxconn applies")
            let (badStatus, badOutput) = try lb.control(topology.socketPath, ["disable", "server", "nope/web01"])
            #expect(badStatus == 1)
            #expect(badOutput == "No such backend.\n\n")

            // A request in flight when SIGTERM arrives still gets its answer; then the process exits 0.
            async let slow = HTTPTestClient.get(port: topology.frontendPort, "/slow", group: testGroup)
            // SIGTERM only once the request reached a server: sent earlier, on a busy machine, it could still
            // be waiting in the listen queue, which a stopping balancer no longer accepts from.
            #expect(await eventually { backends.map(\.slowRequests).reduce(0, +) == 1 })
            lb.signal(SIGTERM)
            let answered = try await slow
            #expect(answered.status == 200)
            #expect(await lb.exitStatus(within: .seconds(8)) == 0)
            #expect(!FileManager.default.fileExists(atPath: topology.socketPath), "the socket file is removed")
        }
    }

    @Test("SIGTERM at frontend maxconn: the connection waiting in the listen queue is served, not reset; exit 0")
    func stopServesTheListenQueue() async throws {
        // The slow request holds the only slot long enough for the second client to be seen in the queue, also
        // on a loaded machine (at 800 ms a slow run could see the slot free again first).
        try await withBackends(["web01"], group: testGroup, slowDelay: .seconds(3)) { backends in
            var topology = OperationsTopology(
                servers: backends.map { ($0.name, $0.port) }, syslogPort: freePort(), socketPath: temporarySocketPath())
            topology.serverOptions = ""
            topology.frontendLines = ["maxconn 1"]
            let port = topology.frontendPort
            let socketPath = topology.socketPath
            let lb = try LBProcess(config: topology.text)
            defer { lb.cleanUp(socket: socketPath) }
            #expect(await eventually { (try? await runtimeCommand(socketPath, "show info")) != nil })
            async let first = HTTPTestClient.get(port: port, "/slow", group: testGroup)
            #expect(await eventually { backends[0].slowRequests == 1 })
            async let second = HTTPTestClient.get(port: port, "/", group: testGroup)
            #expect(await eventually { listenQueueLength(port: port) == 1 })
            lb.signal(SIGTERM)
            #expect(try await first.status == 200)
            let queued = try await second
            #expect(queued.status == 200)
            #expect(queued.body == "web01")
            #expect(await lb.exitStatus(within: .seconds(8)) == 0)
            // Once stopped, the port is closed: a new client is refused at once.
            await #expect(throws: (any Error).self) {
                _ = try await HTTPTestClient.get(port: port, "/", group: testGroup)
            }
        }
    }

    @Test("log stdout format raw: one httplog line per request on standard output, for containers")
    func logToStandardOutput() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            var topology = OperationsTopology(
                servers: backends.map { ($0.name, $0.port) }, syslogPort: freePort(), socketPath: temporarySocketPath())
            topology.serverOptions = "check inter 1s fall 3 rise 2"
            let text = topology.text.replacingOccurrences(
                of: "    log 127.0.0.1:\(topology.syslogPort) local2", with: "    log stdout format raw local0")
            let lb = try LBProcess(config: text)
            defer { lb.cleanUp(socket: topology.socketPath) }
            #expect(await eventually { (try? await runtimeCommand(topology.socketPath, "show info")) != nil })
            let response = try await HTTPTestClient.get(port: topology.frontendPort, "/raw-log", group: testGroup)
            #expect(response.status == 200)
            #expect(await eventually { lb.output.contains("\"GET /raw-log HTTP/1.1\"") })
            let line = lb.output.split(separator: "\n").first { $0.contains("/raw-log") }.map(String.init) ?? ""
            // Raw format: the httplog line alone, no syslog header.
            #expect(line.hasPrefix("127.0.0.1:"), "\(line)")
            #expect(line.contains(" web_entry web_backend/web01 "))
        }
    }

    @Test("SIGUSR1 is HAProxy's soft stop: listeners close, the process exits 0")
    func softStop() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            let (lb, topology) = try self.start(backends)
            defer { lb.cleanUp(socket: topology.socketPath) }
            #expect(await eventually { (try? await runtimeCommand(topology.socketPath, "show info")) != nil })
            lb.signal(SIGUSR1)
            #expect(await lb.exitStatus(within: .seconds(8)) == 0)
            #expect(lb.log.contains("Soft stop"))
            await #expect(throws: (any Error).self) {
                _ = try await HTTPTestClient.get(port: topology.frontendPort, "/", group: testGroup)
            }
        }
    }
}
