import Foundation
import Testing

@testable import Lab

/// The seed's texts embedded in the Lab module must be the fixtures, byte for byte.
@Suite struct SeedFilesTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/seed")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func embeddedTextsEqualTheFixtures() throws {
        #expect(SeedFiles.haproxyConfig == (try Self.fixture("haproxy.cfg")))
        #expect(SeedFiles.keepalivedLB01 == (try Self.fixture("keepalived-lb01.conf")))
        #expect(SeedFiles.keepalivedLB02 == (try Self.fixture("keepalived-lb02.conf")))
        #expect(SeedFiles.checkHAProxyScript == (try Self.fixture("check_haproxy.sh")))
    }

    @Test func keepalivedConfigDiffersFromTheSeedOnlyInTheScriptPath() throws {
        for (host, seed) in [(LabHost.lb01, SeedFiles.keepalivedLB01), (.lb02, SeedFiles.keepalivedLB02)] {
            let lab = LabFiles.keepalivedConfig(
                for: host, checkScript: "/run/portico-lab/\(host.rawValue)/check_haproxy.sh")
            let seedLines = seed.split(separator: "\n", omittingEmptySubsequences: false)
            let labLines = lab.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(seedLines.count == labLines.count)
            let different = zip(seedLines, labLines).filter { $0 != $1 }
            #expect(different.count == 1)
            #expect(different.first?.1 == "    script \"/run/portico-lab/\(host.rawValue)/check_haproxy.sh\"")
        }
    }

    @Test func checkScriptFailsWhenTheRecordedBalancerIsGone() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plab-check-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pidFile = folder.appendingPathComponent("lb.pid").path
        let script = folder.appendingPathComponent("check.sh").path
        try LabFiles.checkScript(balancerPidFile: pidFile).write(toFile: script, atomically: true, encoding: .utf8)
        // A pid that cannot exist (above pid_max), and a missing pidfile: both fail the check.
        try "4194399\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        #expect(try Subprocess.run(["bash", script]).status != 0)
        try FileManager.default.removeItem(atPath: pidFile)
        #expect(try Subprocess.run(["bash", script]).status != 0)
    }

    @Test func haproxyLimitsOverrideOnlyWhereTheLimitIsTooLow() {
        #expect(LabFiles.haproxyLimitsOverride(openFileLimit: 65536) == nil)
        let override = LabFiles.haproxyLimitsOverride(openFileLimit: 20000)
        #expect(override?.contains("no strict-limits") == true)
    }

    @Test func labDirectoryRejectsPathsThatCannotGoIntoConfigs() {
        #expect(throws: LabError.self) { try LabDirectory(path: "relative/dir") }
        #expect(throws: LabError.self) { try LabDirectory(path: "/tmp/with space") }
        #expect((try? LabDirectory(path: "/run/portico-lab/"))?.path == "/run/portico-lab")
    }
}
