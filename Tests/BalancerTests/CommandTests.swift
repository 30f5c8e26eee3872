import Foundation
import Spawning
import NIOCore
import NIOPosix
import Testing

/// `portico lb` as a process (the binary `swift build` produced; scripts/test.sh builds it first).
let porticoBinary: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    for configuration in ["debug", "release"] {
        let path = root.appendingPathComponent(".build/\(configuration)/portico").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}()

let seedConfigPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/seed/haproxy.cfg").path

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the binary to completion (bounded by `timeout`), its two output streams in files.
func runPortico(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> ProcessResult {
    let base = NSTemporaryDirectory() + "pbi-out-\(UInt32.random(in: 0...UInt32.max))"
    defer {
        unlink(base + ".out")
        unlink(base + ".err")
    }
    let process = try SpawnedProcess(
        [porticoBinary ?? "/nonexistent"] + arguments, output: .file(base + ".out"), error: .file(base + ".err"))
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while process.isRunning, clock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
    process.stop(grace: 5)
    return ProcessResult(
        status: process.waitUntilExit(),
        stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    )
}

@Suite("portico lb command", .enabled(if: porticoBinary != nil, "needs the portico binary (swift build)"))
struct CommandTests {
    @Test("-c on the seed's haproxy.cfg: valid, exit 0, with the maxconn capping warning when the limit is low")
    func checkSeed() async throws {
        let result = try await runPortico(["lb", "-c", "-f", seedConfigPath])
        #expect(result.status == 0)
        #expect(result.stdout == "Configuration file is valid\n")
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_max < 20100 {
            #expect(result.stderr.contains("capping maxconn to"))
        }
    }

    @Test("-c on a broken file: exit 1 and HAProxy-shaped alerts")
    func checkBroken() async throws {
        let path = NSTemporaryDirectory() + "pbi-broken-\(getpid()).cfg"
        try "backend b\n    balanse roundrobin\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await runPortico(["lb", "-c", "-f", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("[ALERT] parsing [\(path):2] : unknown keyword 'balanse'"))
        #expect(result.stderr.contains("[ALERT] config : Fatal errors found in configuration."))
        #expect(result.stdout.isEmpty)
    }

    @Test("foreground run: round robin through the process, SIGTERM stops it cleanly")
    func foregroundRun() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.serverOptions = "check inter 2s fall 3 rise 2"
            topology.global.append("daemon")
            let path = NSTemporaryDirectory() + "pbi-run-\(getpid()).cfg"
            try topology.text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let process = try SpawnedProcess([porticoBinary ?? "/nonexistent", "lb", "-f", path], error: .null)
            defer { process.stop(grace: 0) }
            let port = topology.port
            let listening = await eventually(timeout: .seconds(10)) {
                (try? await HTTPTestClient.get(port: port, "/", group: testGroup)) != nil
            }
            #expect(listening)
            var bodies: [String] = []
            for _ in 0..<3 {
                bodies.append(try await HTTPTestClient.get(port: port, "/", group: testGroup).body)
            }
            // The probe above took one turn; what matters is the alternation.
            #expect(bodies[0] != bodies[1] && bodies[0] == bodies[2])
            process.signal(SIGTERM)
            let exited = await eventually(timeout: .seconds(10)) { !process.isRunning }
            #expect(exited)
            #expect(process.exitStatus == 0)
        }
    }
}
