import KeepalivedConfig

/// Check and notify scripts of one node: present, executable, safe under Keepalived's script security, and
/// checking something that exists on this node.
///
/// Keepalived's rule (keepalived.conf(5), SCRIPTS and `enable_script_security`; `check_script_secure()` in
/// lib/notify.c): a script run as root is unsafe when the file or any directory on its path is owned by a non-root
/// user, or is writable by a non-root group or by everyone (a directory with the sticky bit excepted). With
/// `enable_script_security` Keepalived refuses to run it; without, a local user can run commands as root.
enum ScriptChecks {
    static func check(_ node: LoadedNode) -> [Finding] {
        var findings: [Finding] = []
        let security = node.vrrp.config.global.enableScriptSecurity
        for probe in node.scripts {
            let uses = probe.uses.joined(separator: ", ")
            func report(_ severity: Finding.Severity, _ message: String) {
                findings.append(Finding(severity, .scripts, node: node.name, at: probe.reference, message))
            }
            guard let path = probe.checkedPath else {
                report(
                    .warning,
                    "\(uses): '\(probe.program)' is not an absolute path: Keepalived searches PATH for it and "
                        + "warns 'Please specify full path'")
                findings += processCheck(probe, node: node, uses: uses)
                continue
            }
            let lookedAt = probe.isCopy ? " (looked for the copy \(path))" : ""
            guard let status = probe.fileStatus else {
                let missingDirectory = probe.chain.dropLast().first { $0.status == nil }
                let detail = missingDirectory.map { " (\($0.path) does not exist)" } ?? lookedAt
                report(
                    .error, "\(uses): \(probe.program) not found\(detail): Keepalived disables a script it cannot find")
                continue
            }
            guard status.kind == .regular else {
                report(.error, "\(uses): \(path) is not a regular file")
                continue
            }
            if !status.isExecutable {
                report(
                    .error,
                    "\(uses): \(path) is not executable (mode \(status.modeText)): Keepalived cannot run it; "
                        + "chmod 0755 it")
            }
            if probe.runsAsRoot, let unsafe = unsafeComponent(probe) {
                let consequence =
                    security
                    ? "with enable_script_security Keepalived refuses to run it"
                    : "any local user who can write it runs commands as root through Keepalived "
                        + "(enable_script_security would refuse it)"
                report(
                    .error,
                    "\(uses): \(unsafe.path) \(unsafe.reason): \(consequence); make it root-owned and writable "
                        + "by root only")
            }
            findings += processCheck(probe, node: node, uses: uses)
        }
        findings += trackedProcesses(node)
        return findings
    }

    /// The first path component that breaks the rule, with why. For a copy only the file's mode bits say anything
    /// (its owner and directories are this machine's, not the node's); a deployed path gets Keepalived's whole rule.
    static func unsafeComponent(_ probe: ScriptProbe) -> ScriptSecurity.UnsafeComponent? {
        guard probe.isCopy else { return ScriptSecurity.unsafeComponent(in: probe.chain) }
        for component in probe.chain {
            guard let status = component.status else { continue }
            if status.isWorldWritable {
                return .init(path: component.path, reason: "is world-writable (mode \(status.modeText))")
            }
            if status.isGroupWritable {
                return .init(path: component.path, reason: "is group-writable (mode \(status.modeText))")
            }
        }
        return nil
    }

    /// A tracking script that looks for an `haproxy` process on a node running `portico lb` fails whatever the
    /// balancer does, so it can never tell a stopped balancer from a running one.
    private static func processCheck(_ probe: ScriptProbe, node: LoadedNode, uses: String) -> [Finding] {
        guard node.source.balancer == .portico, probe.uses.contains(where: { $0.hasPrefix("vrrp_script") }) else {
            return []
        }
        let advice =
            "but \(node.name) runs portico lb: the check fails whether or not the balancer is running, so it "
            + "cannot move the VIP when the balancer stops; test the listener instead (e.g. ss -lnt | grep -q ':80 ')"
        if looksForHAProxyProcess(probe.command) {
            return [
                Finding(
                    .error, .scripts, node: node.name, at: probe.reference,
                    "\(uses) looks for a process named haproxy (\(probe.command.joined(separator: " "))) " + advice)
            ]
        }
        guard let text = probe.text, let path = probe.checkedPath else { return [] }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = code.split(whereSeparator: { " \t|;&()`$".contains($0) }).map(String.init)
            guard looksForHAProxyProcess(words) else { continue }
            return [
                Finding(
                    .error, .scripts, node: node.name, at: FileLine(file: path, line: index + 1),
                    "\(uses) looks for a process named haproxy (\(code.trimmingCharacters())) " + advice,
                    related: [probe.reference])
            ]
        }
        return []
    }

    /// `pidof haproxy`, `pgrep [-x] haproxy`, `killall -0 haproxy`, `systemctl is-active haproxy`, `service haproxy
    /// status`.
    static func looksForHAProxyProcess(_ words: [String]) -> Bool {
        let tools: Set<String> = ["pidof", "pgrep", "killall", "systemctl", "service", "pkill"]
        let programs = words.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        guard programs.contains(where: { tools.contains($0) }) else { return false }
        return words.contains { $0 == "haproxy" || $0 == "haproxy.service" }
    }

    private static func trackedProcesses(_ node: LoadedNode) -> [Finding] {
        guard node.source.balancer == .portico else { return [] }
        return node.vrrp.config.trackProcesses.filter { $0.process.first == "haproxy" }.map { process in
            Finding(
                .error, .scripts, node: node.name, at: Describe.location(process.location(of: "process")),
                "vrrp_track_process \(process.name) tracks a process named haproxy but \(node.name) runs portico lb: "
                    + "it never finds it, so it cannot tell a stopped balancer from a running one")
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
