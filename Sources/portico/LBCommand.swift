import ArgumentParser
import Balancer
import Foundation
import HAProxyConfig
import Logging
import ServiceLifecycle
import VRRPDaemon

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `portico lb`: the HAProxy role, with HAProxy's command line (`-f`, `-c`, `-D`, `-p`, `-db`).
///
/// Foreground is the default, as with systemd's `haproxy -Ws`: `global daemon` in the file is accepted
/// and ignored (with a notice) unless `-D` is given, so a supervisor or the lab never loses track of the
/// process. `-D` detaches by re-executing this binary in a new session before any event loop thread
/// exists (forking a process that already runs NIO threads is unsafe).
struct LBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lb",
        abstract: "Run the HTTP load balancer (the HAProxy role) from haproxy.cfg files.",
        subcommands: [LBControlCommand.self, LBReloadCommand.self]
    )

    @Option(name: .customShort("f"), help: "Configuration file or directory (repeatable, read in order).")
    var files: [String] = []

    @Flag(name: .customShort("c"), help: "Check the configuration and exit: 0 if valid, 1 if not.")
    var check = false

    @Flag(name: .customShort("D"), help: "Run in the background (daemon).")
    var daemon = false

    @Flag(name: .customLong("db", withSingleDash: true), help: "Stay in the foreground (HAProxy's -db).")
    var foreground = false

    @Option(name: .customShort("p"), help: "Write the process id to this file.")
    var pidFile: String?

    @Flag(name: .customShort("d"), help: "Debug output.")
    var debug = false

    @Flag(name: .customShort("V"), help: "Verbose output.")
    var verbose = false

    @Flag(name: .customShort("q"), help: "Quiet: only errors.")
    var quiet = false

    @Option(name: .customLong("threads"), help: "Event loops (default: global nbthread, else one per CPU).")
    var threads: Int?

    @Option(name: .customLong("grace"), help: "Seconds a graceful stop waits for in-flight requests.")
    var grace: Int = 10

    @Option(
        name: .customLong("vrrp-socket"),
        help: ArgumentHelp(
            "The node's portico vrrp control socket, asked to move the VIP away before a stop (default "
                + "@portico-vrrp, or $PORTICO_VRRP_SOCKET; none: off)."))
    var vrrpSocket: String?

    @Flag(name: .customLong("no-vrrp-handover"), help: "Stop without asking the node's portico vrrp to hand over.")
    var noVRRPHandover = false

    static let daemonMarker = "PORTICO_LB_DAEMONIZED"

    func run() async throws {
        // Checked here rather than in validate(): ArgumentParser validates this command also when one of
        // its subcommands (`ctl`, `reload`) runs, and those take no -f.
        if self.files.isEmpty {
            throw ValidationError("no configuration file given: use -f FILE (as haproxy -f)")
        }
        let level: Logger.Level = self.debug ? .debug : self.verbose ? .info : self.quiet ? .error : .notice
        LoggingSystem.bootstrap { _ in HAProxyLogHandler(level: level) }
        let logger = Logger(label: "portico.lb")

        let result = BalancerConfig.load(paths: self.files, environment: ProcessInfo.processInfo.environment)
        let limit = Self.raiseDescriptorLimit()
        let (maxConn, capWarning) = effectiveMaxConn(
            configured: result.config.global.maxConn,
            fileDescriptorLimit: limit,
            location: result.config.global.maxConnLocation
        )
        var lines = result.diagnostics.map(\.description)
        if let capWarning { lines.append(capWarning.description) }
        if let summary = result.summaryLine { lines.append(summary) }
        if !self.quiet || result.hasAlerts {
            for line in lines { Self.printError(line) }
        }
        if self.check {
            if result.hasAlerts { throw ExitCode(1) }
            print("Configuration file is valid")
            return
        }
        guard !result.hasAlerts else { throw ExitCode(1) }

        let config = result.config
        if config.global.daemon, !self.daemon, !self.foreground {
            logger.notice("'daemon' in the global section is ignored without -D: running in the foreground.")
        }
        if self.daemon, !self.foreground, ProcessInfo.processInfo.environment[Self.daemonMarker] == nil {
            let pid = try Self.spawnDetached()
            if let path = self.pidFile ?? config.global.pidFile { try Self.writePidFile(path, pid: pid) }
            return
        }
        if let path = self.pidFile ?? config.global.pidFile { try Self.writePidFile(path, pid: getpid()) }

        let handover = BalancerHandover.resolve(
            option: self.vrrpSocket, disabled: self.noVRRPHandover, environment: ProcessInfo.processInfo.environment)
        // Before listening: the node's VRRP daemon must not take the VIP back until we serve (issue 6).
        handover.announceStarting()

        // A supervisor rather than a bare LoadBalancer: SIGHUP reloads hitlessly, SIGUSR1 soft-stops.
        let files = self.files
        let balancer: BalancerSupervisor
        do {
            balancer = try BalancerSupervisor(
                config: config,
                load: { BalancerConfig.load(paths: files, environment: ProcessInfo.processInfo.environment) },
                options: BalancerOptions(maxConnections: maxConn, gracePeriod: .seconds(Int64(self.grace))),
                threads: self.threads,
                logger: logger,
                optionsFor: { [grace = self.grace] reloaded in
                    let (reloadedMaxConn, _) = effectiveMaxConn(
                        configured: reloaded.global.maxConn, fileDescriptorLimit: limit,
                        location: reloaded.global.maxConnLocation)
                    return BalancerOptions(maxConnections: reloadedMaxConn, gracePeriod: .seconds(Int64(grace)))
                }
            )
            balancer.handleSignals()
            try await balancer.start()
        } catch let error as BalancerStartError {
            Self.printError(error.description)
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // A soft stop (SIGUSR1) ends the service on its own: that is a clean exit, not a failure.
                services: [.init(service: balancer, successTerminationBehavior: .gracefullyShutdownGroup)],
                // SIGTERM/SIGINT are handled below: the VIP is handed over before the graceful stop.
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        let signals = BalancerStopSignals(handover: handover, logger: logger) {
            Task { await group.triggerGracefulShutdown() }
        }
        // Serving now: the node's VRRP daemon may take the VIP back if it held back for our previous stop.
        Thread.detachNewThread { handover.announceReady(logger: logger) }
        try await group.run()
        withExtendedLifetime(signals) {}
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit (as HAProxy does) and returns the hard limit.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
        return limit.rlim_max == rlim_t.max ? Int.max : Int(clamping: limit.rlim_max)
    }

    /// Starts this same command again, detached: new session, stdio on /dev/null, marker in the environment.
    static func spawnDetached() throws -> pid_t {
        let executable = "/proc/self/exe"
        let arguments = CommandLine.arguments
        var environment = ProcessInfo.processInfo.environment
        environment[Self.daemonMarker] = "1"
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        for descriptor in [Int32(0), 1, 2] {
            posix_spawn_file_actions_addopen(
                &fileActions,
                descriptor,
                "/dev/null",
                descriptor == 0 ? O_RDONLY : O_WRONLY,
                0
            )
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26+): the daemon gets its own session, detached from the terminal.
        posix_spawnattr_setflags(&attributes, Int16(0x80))
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard status == 0 else {
            throw ValidationError("cannot start the daemon process: \(String(cString: strerror(status)))")
        }
        return pid
    }

    static func writePidFile(_ path: String, pid: pid_t) throws {
        do {
            try "\(pid)\n".write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("[ALERT] config : cannot create pidfile \(path)")
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
