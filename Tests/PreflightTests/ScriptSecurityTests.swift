import Foundation
import KeepalivedConfig
import Testing

@testable import Preflight

/// Keepalived's script security (keepalived.conf(5) SCRIPTS, enable_script_security): a script run as root must
/// not be replaceable by a non-root user.
@Suite struct ScriptSecurityTests {
    // MARK: copies collected from the nodes (mode bits only), on disk

    @Test(arguments: [(0o777 as UInt16, "world-writable (mode 0777)"), (0o775, "group-writable (mode 0775)")])
    func writableCopyIsFlagged(mode: UInt16, reason: String) throws {
        let root = try Fixtures.copy("clean")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let script = root + "/clean/lb02/check_balancer.sh"
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: script)
        let loader = NodeLoader()
        let report = PreflightCheck.run(
            Fixtures.sources("clean", under: root).map { loader.load($0) })
        expectExactly(
            report.findings,
            [Expected(.error, .scripts, "lb02", "keepalived.conf", 2, "check_balancer.sh is \(reason)")])
        #expect(report.exitStatus == 1)
    }

    // MARK: deployed scripts (`--node NAME --lb FILE --vrrp FILE`), the whole rule, in memory

    static let haproxy = (try? String(contentsOfFile: Fixtures.path("clean", "lb01") + "/haproxy.cfg")) ?? ""

    static func keepalived(
        script: String = "/etc/keepalived/check.sh", extraGlobal: String = "", user: String = "",
        notify: String = ""
    ) -> String {
        """
        global_defs {
            router_id lb01
        \(extraGlobal)}

        vrrp_script chk_balancer {
            script "\(script)"
            interval 2
            weight -30
        \(user)}

        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority 120
            track_script {
                chk_balancer
            }
            virtual_ipaddress {
                192.168.10.100/24 dev eth0
            }
        \(notify)}

        """
    }

    static let root = FileStatus(kind: .directory, mode: 0o755)

    /// One node on an in-memory machine: / and /etc root-owned, /etc/keepalived and the script as given.
    static func check(
        directory: FileStatus? = FileStatus(kind: .directory, mode: 0o755),
        script: FileStatus? = FileStatus(kind: .regular, mode: 0o755),
        scriptText: String = "#!/bin/sh\nss -lnt | grep -q ':80 '\n",
        config: String = keepalived(), balancer: BalancerKind = .portico
    ) -> [Finding] {
        var fileSystem = InMemoryFileSystem()
        fileSystem.directories = ["/": root, "/etc": root, "/etc/haproxy": root]
        fileSystem.directories["/etc/keepalived"] = directory
        fileSystem.files["/etc/haproxy/haproxy.cfg"] = (haproxy, FileStatus(kind: .regular, mode: 0o644))
        fileSystem.files["/etc/keepalived/keepalived.conf"] = (config, FileStatus(kind: .regular, mode: 0o644))
        if let script { fileSystem.files["/etc/keepalived/check.sh"] = (scriptText, script) }
        let source = NodeSource(
            name: "lb01", balancerConfigPath: "/etc/haproxy/haproxy.cfg",
            vrrpConfigPath: "/etc/keepalived/keepalived.conf", scripts: .deployed, balancer: balancer)
        // One node: leave out the "nothing to compare with" line, which SeedPairTests covers.
        return PreflightCheck.run([NodeLoader(fileSystem: fileSystem).load(source)]).findings.filter {
            $0.severity != .info
        }
    }

    @Test func rootOwnedScriptInRootOwnedDirectoriesIsSafe() {
        expectExactly(Self.check(), [])
    }

    @Test func scriptOwnedByAnotherUser() {
        expectExactly(
            Self.check(script: FileStatus(kind: .regular, mode: 0o755, owner: 1000)),
            [
                Expected(
                    .error, .scripts, "lb01", "keepalived.conf", 6,
                    "/etc/keepalived/check.sh is owned by uid 1000, not root")
            ])
    }

    @Test func parentDirectoryWritableByANonRootGroup() {
        expectExactly(
            Self.check(directory: FileStatus(kind: .directory, mode: 0o775, owner: 0, group: 50)),
            [
                Expected(
                    .error, .scripts, "lb01", "keepalived.conf", 6,
                    "/etc/keepalived is writable by group 50 (mode 0775)")
            ])
    }

    /// Group write for root's own group does not let a non-root user in (Keepalived checks `st_gid` too).
    @Test func groupWriteForRootGroupIsSafe() {
        expectExactly(Self.check(directory: FileStatus(kind: .directory, mode: 0o775, owner: 0, group: 0)), [])
    }

    /// A world-writable directory with the sticky bit (like /tmp) only lets owners replace their files.
    @Test func stickyWorldWritableDirectoryIsSafe() {
        expectExactly(Self.check(directory: FileStatus(kind: .directory, mode: 0o1777)), [])
    }

    @Test func worldWritableScriptWithScriptSecurityIsRefused() {
        expectExactly(
            Self.check(
                script: FileStatus(kind: .regular, mode: 0o757),
                config: Self.keepalived(extraGlobal: "    enable_script_security\n")),
            [
                Expected(
                    .error, .scripts, "lb01", "keepalived.conf", 7,
                    "with enable_script_security Keepalived refuses to run it")
            ])
    }

    /// Keepalived only protects scripts it runs as root.
    @Test func scriptRunAsAnotherUserIsNotHeldToTheRootRule() {
        expectExactly(
            Self.check(
                script: FileStatus(kind: .regular, mode: 0o755, owner: 1000),
                config: Self.keepalived(user: "    user nobody\n")),
            [])
    }

    @Test func missingDirectoryIsNamed() {
        expectExactly(
            Self.check(directory: nil, script: nil),
            [Expected(.error, .scripts, "lb01", "keepalived.conf", 6, "not found (/etc/keepalived does not exist)")])
    }

    @Test func notifyScriptsAreCheckedToo() {
        let config = Self.keepalived(notify: "    notify_master \"/etc/keepalived/notify.sh master\"\n")
        expectExactly(
            Self.check(config: config),
            [
                Expected(
                    .error, .scripts, "lb01", "keepalived.conf", 22,
                    "notify_master of VI_1: /etc/keepalived/notify.sh not found")
            ])
    }

    /// `script "pidof haproxy"`: a bare name (PATH search) that looks for a process portico lb does not have.
    @Test func inlinePidofHAProxy() {
        expectExactly(
            Self.check(config: Self.keepalived(script: "pidof haproxy")),
            [
                Expected(.warning, .scripts, "lb01", "keepalived.conf", 6, "'pidof' is not an absolute path"),
                Expected(
                    .error, .scripts, "lb01", "keepalived.conf", 6, "looks for a process named haproxy (pidof haproxy)"
                ),
            ])
        expectExactly(
            Self.check(config: Self.keepalived(script: "pidof haproxy"), balancer: .haproxy),
            [Expected(.warning, .scripts, "lb01", "keepalived.conf", 6, "'pidof' is not an absolute path")])
    }

    /// `vrrp_track_process` looking for haproxy has the same problem as `pidof haproxy`.
    @Test func trackedHAProxyProcess() {
        let config = Self.keepalived().replacingOccurrences(
            of: "vrrp_instance VI_1 {\n",
            with: "vrrp_track_process chk_process {\n    process haproxy\n    weight -30\n}\n\n"
                + "vrrp_instance VI_1 {\n    track_process {\n        chk_process\n    }\n")
        expectExactly(
            Self.check(config: config),
            [
                Expected(
                    .error, .scripts, "lb01", "keepalived.conf", 12,
                    "vrrp_track_process chk_process tracks a process named haproxy")
            ])
        expectExactly(Self.check(config: config, balancer: .haproxy), [])
    }

    @Test func processLookupsAreRecognised() {
        #expect(ScriptChecks.looksForHAProxyProcess(["pidof", "haproxy"]))
        #expect(ScriptChecks.looksForHAProxyProcess(["/usr/bin/pgrep", "-x", "haproxy"]))
        #expect(ScriptChecks.looksForHAProxyProcess(["killall", "-0", "haproxy"]))
        #expect(ScriptChecks.looksForHAProxyProcess(["systemctl", "is-active", "--quiet", "haproxy.service"]))
        #expect(!ScriptChecks.looksForHAProxyProcess(["curl", "-f", "http://127.0.0.1/haproxy"]))
        #expect(!ScriptChecks.looksForHAProxyProcess(["pidof", "portico"]))
    }
}
