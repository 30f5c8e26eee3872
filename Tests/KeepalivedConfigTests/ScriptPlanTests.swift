import KeepalivedConfig
import Testing

/// `script_user`, `vrrp_script { user }`, notify `USER [GROUP]` and `enable_script_security`, decided as Keepalived
/// decides them when it loads a file, against an in-memory user database and file system.
@Suite struct ScriptPlanTests {
    static let root = ScriptIdentity(user: "root", uid: 0, gid: 0)

    static func accounts(keepalivedScript: Bool = false) -> ScriptAccounts {
        var users: [String: (uid: UInt32, gid: UInt32)] = ["root": (0, 0), "nobody": (65534, 65534)]
        if keepalivedScript { users["keepalived_script"] = (998, 997) }
        let known = users
        return ScriptAccounts(
            user: { known[$0] }, group: { ["root": 0, "nogroup": 65534, "adm": 4][$0] }, daemon: root)
    }

    /// `/etc/keepalived/check.sh` root-owned 0755 under root-owned 0755 directories, `/tmp` 1777, and
    /// `/srv/drop` 0777 (world-writable, no sticky bit) holding `check.sh`; `/etc/keepalived/link.sh` is a link to it.
    static func files(extra: [String: FileStatus] = [:]) -> ScriptFiles {
        var table: [String: FileStatus] = [
            "/": FileStatus(kind: .directory, mode: 0o755),
            "/etc": FileStatus(kind: .directory, mode: 0o755),
            "/etc/keepalived": FileStatus(kind: .directory, mode: 0o755),
            "/etc/keepalived/check.sh": FileStatus(kind: .regular, mode: 0o755),
            "/etc/keepalived/link.sh": FileStatus(kind: .other, mode: 0o777),
            "/tmp": FileStatus(kind: .directory, mode: 0o1777),
            "/tmp/check.sh": FileStatus(kind: .regular, mode: 0o755),
            "/srv": FileStatus(kind: .directory, mode: 0o755),
            "/srv/drop": FileStatus(kind: .directory, mode: 0o777),
            "/srv/drop/check.sh": FileStatus(kind: .regular, mode: 0o755),
        ]
        for (path, status) in extra { table[path] = status }
        let statuses = table
        return ScriptFiles(
            status: { statuses[$0] },
            resolve: { path in
                if path == "/etc/keepalived/link.sh" { return "/srv/drop/check.sh" }
                return statuses[path] == nil ? nil : path
            },
            search: { name in name == "check.sh" ? "/srv/drop/check.sh" : nil })
    }

    static func plan(
        global: String = "", script: String = "/etc/keepalived/check.sh", user: String = "", notify: String = "",
        keepalivedScript: Bool = false, extra: [String: FileStatus] = [:]
    ) -> (ScriptPlan, ParseResult) {
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
            \(notify)
                virtual_ipaddress {
                    192.168.10.100/24
                }
            }
            """
        let parsed = KeepalivedConfigParser.parse(text: text)
        return (
            ScriptPlan(
                parsed.config, accounts: accounts(keepalivedScript: keepalivedScript), files: files(extra: extra)),
            parsed
        )
    }

    @Test func eachScriptRunsAsItsOwnUserElseScriptUser() {
        let (plan, parsed) = Self.plan(
            global: "script_user nobody", user: "user root adm", notify: "notify_master /tmp/check.sh")
        #expect(!parsed.diagnostics.hasErrors)
        #expect(plan.errors.isEmpty)
        #expect(plan.config.script(named: "chk")?.runAs == ScriptIdentity(user: "root", uid: 0, gid: 4))
        #expect(
            plan.config.instances.first?.notify.master?.runAs
                == ScriptIdentity(user: "nobody", uid: 65534, gid: 65534))
        #expect(!plan.notices.contains { $0.message.contains("default user") })
    }

    @Test func withoutScriptUserTheDefaultIsKeepalivedScriptWhenItExists() {
        let (plan, _) = Self.plan(keepalivedScript: true)
        #expect(
            plan.config.script(named: "chk")?.runAs == ScriptIdentity(user: "keepalived_script", uid: 998, gid: 997))
        #expect(plan.notices.map(\.message).filter { $0.contains("default user") }.isEmpty)
    }

    @Test func withoutScriptUserOrKeepalivedScriptScriptsRunAsRootAndThatIsSaidOnce() {
        let (plan, _) = Self.plan(notify: "notify_master /etc/keepalived/check.sh\nnotify /etc/keepalived/check.sh")
        #expect(plan.errors.isEmpty)
        #expect(plan.config.script(named: "chk")?.runAs == Self.root)
        #expect(plan.config.instances.first?.notify.any?.runAs == Self.root)
        let defaults = plan.notices.filter { $0.message.contains("default user") }
        #expect(
            defaults.map(\.description) == [
                "(keepalived.conf: Line 5) WARNING - default user 'keepalived_script' for script execution does not "
                    + "exist - please create. Scripts run as root since no script_user is set"
            ])
    }

    @Test func unknownUsersAndGroupsAreErrorsAtTheirLines() {
        let (global, _) = Self.plan(global: "script_user nosuch")
        #expect(
            global.errors.map(\.description) == [
                "(keepalived.conf: Line 2) Script user 'nosuch' does not exist: Error setting global script uid/gid"
            ])
        let (script, _) = Self.plan(user: "user nobody nosuchgroup")
        #expect(
            script.errors.map(\.description) == [
                "(keepalived.conf: Line 6) Script group 'nosuchgroup' does not exist: Unable to set uid/gid for "
                    + "script '/etc/keepalived/check.sh'"
            ])
        let (notify, _) = Self.plan(notify: "notify_backup /tmp/check.sh ghost")
        #expect(
            notify.errors.map(\.description) == [
                "(keepalived.conf: Line 14) Script user 'ghost' does not exist: Invalid user/group for notify_backup "
                    + "script /tmp/check.sh"
            ])
    }

    @Test func scriptSecurityWithoutAnyDefaultUserIsAnError() {
        let (plan, _) = Self.plan(global: "enable_script_security")
        #expect(plan.errors.count == 1)
        #expect(plan.errors.first?.location?.line == 5)
        #expect(
            plan.errors.first?.message.hasPrefix("Unable to set default user keepalived_script for vrrp script chk")
                == true)
        // A script with its own user needs no default.
        let (own, _) = Self.plan(global: "enable_script_security", user: "user nobody")
        #expect(own.errors.isEmpty)
    }

    @Test func anUnsafeRootScriptIsDisabledUnderScriptSecurityAndItsTrackersForgetIt() {
        let (plan, _) = Self.plan(
            global: "script_user root\nenable_script_security", script: "/srv/drop/check.sh",
            notify: "notify_master /srv/drop/check.sh")
        #expect(plan.errors.isEmpty)
        #expect(plan.disabledChecks == ["chk"])
        #expect(plan.config.script(named: "chk") == nil)
        #expect(plan.config.instances.first?.trackScripts.isEmpty == true)
        #expect(plan.config.instances.first?.notify.master == nil)
        #expect(
            plan.notices.map(\.description) == [
                "(keepalived.conf: Line 6) Disabling track script chk due to insecure: unsafe permissions found for "
                    + "script '/srv/drop/check.sh' (run as root (uid:gid 0:0)): /srv/drop is world-writable "
                    + "(mode 0777); it never runs and the instances tracking it ignore it",
                "(keepalived.conf: Line 15) Disabling notify_master script of VI_1 due to insecure: unsafe "
                    + "permissions found for script '/srv/drop/check.sh' (run as root (uid:gid 0:0)): /srv/drop is "
                    + "world-writable (mode 0777); it never runs",
            ])
        #expect(plan.notices.allSatisfy { $0.severity == .error })
    }

    @Test func withoutScriptSecurityAnUnsafeRootScriptRunsWithAWarning() {
        let (plan, _) = Self.plan(global: "script_user root", script: "/srv/drop/check.sh")
        #expect(plan.disabledChecks.isEmpty)
        #expect(plan.config.instances.first?.trackScripts.map(\.name) == ["chk"])
        #expect(
            plan.notices.map(\.description) == [
                "(keepalived.conf: Line 5) Unsafe permissions found for script '/srv/drop/check.sh': /srv/drop is "
                    + "world-writable (mode 0777); the track script chk is run as root (uid:gid 0:0), so whoever can "
                    + "write there runs commands as root (enable_script_security would refuse it)",
                "SECURITY VIOLATION - scripts are being executed but script_security not enabled. "
                    + "There are insecure scripts.",
            ])
        #expect(plan.notices.allSatisfy { $0.severity == .warning })
    }

    @Test func onlyScriptsRunWithRootIdsAreProtected() {
        // Run as nobody, a script in a world-writable directory is that user's business.
        let (nobody, _) = Self.plan(
            global: "script_user nobody\nenable_script_security", script: "/srv/drop/check.sh")
        #expect(nobody.disabledChecks.isEmpty)
        #expect(nobody.notices.isEmpty)
        // Group root is root enough (Keepalived checks uid 0 or gid 0).
        let (groupRoot, _) = Self.plan(
            global: "enable_script_security", script: "/srv/drop/check.sh", user: "user nobody root")
        #expect(groupRoot.disabledChecks == ["chk"])
    }

    @Test func aSafePathAndStickyTmpPassAndALinkIsJudgedWhereItLeads() {
        let (safe, _) = Self.plan(global: "script_user root\nenable_script_security")
        #expect(safe.notices.isEmpty && safe.disabledChecks.isEmpty)
        let (tmp, _) = Self.plan(global: "script_user root\nenable_script_security", script: "/tmp/check.sh")
        #expect(tmp.disabledChecks.isEmpty)
        let (link, _) = Self.plan(global: "script_user root\nenable_script_security", script: "/etc/keepalived/link.sh")
        #expect(link.disabledChecks == ["chk"])
        #expect(link.notices.first?.message.contains("/srv/drop is world-writable") == true)
        // A bare name is judged where PATH finds it.
        let (bare, _) = Self.plan(global: "script_user root\nenable_script_security", script: "check.sh")
        #expect(bare.disabledChecks == ["chk"])
        #expect(
            bare.notices.first?.description
                == "(keepalived.conf: Line 6) WARNING - script `check.sh` resolved by path search to "
                + "`/srv/drop/check.sh`. Please specify full path.")
        // A missing script is not a security matter (it fails when it runs).
        let (missing, _) = Self.plan(
            global: "script_user root\nenable_script_security", script: "/etc/keepalived/no.sh")
        #expect(missing.notices.isEmpty && missing.disabledChecks.isEmpty)
    }

    @Test func withoutScriptSecurityAnyFoundScriptIsAViolationAsKeepalivedSays() {
        let (plan, _) = Self.plan(global: "script_user root")
        #expect(
            plan.notices.map(\.description) == [
                "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
            ])
    }
}

@Suite struct ScriptSecurityRuleTests {
    @Test func componentPathsWalkFromTheRoot() {
        #expect(
            ScriptSecurity.componentPaths(of: "/etc//keepalived/check.sh")
                == ["/", "/etc", "/etc/keepalived", "/etc/keepalived/check.sh"])
    }

    @Test func ownerGroupWorldAndStickyFollowKeepalived() {
        func verdict(_ status: FileStatus) -> String? {
            ScriptSecurity.unsafeComponent(in: [PathStatus(path: "/x", status: status)])?.reason
        }
        #expect(verdict(FileStatus(kind: .directory, mode: 0o755, owner: 1000)) == "is owned by uid 1000, not root")
        #expect(verdict(FileStatus(kind: .directory, mode: 0o777)) == "is world-writable (mode 0777)")
        #expect(verdict(FileStatus(kind: .directory, mode: 0o1777)) == nil)
        // The sticky bit protects a directory's entries, not a file's contents.
        #expect(verdict(FileStatus(kind: .regular, mode: 0o1757)) == "is world-writable (mode 01757)")
        #expect(verdict(FileStatus(kind: .regular, mode: 0o775, group: 4)) == "is writable by group 4 (mode 0775)")
        #expect(verdict(FileStatus(kind: .regular, mode: 0o775, group: 0)) == nil)
        // A root-owned symbolic link's 0777 means nothing.
        #expect(verdict(FileStatus(kind: .other, mode: 0o777)) == nil)
        #expect(verdict(FileStatus(kind: .other, mode: 0o777, owner: 1000)) == "is owned by uid 1000, not root")
    }

    @Test func setUIDRootFilesNeedProtectionWhoeverRunsThem() {
        let nobody = ScriptIdentity(user: "nobody", uid: 65534, gid: 65534)
        #expect(!ScriptSecurity.needsProtection(nobody, file: FileStatus(kind: .regular, mode: 0o755)))
        #expect(ScriptSecurity.needsProtection(nobody, file: FileStatus(kind: .regular, mode: 0o4755)))
        #expect(ScriptSecurity.needsProtection(nobody, file: FileStatus(kind: .regular, mode: 0o2755)))
        #expect(!ScriptSecurity.needsProtection(nobody, file: FileStatus(kind: .regular, mode: 0o4755, owner: 1)))
    }
}
