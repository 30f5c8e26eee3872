import Foundation
import Glibc
import Testing

/// `portico vrrp -t`, `-D -p`, notify scripts: what an operator runs and sees.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct CommandLineTests {
    static var seedDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/seed").path
    }

    @Test func configTestAcceptsTheSeedAndRejectsTyposWithAllErrors() throws {
        for node in ["lb01", "lb02"] {
            let r = sh("\(porticoBinary) vrrp -t -f \(Self.seedDirectory)/keepalived-\(node).conf")
            #expect(r.status == 0, "\(r.output)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvd-t-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("keepalived.conf").path
        try "vrrp_instance VI_1 {\n    priorty 100\n    interface eth0\n    advert_intt 1\n}\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let r = sh("\(porticoBinary) vrrp -t -f \(bad)")
        #expect(r.status == 1)
        #expect(r.output.contains("(\(bad): Line 2) Unknown keyword 'priorty'"))
        #expect(r.output.contains("Line 4"))
    }

    @Test func daemonModeWritesThePidFileRunsNotifyAndStopsOnSigterm() throws {
        let lab = try NetworkLab(tag: "dm")
        defer { lab.tearDown() }
        try lab.addNode("lb01", address: "192.168.77.11/24")
        var config = NodeConfig.lb01()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvd-dm-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let notified = dir.appendingPathComponent("notified").path
        let notify = dir.appendingPathComponent("notify.sh").path
        try "#!/bin/sh\necho \"$@\" >> \(notified)\n".write(toFile: notify, atomically: true, encoding: .utf8)
        chmod(notify, 0o755)
        config.notify = notify
        let node = try VRRPNode("lb01", lab: lab, config: config)
        defer { node.cleanUp() }
        let pidFile = node.directory.appendingPathComponent("vrrp.pid").path
        defer {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                kill(pid, SIGKILL)
            }
        }
        let start = lab.exec(
            "lb01",
            "\(porticoBinary) vrrp -D -p \(pidFile) -f \(node.configFile.path) --control-socket \(node.controlSocket)"
                + " 2>>\(node.logFile.path)",
            timeout: 10)
        // The foreground process returns at once; the daemon lives on.
        #expect(start.status == 0)
        #expect(waitFor(3) { FileManager.default.fileExists(atPath: pidFile) } != nil)
        let pid = try #require(
            Int32(
                (try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        #expect(waitFor(8) { lab.has("lb01", pairVIP) } != nil)
        #expect(waitFor(2) { node.state() == "MASTER" } != nil)
        // Keepalived's notify arguments: INSTANCE NAME STATE PRIORITY.
        #expect(
            waitFor(2) {
                ((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "")
                    == "INSTANCE VI_1 BACKUP 120\nINSTANCE VI_1 MASTER 120\n"
            } != nil, "\((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "")")
        kill(pid, SIGTERM)
        // Alone on the link, the handover waits four intervals for a peer before releasing.
        #expect(waitFor(8) { kill(pid, 0) != 0 } != nil)
        #expect(!FileManager.default.fileExists(atPath: pidFile))
        #expect(!lab.has("lb01", pairVIP))
        #expect(((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "").hasSuffix("INSTANCE VI_1 STOP 120\n"))
    }
}
