import Foundation
import Spawning
import Testing

/// `portico web` as the operator runs it. Needs the debug executable, which `scripts/test.sh` builds before testing.
enum PorticoExecutable {
    static let path: String? = {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = packageRoot.appendingPathComponent(".build/debug/portico").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
}

@Suite("portico web executable", .enabled(if: PorticoExecutable.path != nil, "build portico first: swift build"))
struct CommandTests {

    @Test func servesAndStopsGracefullyOnSIGTERM() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let errors = site.base + "/portico.err"
        #expect(FileManager.default.createFile(atPath: errors, contents: nil))
        let process = try SpawnedProcess(
            [
                try #require(PorticoExecutable.path), "web", "--root", site.root, "--listen", "127.0.0.1:0",
                "--access-log", site.base + "/access.log", "--name", "web01",
            ], output: .null, error: .file(errors))
        defer { process.stop(grace: 0) }

        // The startup line names the ephemeral port: "serving ROOT on 127.0.0.1:PORT".
        var port: Int?
        for _ in 0..<100 where port == nil {
            let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            if let match = text.firstMatch(of: #/ on 127\.0\.0\.1:(\d+)/#) { port = Int(match.1) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let startup = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        let boundPort = try #require(port, "no startup line in: \(startup)")

        let idle = try RawHTTPConnection(port: boundPort)
        try idle.request("GET", "/health")
        #expect(try idle.readResponse().bodyText == "ok\n")

        process.signal(SIGTERM)
        for _ in 0..<100 where process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning, "portico web still running 5 s after SIGTERM")
        #expect(process.exitStatus == 0)
        #expect(idle.isClosedByServer())
        let log = try String(contentsOfFile: site.base + "/access.log", encoding: .utf8)
        #expect(log.contains("\"GET /health HTTP/1.1\" 200 3 \"-\" \"portico-tests\""))
    }

    @Test func badListenAddressIsRefusedWithAClearMessage() throws {
        let (status, output) = try SpawnedProcess.run(
            [try #require(PorticoExecutable.path), "web", "--root", "/tmp", "--listen", "127.0.0.1:99999"])
        #expect(status != 0)
        #expect(output.contains("127.0.0.1:99999"))
    }
}
