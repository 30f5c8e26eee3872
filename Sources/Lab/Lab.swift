import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The seed's whole system on one machine: five hosts in network namespaces on a switch of their own,
/// the roles started in them, and the means to look at it and break it.
public final class Lab: @unchecked Sendable {
    public let directory: LabDirectory
    public let porticoExecutable: String?
    let logger: Logger

    public init(
        directory: LabDirectory,
        porticoExecutable: String? = Lab.defaultPorticoExecutable(),
        logger: Logger = Logger(label: "portico.lab")
    ) {
        self.directory = directory
        self.porticoExecutable = porticoExecutable
        self.logger = logger
    }

    // MARK: Preflight

    /// The `portico` binary: $PORTICO_BIN, this process when it is `portico`, or a `portico` next to it
    /// (where SwiftPM puts it beside the test bundle).
    public static func defaultPorticoExecutable() -> String? {
        let manager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["PORTICO_BIN"], manager.isExecutableFile(atPath: explicit)
        {
            return explicit
        }
        guard let me = try? manager.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        if (me as NSString).lastPathComponent == "portico" { return me }
        let sibling = ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("portico")
        return manager.isExecutableFile(atPath: sibling) ? sibling : nil
    }

    /// Refuses, with a message that says what to do, when the lab cannot run here.
    public static func preflight(stack: StackSelection, porticoExecutable: String?) throws {
        guard geteuid() == 0 else { throw LabError.notRoot }
        guard FileManager.default.fileExists(atPath: "/proc/self/ns/net") else {
            throw LabError.noNamespaceSupport("/proc/self/ns/net is missing")
        }
        let missing = stack.requiredPrograms.filter { findProgram($0) == nil }
        guard missing.isEmpty else { throw LabError.missingPrograms(missing) }
        let list = try Subprocess.run(["ip", "netns", "list"])
        guard list.succeeded else { throw LabError.noNamespaceSupport(list.errorOutput) }
        guard let porticoExecutable else {
            throw LabError.missingPrograms(["portico (the lab's probe and Portico roles run it; set PORTICO_BIN)"])
        }
        let usedRoles = Role.allCases.filter { role in
            role.hosts.contains { stack.implementation(of: role, on: $0) == .portico }
        }
        let missingRoles = usedRoles.filter { !porticoRoleAvailable($0, executable: porticoExecutable) }
        guard missingRoles.isEmpty else {
            let names = missingRoles.map { "portico \($0.rawValue)" }.joined(separator: ", ")
            throw LabError.invalidOption(
                "\(names) not implemented in \(porticoExecutable) yet: use `--stack reference`, or pick the reference "
                    + "program for that role (--web nginx, --lb haproxy, --vrrp keepalived)"
            )
        }
    }

    /// Whether this `portico` binary implements a role (its help lists the options the lab passes).
    public static func porticoRoleAvailable(_ role: Role, executable: String) -> Bool {
        guard let help = try? Subprocess.run([executable, role.rawValue, "--help"], timeout: 10) else { return false }
        let text = help.output + help.errorOutput
        switch role {
        case .web: return text.contains("--root") && text.contains("--listen")
        case .lb, .vrrp: return text.contains("-f")
        }
    }

    public static func findProgram(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    // MARK: State

    /// True when any namespace of the lab exists.
    public func isRunning() -> Bool {
        ((try? LabNetwork.existingNamespaces()) ?? []).isEmpty == false
    }

    public func loadState() -> LabState? {
        guard let data = FileManager.default.contents(atPath: directory.stateFile) else { return nil }
        return try? JSONDecoder().decode(LabState.self, from: data)
    }

    // MARK: Up

    /// Builds the topology, writes each host's files, starts every role and waits until the seed's
    /// steady state: VIP on lb01 alone, both backends UP, a request through the VIP answered. On any
    /// failure it takes down whatever it built.
    public func up(stack: StackSelection, configs: LabConfigs = .seed, readyTimeout: Double = 40) throws {
        try Lab.preflight(stack: stack, porticoExecutable: porticoExecutable)
        let existing = try LabNetwork.existingNamespaces()
        guard existing.isEmpty else { throw LabError.alreadyRunning("namespaces \(existing.joined(separator: ", "))") }
        do {
            try writeFiles(stack: stack, configs: configs)
            logger.info("creating namespaces and the switch")
            try LabNetwork.create()
            for host in LabHost.webs { try start(.web, on: host, stack: stack) }
            for host in LabHost.balancers { try start(.lb, on: host, stack: stack) }
            // VRRP starts once the balancers pass their tracking script: otherwise both nodes begin with a
            // failed script and lowered priorities, and whichever recovers first takes the VIP.
            for host in LabHost.balancers { try waitForCheckScript(host, timeout: 15) }
            for host in LabHost.balancers { try start(.vrrp, on: host, stack: stack) }
            try waitUntilSteady(stack: stack, timeout: readyTimeout)
        } catch {
            logger.error("lab up failed, taking the lab down: \(error)")
            down()
            throw error
        }
    }

    func writeFiles(stack: StackSelection, configs: LabConfigs = .seed) throws {
        try directory.makeFolder(directory.path)
        for host in LabHost.allCases {
            let folder = directory.folder(host)
            try directory.makeFolder(folder)
            for role in Role.allCases {
                try? FileManager.default.removeItem(atPath: directory.pidFile(role, on: host))
                try? FileManager.default.removeItem(atPath: directory.logFile(role, on: host))
            }
        }
        for host in LabHost.webs {
            try directory.makeFolder(directory.webRoot(host))
            try directory.makeFolder("\(directory.folder(host))/nginx-tmp")
            for page in LabFiles.pages(for: host) {
                try directory.write(page.text, to: "\(directory.webRoot(host))/\(page.name)")
            }
            try directory.write(
                LabFiles.nginxConfig(folder: directory.folder(host), root: directory.webRoot(host)),
                to: directory.nginxConfig(host)
            )
        }
        for host in LabHost.balancers {
            try directory.write(configs.haproxyText(host), to: directory.haproxyConfig(host))
            let limits = directory.haproxyLimitsConfig(host)
            try? FileManager.default.removeItem(atPath: limits)
            if let override = LabFiles.haproxyLimitsOverride(openFileLimit: Lab.openFileLimit()) {
                try directory.write(override, to: limits)
            }
            let balancer =
                stack.implementation(of: .lb, on: host) == .haproxy
                ? ["haproxy", "-f", directory.haproxyConfig(host)] : ["portico", "lb", "-f", directory.haproxyConfig(host)]
            try directory.write(
                configs.failover.apply(
                    to: configs.keepalivedText(host, checkScript: directory.checkScript(host)), balancer: balancer),
                to: directory.keepalivedConfig(host)
            )
            try directory.write(
                LabFiles.checkScript(balancerPidFile: directory.pidFile(.lb, on: host)),
                to: directory.checkScript(host), executable: true
            )
        }
        let state = LabState(
            stack: stack, porticoExecutable: porticoExecutable ?? "", startedAt: WallClock.now(),
            failover: configs.failover)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(state).write(to: URL(fileURLWithPath: directory.stateFile))
        } catch {
            throw LabError.io("could not write \(directory.stateFile): \(error)")
        }
    }

    /// Runs the node's tracking script (as its VRRP role will) until it passes, bounded.
    func waitForCheckScript(_ host: LabHost, timeout: Double) throws {
        let deadline = Monotonic.now() + timeout
        var last = ""
        while Monotonic.now() < deadline {
            try Interrupt.check()
            let result = try Subprocess.run([
                "ip", "netns", "exec", host.namespace, "bash", directory.checkScript(host),
            ])
            if result.succeeded { return }
            last = result.errorOutput.trimmed
            guard isRoleRunning(.lb, on: host) else {
                throw LabError.notReady(
                    "the balancer on \(host.rawValue) exited; see \(directory.logFile(.lb, on: host))")
            }
            Monotonic.sleep(0.1)
        }
        throw LabError.notReady("\(host.rawValue)'s balancer never passed check_haproxy.sh: \(last)")
    }

    func waitUntilSteady(stack: StackSelection, timeout: Double) throws {
        let deadline = Monotonic.now() + timeout
        var last = "nothing observed yet"
        while Monotonic.now() < deadline {
            try Interrupt.check()
            let (observation, outcome) = try NamespaceThread.run { hopper in
                try Observer.observe(hopper, statsTimeout: 0.5, requestThroughVIP: true, directory: self.directory)
            }
            var problems: [String] = []
            if observation.vipHolders != [.lb01] {
                problems.append("VIP on \(observation.vipHolders.map(\.rawValue))")
            }
            if outcome?.status != 200 {
                problems.append(
                    "GET / through the VIP: \(outcome?.detail ?? outcome?.failure?.rawValue ?? "no answer")")
            }
            for host in LabHost.balancers {
                let view = observation.views[host] ?? .unavailable("no answer")
                if view.available {
                    for web in LabHost.webs where view.state(of: web.rawValue) != "UP" {
                        problems.append(
                            "\(host.rawValue) sees \(web.rawValue) \(view.state(of: web.rawValue) ?? "missing")")
                    }
                } else if stack.implementation(of: .lb, on: host) == .haproxy {
                    problems.append("\(host.rawValue) stats: \(view.error ?? "unavailable")")
                }
            }
            for host in LabHost.balancers where stack.implementation(of: .vrrp, on: host) == .keepalived {
                let log = (try? String(contentsOfFile: directory.logFile(.vrrp, on: host), encoding: .utf8)) ?? ""
                let view = KeepalivedLogView.parse(String(log.sinceLastStart))
                if let priority = view.priority, priority != configuredPriority(host) {
                    problems.append("\(host.rawValue) priority \(priority)")
                }
            }
            for role in Role.allCases {
                for host in role.hosts where !(directory.recordedPid(role, on: host).map(ProcessTable.isAlive) ?? false)
                {
                    let implementation = stack.implementation(of: role, on: host).rawValue
                    throw LabError.notReady(
                        "\(implementation) (\(role.rawValue)) on \(host.rawValue) exited; "
                            + "see \(directory.logFile(role, on: host))"
                    )
                }
            }
            if problems.isEmpty {
                logger.info(
                    "lab is up: VIP on lb01, both backends UP, GET / answered by \(outcome?.body.trimmed ?? "?")")
                return
            }
            last = problems.joined(separator: "; ")
            Monotonic.sleep(0.25)
        }
        throw LabError.notReady("after \(Int(timeout)) s: \(last)")
    }

    // MARK: Roles

    /// The command line that runs a role on a host with the chosen program (inside the host's namespace).
    public func command(for role: Role, on host: LabHost, implementation: RoleImplementation) -> [String] {
        let folder = directory.folder(host)
        let portico = porticoExecutable ?? "portico"
        let program: [String]
        switch (role, implementation) {
        case (.web, .nginx):
            program = [
                "nginx", "-p", folder + "/", "-e", "\(folder)/nginx-error.log", "-c", directory.nginxConfig(host),
            ]
        case (.web, _):
            program = [
                portico, "web", "--root", directory.webRoot(host), "--listen", "\(host.address):80",
                "--access-log", "\(folder)/access.log", "--name", host.rawValue,
            ]
        case (.lb, .haproxy):
            // -db: stay in the foreground despite the seed's `daemon`; own pidfile per node.
            // A second -f only where this machine's file limit is below what the seed's maxconn needs.
            let limits = directory.haproxyLimitsConfig(host)
            let extra = FileManager.default.fileExists(atPath: limits) ? ["-f", limits] : []
            program =
                ["haproxy", "-f", directory.haproxyConfig(host)] + extra + ["-db", "-p", "\(folder)/haproxy.pid"]
        case (.lb, _):
            program = [portico, "lb", "-f", directory.haproxyConfig(host), "-db", "-p", "\(folder)/portico-lb.pid"]
        case (.vrrp, .keepalived):
            // Foreground, VRRP only, logs to the console (our log file), every pidfile per node.
            program = [
                "keepalived", "-n", "-l", "-D", "-G", "-P", "-f", directory.keepalivedConfig(host),
                "-p", "\(folder)/keepalived.pid", "-r", "\(folder)/keepalived-vrrp.pid",
                "-c", "\(folder)/keepalived-checkers.pid", "-i", host.rawValue,
            ]
        case (.vrrp, _):
            // A control socket per node: both nodes share this machine's filesystem.
            program = [
                portico, "vrrp", "-f", directory.keepalivedConfig(host), "--control-socket",
                directory.vrrpControlSocket(host),
            ]
        }
        return ["ip", "netns", "exec", host.namespace] + program
    }

    /// Starts the role on the host, records its pid, and appends its output to the role's log.
    public func start(_ role: Role, on host: LabHost, stack: StackSelection? = nil) throws {
        try Interrupt.check()
        guard let stack = stack ?? loadState()?.stack else { throw LabError.notRunning }
        let implementation = stack.implementation(of: role, on: host)
        let arguments = command(for: role, on: host, implementation: implementation)
        let log = directory.logFile(role, on: host)
        Lab.raiseFileLimit()
        try? "--- portico lab \(Date()) starting: \(arguments.joined(separator: " "))\n".appendLine(to: log)
        let pid = try Subprocess.startDetached(arguments, logPath: log)
        try directory.write("\(pid)\n", to: directory.pidFile(role, on: host))
        logger.info("started \(implementation.rawValue) (\(role.rawValue)) on \(host.rawValue), pid \(pid)")
    }

    /// Sends `signal` to the role's process and waits (bounded) until it is gone.
    @discardableResult
    public func stop(_ role: Role, on host: LabHost, signal: Int32 = SIGTERM, wait: Double = 10) -> Bool {
        guard let pid = directory.recordedPid(role, on: host), ProcessTable.isAlive(pid) else { return true }
        kill(pid, signal)
        let deadline = Monotonic.now() + wait
        while Monotonic.now() < deadline {
            if !ProcessTable.isAlive(pid) { return true }
            Monotonic.sleep(0.02)
        }
        kill(pid, SIGKILL)
        return false
    }

    /// The seed's `maxconn 10000` makes HAProxy ask for 20020 descriptors and refuse to start below that
    /// (systemd gives services a high limit; a shell often gives 1024 or 20000). Children inherit ours.
    static func raiseFileLimit(to wanted: rlim_t = 65536) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < wanted else { return }
        var raised = rlimit(rlim_cur: wanted, rlim_max: max(wanted, limit.rlim_max))
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
            raised = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
    }

    /// The open-file limit daemons started now would get (after trying to raise it).
    static func openFileLimit() -> Int {
        raiseFileLimit()
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(clamping: limit.rlim_cur)
    }

    public func isRoleRunning(_ role: Role, on host: LabHost) -> Bool {
        directory.recordedPid(role, on: host).map(ProcessTable.isAlive) ?? false
    }

    // MARK: Down

    private static let downLock = NSLock()

    /// What `down` removed.
    public struct Teardown: Sendable {
        public var namespaces: [String]
        public var processes: Int
        public var rootLinks: [String]
    }

    /// Removes every process, namespace and link of the lab. Needs nothing but what it finds on the
    /// machine (works after a crash) and does nothing when there is nothing to do.
    @discardableResult
    public func down() -> Teardown {
        // Ctrl-C's handler and the interrupted command may both take the lab down: one at a time.
        Lab.downLock.lock()
        defer { Lab.downLock.unlock() }
        var victims = Set<pid_t>()
        // Recorded pids count only if the process still runs something of this lab (pids get reused).
        for role in Role.allCases {
            for host in role.hosts {
                guard let pid = directory.recordedPid(role, on: host), ProcessTable.isAlive(pid),
                    let line = ProcessTable.commandLine(pid), line.contains(directory.path)
                else { continue }
                victims.insert(pid)
            }
        }
        let namespaces = (try? LabNetwork.existingNamespaces()) ?? []
        for namespace in namespaces { victims.formUnion(LabNetwork.pids(in: namespace)) }
        victims.remove(getpid())
        let killed = victims.filter(ProcessTable.isAlive).count
        terminate(Array(victims))
        for namespace in namespaces {
            do {
                try LabNetwork.deleteNamespace(namespace)
            } catch {
                logger.warning("could not delete namespace \(namespace): \(error)")
            }
        }
        let stray = LabNetwork.strayRootLinks()
        for link in stray { _ = try? Subprocess.run(["ip", "link", "delete", link]) }
        for role in Role.allCases {
            for host in role.hosts { try? FileManager.default.removeItem(atPath: directory.pidFile(role, on: host)) }
        }
        try? FileManager.default.removeItem(atPath: directory.stateFile)
        if !namespaces.isEmpty || killed > 0 {
            logger.info("lab down: \(namespaces.count) namespaces, \(killed) processes removed")
        }
        return Teardown(namespaces: namespaces, processes: killed, rootLinks: stray)
    }

    /// SIGTERM, a bounded wait, then SIGKILL for whatever is left.
    private func terminate(_ pids: [pid_t]) {
        for pid in pids { kill(pid, SIGTERM) }
        for (signal, wait) in [(SIGKILL, 3.0), (0, 2.0)] {
            let deadline = Monotonic.now() + wait
            while Monotonic.now() < deadline && pids.contains(where: ProcessTable.isAlive) { Monotonic.sleep(0.05) }
            if signal != 0 { for pid in pids where ProcessTable.isAlive(pid) { kill(pid, signal) } }
        }
    }

    // MARK: Exec

    /// `ip netns exec plab-HOST CMD...`: what `portico lab exec HOST -- CMD...` runs.
    public func execArguments(host: LabHost, command: [String]) -> [String] {
        ["ip", "netns", "exec", host.namespace] + command
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }

    func appendLine(to path: String) throws {
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            handle.seekToEndOfFile()
            handle.write(Data(utf8))
        } else {
            try write(toFile: path, atomically: false, encoding: .utf8)
        }
    }
}
