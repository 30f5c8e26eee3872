import Foundation
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(PorticoExecutable.path))
        process.arguments = [
            "web", "--root", site.root, "--listen", "127.0.0.1:0", "--access-log", site.base + "/access.log",
            "--name", "web01",
        ]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

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

        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<100 where process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning, "portico web still running 5 s after SIGTERM")
        #expect(process.terminationStatus == 0)
        #expect(idle.isClosedByServer())
        let log = try String(contentsOfFile: site.base + "/access.log", encoding: .utf8)
        #expect(log.contains("\"GET /health HTTP/1.1\" 200 3 \"-\" \"portico-tests\""))
    }

    @Test func badListenAddressIsRefusedWithAClearMessage() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(PorticoExecutable.path))
        process.arguments = ["web", "--root", "/tmp", "--listen", "127.0.0.1:99999"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(output.contains("127.0.0.1:99999"))
    }
}
