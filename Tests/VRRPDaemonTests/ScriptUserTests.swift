import Foundation
import Glibc
import KeepalivedConfig
import Testing

@testable import VRRPDaemon

/// A temporary directory for one test, removed by `remove()` (deferred by every test that makes one).
private struct ScratchDirectory {
    let path: String

    init(_ tag: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("psu-\(tag)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // Root-owned 0755 under sticky /tmp: safe by Keepalived's rule until a test loosens it.
        chmod(path, 0o755)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes an executable shell script.
    @discardableResult
    func script(_ name: String, _ body: String, mode: mode_t = 0o755) throws -> String {
        let target = file(name)
        try "#!/bin/sh\n\(body)\n".write(toFile: target, atomically: false, encoding: .utf8)
        chmod(target, mode)
        return target
    }

    /// A subdirectory `nobody` may write to.
    func dropBox(_ name: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        chown(target, 65534, 65534)
        chmod(target, 0o755)
        return target
    }

    func read(_ name: String) -> String? {
        (try? String(contentsOfFile: file(name), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Scripts run as `script_user` / `user` / notify `USER [GROUP]`, and `enable_script_security` refusing unsafe root
/// scripts: what the operator sees in the files scripts write, in the instance's state and in `portico vrrp -t`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ScriptUserTests {
    static let nobody = ScriptIdentity(user: "nobody", uid: 65534, gid: 65534)

    // MARK: the child process, no daemon

    @Test func scriptsInheritNoDescriptorOfTheDaemonAsRootNorAsAnotherUser() throws {
        // A listening socket that is not close-on-exec (SwiftNIO's are not), moved to a number no shell uses.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        try #require(listen(fd, 1) == 0 && dup2(fd, 203) == 203)
        close(fd)
        defer { close(203) }
        // The shell exits 1 if the descriptor reached it.
        let probe = ["/bin/sh", "-c", "[ -e /proc/$$/fd/203 ] && exit 1; exit 0"]
        #expect(ChildProcess.run(arguments: probe, timeout: 5) == .exited(0))
        #expect(ChildProcess.run(arguments: probe, identity: Self.nobody, timeout: 5) == .exited(0))
    }

    @Test func aScriptRunAsNobodyHasNobodysIdsAndOnlyItsGroup() throws {
        let dir = try ScratchDirectory("child")
        defer { dir.remove() }
        let out = try dir.dropBox("out")
        let outcome = ChildProcess.run(
            arguments: ["/bin/sh", "-c", "echo $(id -u) $(id -g) $(id -G) > \(out)/ids"], identity: Self.nobody,
            timeout: 5)
        #expect(outcome == .exited(0))
        #expect(dir.read("out/ids") == "65534 65534 65534")
        // A group given with the user replaces the primary one, and is the only supplementary group.
        let adm = ChildProcess.run(
            arguments: ["/bin/sh", "-c", "echo $(id -g) $(id -G) > \(out)/adm"],
            identity: ScriptIdentity(user: "nobody", uid: 65534, gid: 4), timeout: 5)
        #expect(adm == .exited(0))
        #expect(dir.read("out/adm") == "4 4")
    }

    @Test func aBareNameIsFoundInPathAndFailuresAreReportedAsFailedToStart() throws {
        let dir = try ScratchDirectory("fail")
        defer { dir.remove() }
        #expect(ChildProcess.run(arguments: ["true"], identity: Self.nobody, timeout: 5) == .exited(0))
        #expect(ChildProcess.run(arguments: ["false"], identity: Self.nobody, timeout: 5) == .exited(1))
        #expect(
            ChildProcess.run(arguments: ["psu-no-such-program"], identity: Self.nobody, timeout: 5)
                == .failedToStart(ENOENT))
        // Root may execute a 0700 root script; nobody may not.
        let secret = try dir.script("secret.sh", "exit 0", mode: 0o700)
        #expect(ChildProcess.run(arguments: [secret], identity: Self.nobody, timeout: 5) == .failedToStart(EACCES))
        #expect(ChildProcess.run(arguments: [secret], timeout: 5) == .exited(0))
    }

    @Test func aScriptThatOutlivesItsTimeoutIsKilledWithWhatItStarted() throws {
        let dir = try ScratchDirectory("timeout")
        defer { dir.remove() }
        let started = Date()
        let outcome = ChildProcess.run(
            arguments: ["/bin/sh", "-c", "sleep 30 & sleep 30"], identity: Self.nobody, timeout: 0.3)
        #expect(outcome == .timedOut)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    // MARK: portico vrrp -t

    @Test func configTestRefusesUnknownUsersAndReportsDisabledScripts() throws {
        let dir = try ScratchDirectory("t")
        defer { dir.remove() }
        let safe = try dir.script("check.sh", "exit 0")
        let conf = dir.file("keepalived.conf")
        func configTest(global: String, user: String = "", script: String) throws -> (status: Int32, output: String) {
            let text = """
                global_defs {
                    \(global)
                }
                vrrp_script chk {
                    script "\(script)"
                    \(user)
                }
                vrrp_instance VI_1 {
                    interface eth0
                    virtual_router_id 51
                    track_script {
                        chk
                    }
                    virtual_ipaddress {
                        192.168.77.100/24
                    }
                }
                """
            try text.write(toFile: conf, atomically: false, encoding: .utf8)
            return sh("\(porticoBinary) vrrp -t -f \(conf)")
        }
        let unknown = try configTest(global: "router_id psu", user: "user psu-no-such-user", script: safe)
        #expect(unknown.status == 1)
        #expect(
            unknown.output.contains(
                "(\(conf): Line 6) Script user 'psu-no-such-user' does not exist: Unable to set uid/gid for script "
                    + "'\(safe)'"), "\(unknown.output)")
        // Without script_user and without a keepalived_script user, scripts run as root: said once, as Keepalived.
        if getpwnam("keepalived_script") == nil {
            let root = try configTest(global: "router_id psu", script: safe)
            #expect(root.status == 0, "\(root.output)")
            let said = root.output.components(
                separatedBy: "(\(conf): Line 5) WARNING - default user 'keepalived_script' for script execution does "
                    + "not exist - please create. Scripts run as root since no script_user is set")
            #expect(said.count == 2, "\(root.output)")
        }
        let nobody = try configTest(global: "script_user nobody\n    enable_script_security", script: safe)
        #expect(nobody.status == 0, "\(nobody.output)")
        #expect(!nobody.output.contains("not supported yet"))

        let open = try dir.dropBox("open")
        chmod(open, 0o777)
        let unsafe = try dir.script("open/check.sh", "exit 0")
        let refused = try configTest(global: "script_user root\n    enable_script_security", script: unsafe)
        #expect(refused.status == 1)
        #expect(
            refused.output.contains(
                "(\(conf): Line 6) Disabling track script chk due to insecure: unsafe permissions found for script "
                    + "'\(unsafe)' (run as root (uid:gid 0:0)): \(open) is owned by uid 65534, not root"),
            "\(refused.output)")
        let warned = try configTest(global: "script_user root", script: unsafe)
        #expect(warned.status == 0)
        #expect(warned.output.contains("(\(conf): Line 5) Unsafe permissions found for script '\(unsafe)'"))
        #expect(
            warned.output.contains("SECURITY VIOLATION - scripts are being executed but script_security not enabled."))
    }

    // MARK: the daemon, in a network namespace (a VRRP instance has to advertise somewhere)

    @Test func aVRRPScriptAndANotifyScriptRunAsTheirUsers() throws {
        let dir = try ScratchDirectory("run")
        defer { dir.remove() }
        let out = try dir.dropBox("out")
        // Written aside then renamed, so the test never reads a file half written.
        let check = try dir.script("check.sh", "id -u > \(out)/.c && mv \(out)/.c \(out)/check-uid\nexit 0")
        let notify = try dir.script("notify.sh", "echo $(id -u) $(id -g) > \(out)/.n && mv \(out)/.n \(out)/notify-ids")
        let lab = try NetworkLab(tag: "run", namePrefix: "psu")
        defer { lab.tearDown() }
        try lab.addNode("lb01", address: "192.168.77.11/24")
        var config = NodeConfig(routerID: "lb01")
        config.state = "MASTER"
        config.checkScript = check
        config.checkWeight = 0
        let node = try VRRPNode("lb01", lab: lab, config: config)
        defer { node.cleanUp() }
        // script_user for the check, a notify script with its own user and group.
        var text = config.text.replacingOccurrences(
            of: "global_defs {\n", with: "global_defs {\n    script_user nobody\n    enable_script_security\n")
        text = text.replacingOccurrences(
            of: "    virtual_ipaddress {", with: "    notify_master \(notify) nobody adm\n    virtual_ipaddress {")
        try text.write(to: node.configFile, atomically: true, encoding: .utf8)
        try node.start()
        #expect(waitFor(10) { dir.read("out/check-uid") != nil } != nil, "\(node.log)")
        #expect(dir.read("out/check-uid") == "65534")
        #expect(waitFor(10) { dir.read("out/notify-ids") != nil } != nil, "\(node.log)")
        #expect(dir.read("out/notify-ids") == "65534 4")
        #expect(node.state() == "MASTER")
        #expect(!node.log.contains("not supported yet"))
    }

    @Test func anUnsafeRootScriptNeverRunsUnderScriptSecurityAndTheInstanceIgnoresIt() throws {
        let dir = try ScratchDirectory("unsafe")
        defer { dir.remove() }
        // World-writable and without the sticky bit: anyone could replace the script.
        let open = try dir.dropBox("open")
        chown(open, 0, 0)
        chmod(open, 0o777)
        let marker = dir.file("ran")
        // It would fail, and with weight 0 put the instance in FAULT, if it ever ran.
        let check = try dir.script("open/check.sh", "touch \(marker)\nexit 1")
        let lab = try NetworkLab(tag: "unsafe", namePrefix: "psu")
        defer { lab.tearDown() }
        try lab.addNode("lb01", address: "192.168.77.11/24")
        var config = NodeConfig(routerID: "lb01")
        config.checkScript = check
        config.checkWeight = 0
        let node = try VRRPNode("lb01", lab: lab, config: config)
        defer { node.cleanUp() }
        let text = config.text.replacingOccurrences(
            of: "global_defs {\n", with: "global_defs {\n    script_user root\n    enable_script_security\n")
        try text.write(to: node.configFile, atomically: true, encoding: .utf8)
        try node.start()
        // Keepalived drops the script from the instance's track_script: a lone backup becomes master.
        #expect(waitFor(10) { node.state() == "MASTER" } != nil, "\(node.log)")
        #expect(lab.has("lb01", "192.168.77.100"))
        #expect(!FileManager.default.fileExists(atPath: marker))
        let disabled = node.log.components(separatedBy: "Disabling track script chk_lb due to insecure")
        #expect(disabled.count == 2, "logged once: \(node.log)")
        #expect(node.log.contains("\(open) is world-writable (mode 0777)"))
        #expect((node.instanceStatus()?["trackers"] as? [Any])?.isEmpty ?? true)

        // A reload naming a user that does not exist is refused, with the line; the running instance stays.
        try text.replacingOccurrences(of: "script_user root", with: "script_user psu-no-such-user")
            .write(to: node.configFile, atomically: true, encoding: .utf8)
        let reload = sh("\(porticoBinary) vrrp ctl reload --control-socket \(node.controlSocket)", timeout: 30)
        #expect(reload.status == 1)
        #expect(reload.output.contains("Line 2) Script user 'psu-no-such-user' does not exist"), "\(reload.output)")
        #expect(node.state() == "MASTER")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
