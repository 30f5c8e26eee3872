import ArgumentParser
import Foundation
import KeepalivedConfig
import Logging
import ServiceLifecycle
import VRRPDaemon

/// `portico vrrp`: the Keepalived role. Flags follow keepalived's where they exist.
struct VRRPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vrrp",
        abstract: "VRRP virtual-IP failover reading keepalived.conf (the Keepalived role).",
        subcommands: [VRRPRun.self, VRRPStatus.self, VRRPControl.self],
        defaultSubcommand: VRRPRun.self
    )
}

/// The default control socket: one per router_id, so two nodes on one machine (the lab) don't collide.
func defaultControlSocket(routerID: String?) -> String {
    "/run/portico/vrrp-\(routerID ?? String(getpid())).sock"
}

struct VRRPRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the VRRP daemon (default): `portico vrrp -f keepalived.conf`.")

    @Option(name: [.customShort("f"), .customLong("use-file")], help: "keepalived.conf to read.")
    var file: String = "/etc/keepalived/keepalived.conf"

    @Flag(name: [.customShort("t"), .customLong("config-test")], help: "Check the configuration and exit 0 or 1.")
    var configTest = false

    @Flag(name: [.customShort("D"), .customLong("daemon")], help: "Detach and run in the background.")
    var daemonize = false

    @Option(name: [.customShort("p"), .customLong("pid")], help: "Pid file to write.")
    var pidFile: String?

    @Flag(name: [.customShort("n"), .customLong("dont-fork")], help: "Stay in the foreground (the default).")
    var dontFork = false

    @Flag(name: [.customShort("l"), .customLong("log-console")], help: "Log to the console (the default).")
    var logConsole = false

    @Option(
        name: .customLong("control-socket"), help: "Unix control socket (default /run/portico/vrrp-ROUTER_ID.sock).")
    var controlSocket: String?

    @Flag(name: .customLong("no-control-socket"), help: "Don't open a control socket.")
    var noControlSocket = false

    @Flag(name: .customLong("no-handover-on-stop"), help: "On SIGTERM, resign at once instead of handing over first.")
    var noHandoverOnStop = false

    @Flag(
        name: .customLong("preempt-on-lower-priority"),
        help:
            "Portico extension: a backup preempts at once on a lower-priority advert (not after Master_Down_Interval)."
    )
    var preemptOnLowerPriority = false

    @Option(
        name: .customLong("node-socket"),
        help: "Where the node's balancer asks for a handover before it stops (default @portico-vrrp; none: off).")
    var nodeSocket: String = VRRPService.nodeControlSocket

    @Option(
        name: .customLong("release-linger"),
        help: "Seconds a released VIP stays on lo so connections in flight finish (0: remove at once).")
    var releaseLinger: Double = 2

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning or error.")
    var logLevel: String = "info"

    func run() async throws {
        var result = KeepalivedConfigParser.parse(file: file, source: .fileSystem)
        if !result.diagnostics.hasErrors {
            // Unknown script users refuse the file; what the daemon logs when it loads it, -t prints.
            let plan = ScriptPlan(onThisMachine: result.config)
            result.diagnostics += plan.errors + (configTest ? plan.notices : [])
        }
        if configTest {
            var diagnostics = result.diagnostics
            if !diagnostics.hasErrors { diagnostics += trackingAnalysis(nodes: [result.config]) }
            for d in diagnostics { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
            if diagnostics.hasErrors { throw ExitCode(1) }
            FileHandle.standardError.write(Data("Configuration file \(file) is OK\n".utf8))
            return
        }
        for d in result.diagnostics { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
        guard !result.diagnostics.hasErrors else { throw ExitCode(1) }
        let config = result.config

        if daemonize && !Daemonize.isDaemonChild {
            _ = try Daemonize.respawnDetached(arguments: Array(CommandLine.arguments.dropFirst()))
            return
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in KeepalivedLogHandler(label: label, level: level) }
        let logger = Logger(label: "portico.vrrp")
        let pidPath = pidFile ?? (daemonize ? "/run/portico/vrrp.pid" : nil)
        if let pidPath { try Daemonize.writePidFile(pidPath) }
        defer { if let pidPath { Daemonize.removePidFile(pidPath) } }

        logger.info("Starting portico vrrp (Keepalived role), config \(file)")
        let options = VRRPService.Options(
            controlSocketPath: noControlSocket
                ? nil : (controlSocket ?? defaultControlSocket(routerID: config.global.routerID)),
            handOverOnStop: !noHandoverOnStop, preemptOnLowerPriorityAdvert: preemptOnLowerPriority,
            nodeControlSocketPath: nodeSocket == "none" ? nil : nodeSocket, releasedVIPLinger: max(0, releaseLinger))
        let daemon = VRRPService(config: config, options: options, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("\(error)")
            throw ExitCode(1)
        }
    }
}

/// A client-side failure (no daemon, several daemons): reported without the usage text.
struct VRRPClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Finds the control socket: given, from the config's router_id, or the only one in /run/portico.
func resolveControlSocket(_ explicit: String?, configFile: String?) throws -> String {
    if let explicit { return explicit }
    if let configFile {
        let config = try KeepalivedConfigParser.parse(file: configFile, source: .fileSystem).get()
        if let id = config.global.routerID { return defaultControlSocket(routerID: id) }
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/portico")) ?? []
    let sockets = names.filter { $0.hasPrefix("vrrp-") && $0.hasSuffix(".sock") }.sorted()
    guard sockets.count == 1 else {
        throw VRRPClientError(
            sockets.isEmpty
                ? "no portico vrrp control socket in /run/portico (is the daemon running?)"
                : "several daemons run (\(sockets.joined(separator: ", "))): pass --control-socket or -f")
    }
    return "/run/portico/" + sockets[0]
}

struct VRRPStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each instance's state, priorities, master, trackers and counters (JSON)."
    )

    @Option(name: .customLong("control-socket")) var controlSocket: String?
    @Option(name: [.customShort("f"), .customLong("use-file")]) var file: String?

    func run() async throws {
        let path = try resolveControlSocket(controlSocket, configFile: file)
        let answer = try vrrpControlRequest(path: path, command: "status", timeout: 5)
        // Pretty-print for people; the control socket itself speaks compact JSON.
        if let object = try? JSONSerialization.jsonObject(with: Data(answer.utf8)),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(answer)
        }
    }
}

struct VRRPControl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Control a running daemon: `failover [INSTANCE]` hands the VIP over on purpose and holds back, "
            + "`resume [INSTANCE]` lets it preempt again, `reload` re-reads the configuration (as SIGHUP does).")

    @Argument(help: "failover, resume or reload") var command: String
    @Argument(help: "Instance name (default: all).") var instance: String?
    @Option(name: .customLong("control-socket")) var controlSocket: String?
    @Option(name: [.customShort("f"), .customLong("use-file")]) var file: String?

    func run() async throws {
        guard ["failover", "resume", "reload"].contains(command) else {
            throw ValidationError("unknown command \(command): use failover, resume or reload")
        }
        let path = try resolveControlSocket(controlSocket, configFile: file)
        let answer = try vrrpControlRequest(
            path: path, command: ([command] + (instance.map { [$0] } ?? [])).joined(separator: " "), timeout: 60)
        print(answer)
        if command == "failover", answer.contains("false") { throw ExitCode(1) }
        // A refused reload (errors in the file) leaves the daemon running the old configuration: say so by status.
        if command == "reload", !answer.contains("\"reloaded\":true") { throw ExitCode(1) }
    }
}
