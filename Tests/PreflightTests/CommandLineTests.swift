import Foundation
import Spawning
import Testing

/// `portico check` end to end, when the test run built the executable next to the test bundle (the full package;
/// the PORTICO_PURE build has no executable and skips these).
/// The `portico` executable next to the test bundle, when the run built it.
enum PorticoExecutable {
    static let path: String? = {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map {
            $0.appendingPathComponent("portico").path
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

@Suite(.enabled(if: PorticoExecutable.path != nil)) struct CommandLineTests {
    struct Run {
        var status: Int32
        var output: String
    }

    func run(_ arguments: [String]) throws -> Run {
        let result = try SpawnedProcess.run([try #require(PorticoExecutable.path), "check"] + arguments)
        return Run(status: result.status, output: result.output)
    }

    @Test func seedPairWithHAProxyExitsZero() throws {
        let result = try run([
            "lb01=" + Fixtures.path("seed", "lb01"), "lb02=" + Fixtures.path("seed", "lb02"), "--balancer", "haproxy",
        ])
        #expect(result.status == 0)
        #expect(result.output.hasSuffix("0 errors, 4 warnings, 0 info: no error\n"))
    }

    @Test func filesFormAndJSON() throws {
        let lb02 = Fixtures.path("different-vrid", "lb02")
        let result = try run([
            "--node", "lb02", "--lb", lb02 + "/haproxy.cfg", "--vrrp", lb02 + "/keepalived.conf",
            "lb01=" + Fixtures.path("clean", "lb01"), "--balancer", "lb02=haproxy", "--json",
        ])
        #expect(result.status == 1)
        let object = try #require(
            JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let findings = try #require(object["findings"] as? [[String: Any]])
        let messages = findings.compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.contains("virtual_router_id is 52 here but 51 on lb01") })
        // Deployed form: the script is looked for at its real path, which this machine does not have.
        #expect(messages.contains { $0.contains("/etc/keepalived/check_balancer.sh not found") })
    }

    @Test func recordIsWritten() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pchk-\(UUID().uuidString).md").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try run([
            "lb01=" + Fixtures.path("seed", "lb01"), "lb02=" + Fixtures.path("seed", "lb02"), "--balancer", "haproxy",
            "--address", "lb01=192.168.10.11/24", "--address", "lb02=192.168.10.12/24", "--record", path,
        ])
        #expect(result.status == 0)
        let record = try String(contentsOfFile: path, encoding: .utf8)
        #expect(record.contains("| lb01 | 192.168.10.11 | VI_1 | MASTER | 120 |"))
    }

    @Test func usageErrors() throws {
        #expect(try run([]).status == 64)
        #expect(try run(["--node", "lb01", "--lb", "a.cfg"]).status == 64)
        #expect(try run(["lb01"]).status == 64)
        #expect(try run(["lb01=/x", "--address", "lb01=not-an-address"]).status == 64)
    }
}
