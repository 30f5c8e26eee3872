import ArgumentParser
import Foundation
import Lab
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "The seed's whole system in network namespaces on this machine, with its failure drills.",
        discussion: """
            Hosts client (192.168.10.50), lb01 (.11), lb02 (.12), web01 (.21), web02 (.22) on one switch;
            VIP 192.168.10.100 floats between lb01 and lb02. Needs root. The root namespace gets no lab address.
            """,
        subcommands: [
            LabUp.self, LabDown.self, LabStatusCommand.self, LabExec.self, LabDrill.self, LabDemo.self, LabProbe.self,
        ]
    )
}

/// Where the lab keeps its files.
struct LabDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("lab-dir"), help: "The lab's directory (configs, pidfiles, logs).")
    var labDirectory: String = ProcessInfo.processInfo.environment["PORTICO_LAB_DIR"] ?? LabDirectory.defaultPath

    func makeLab() throws -> Lab {
        var logger = Logger(label: "portico.lab")
        logger.logLevel = .info
        return Lab(directory: try LabDirectory(path: labDirectory), logger: logger)
    }
}

/// Which program plays each role.
struct StackOptions: ParsableArguments {
    @Option(help: "portico (Portico's roles) or reference (Debian's nginx, HAProxy, Keepalived).")
    var stack: String = "portico"

    @Option(help: "The web role: portico or nginx (or per host: web01=nginx,web02=portico).")
    var web: String?

    @Option(help: "The load balancer role: portico or haproxy (or per host: lb01=haproxy,lb02=portico).")
    var lb: String?

    @Option(help: "The VRRP role: portico or keepalived (or per host: lb01=keepalived,lb02=portico).")
    var vrrp: String?

    @Option(help: "haproxy.cfg for the balancers instead of the seed's (FILE, or lb01=FILE,lb02=FILE).")
    var haproxyConfig: String?

    @Option(help: "keepalived.conf per balancer instead of the seed's (lb01=FILE,lb02=FILE).")
    var keepalivedConfig: String?

    @Option(
        help: ArgumentHelp(
            "seed (the seed's keepalived.conf) or recommended (adds vrrp_track_process on the balancer, weight 0: "
                + "docs/failover.md). Default: recommended where portico vrrp runs on both nodes, else seed."))
    var failoverConfig: String?

    @Flag(help: "VRRPv3 with advert_int 0.1 in both nodes' keepalived.conf (fast detection of a lost node).")
    var vrrpV3 = false

    func selection() throws -> StackSelection {
        try StackSelection.parse(stack: stack, web: web, lb: lb, vrrp: vrrp)
    }

    func configs() throws -> LabConfigs {
        var configs = try LabConfigs.parse(haproxy: haproxyConfig, keepalived: keepalivedConfig)
        let selection = try selection()
        let porticoVRRP = Role.vrrp.hosts.allSatisfy { selection.implementation(of: .vrrp, on: $0) == .portico }
        configs.failover = try FailoverTuning.parse(
            failoverConfig ?? (porticoVRRP ? "recommended" : "seed"), fastAdverts: vrrpV3)
        return configs
    }
}

/// Runs a lab operation, turning lab errors into a clean message and exit status.
func runLab(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as LabError {
        FileHandle.standardError.write(Data("portico lab: \(error.description)\n".utf8))
        throw ExitCode(error == .interrupted ? 130 : 1)
    }
}

struct LabUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Build the topology, write the configs, start every role, wait until steady."
    )
    @OptionGroup var directory: LabDirectoryOptions
    @OptionGroup var stack: StackOptions

    func run() throws {
        try runLab {
            let lab = try directory.makeLab()
            let selection = try stack.selection()
            try Lab.preflight(stack: selection, porticoExecutable: lab.porticoExecutable)
            let lock = try LabLock()
            Interrupt.install { lab.down() }
            try lab.up(stack: selection, configs: try stack.configs())
            print(try lab.status().text, terminator: "")
            withExtendedLifetime(lock) {}
        }
    }
}

struct LabDown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Remove every namespace, link and process of the lab (safe to repeat)."
    )
    @OptionGroup var directory: LabDirectoryOptions

    func run() throws {
        try runLab {
            guard geteuid() == 0 else { throw LabError.notRoot }
            let lab = try directory.makeLab()
            // Down works even while another command holds the lock: it is the way out of a stuck lab.
            let lock = try? LabLock(wait: 2)
            let teardown = lab.down()
            print("lab down: removed \(teardown.namespaces.count) namespaces and \(teardown.processes) processes")
            withExtendedLifetime(lock) {}
        }
    }
}

struct LabStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "VIP holder(s), VRRP state per node, backends as each balancer sees them, one request via the VIP."
    )
    @OptionGroup var directory: LabDirectoryOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runLab {
            let status = try directory.makeLab().status()
            print(json ? status.json : status.text, terminator: json ? "\n" : "")
            if !status.running { throw ExitCode(3) }
        }
    }
}

struct LabExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a command inside a lab host's namespace: portico lab exec HOST -- CMD..."
    )
    @Argument(help: "client, lb01, lb02, web01 or web02.") var host: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func run() throws {
        try runLab {
            guard geteuid() == 0 else { throw LabError.notRoot }
            guard let labHost = LabHost(name: host) else { throw LabError.unknownHost(host) }
            var arguments = command
            if arguments.first == "--" { arguments.removeFirst() }
            guard !arguments.isEmpty else {
                throw LabError.invalidOption("give a command: portico lab exec \(host) -- CMD")
            }
            let full = ["ip", "netns", "exec", labHost.namespace] + arguments
            var argv: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) }
            argv.append(nil)
            execvp("ip", argv)
            throw LabError.spawnFailed(command: full.joined(separator: " "), errno: errno)
        }
    }
}

struct DrillOutputOptions: ParsableArguments {
    @Flag(help: "Print the reports as JSON.") var json = false
    @Option(help: "Write a self-contained HTML report with a timeline to this file.") var report: String?
    @Option(help: "The steady client's requests per second.") var rate: Double = 100
    @Option(help: "Seconds before a request of the steady client counts as timed out.") var timeout: Double = 1
    @Option(help: "The steady drill: how many seconds it runs.") var duration: Double = 60
    @Flag(help: "The steady drill: run wrk -t1 -c50 against the VIP from the client beside the steady client.")
    var load = false

    func timing() throws -> DrillTiming {
        guard rate > 0, rate <= 2000, timeout > 0, timeout <= 10, duration >= 1, duration <= 3600 else {
            throw LabError.invalidOption(
                "--rate must be in (0, 2000], --timeout in (0, 10] seconds, --duration in [1, 3600] seconds"
            )
        }
        if load && Lab.findProgram("wrk") == nil { throw LabError.missingPrograms(["wrk"]) }
        return DrillTiming(rate: rate, requestTimeout: timeout, soak: duration, load: load)
    }
}

/// Runs drills on the running lab, or on one it brings up (and takes down) itself.
func runDrills(
    _ names: [DrillName], lab: Lab, stack: StackSelection, configs: LabConfigs, output: DrillOutputOptions,
    forceUp: Bool
) throws {
    let timing = try output.timing()
    // A running lab is drilled as it is, with its own stack; the options only matter for a lab brought up here.
    let running = forceUp ? nil : (lab.isRunning() ? lab.loadState()?.stack : nil)
    try Lab.preflight(stack: running ?? stack, porticoExecutable: lab.porticoExecutable)
    let lock = try LabLock()
    Interrupt.install { lab.down() }
    var broughtUp = false
    if let running {
        if running != stack {
            let note = "note: drilling the running lab (stack: \(running.summary)), not `\(stack.summary)`\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
    } else {
        try lab.up(stack: stack, configs: configs)
        broughtUp = true
    }
    defer {
        if broughtUp { lab.down() }
        withExtendedLifetime(lock) {}
    }
    var runs: [DrillRun] = []
    var reports: [DrillReport] = []
    do {
        for name in names {
            let run = try lab.drill(name, timing: timing)
            // Everything the drill recorded, for a closer look than the report gives.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try? encoder.encode(run).write(
                to: URL(fileURLWithPath: "\(lab.directory.path)/drill-\(name.rawValue).json"))
            let report = DrillAnalysis.report(run)
            runs.append(run)
            reports.append(report)
            if !output.json { print(ReportText.drill(report)) }
        }
    } catch {
        if !broughtUp { lab.down() }
        throw error
    }
    if output.json {
        print(ReportText.json(reports))
    } else if reports.count > 1 {
        print(ReportText.summary(reports), terminator: "")
    }
    if let path = output.report {
        try ReportHTML.page(runs: runs, reports: reports).write(toFile: path, atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("report written to \(path)\n".utf8))
    }
}

struct LabDrill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Break something under steady load and measure: backend, entry, entry-crash, node or all.",
        discussion: "`steady` breaks nothing: it checks that the VIP does not move under load (--duration, --load)."
    )
    @Argument(help: "backend, entry, entry-crash, node, all (the four), or steady.") var name: String
    @OptionGroup var directory: LabDirectoryOptions
    @OptionGroup var stack: StackOptions
    @OptionGroup var output: DrillOutputOptions

    func run() throws {
        try runLab {
            let names: [DrillName]
            if name == "all" {
                names = DrillName.seedDrills
            } else if let one = DrillName(rawValue: name) {
                names = [one]
            } else {
                throw LabError.invalidOption(
                    "unknown drill '\(name)': backend, entry, entry-crash, node, all or steady")
            }
            try runDrills(
                names, lab: try directory.makeLab(), stack: try stack.selection(), configs: try stack.configs(),
                output: output, forceUp: false
            )
        }
    }
}

struct LabDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Up, every drill, the report as a table, down."
    )
    @OptionGroup var directory: LabDirectoryOptions
    @OptionGroup var stack: StackOptions
    @OptionGroup var output: DrillOutputOptions

    func run() throws {
        try runLab {
            let lab = try directory.makeLab()
            if lab.isRunning() {
                throw LabError.alreadyRunning("demo builds its own; use `portico lab drill all` or `portico lab down`")
            }
            var output = output
            if output.report == nil { output.report = "\(lab.directory.path)/report.html" }
            try runDrills(
                DrillName.seedDrills, lab: lab, stack: try stack.selection(), configs: try stack.configs(),
                output: output, forceUp: true
            )
        }
    }
}

/// The steady client. Runs inside the client namespace (`ip netns exec plab-client portico lab probe ...`).
struct LabProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "The drills' steady client (JSON line per request).", shouldDisplay: false
    )
    @Option(help: "ADDRESS:PORT") var target: String = "\(LabTopology.vip):\(LabTopology.httpPort)"
    @Option(help: "Requests per second.") var rate: Double = 100
    @Option(help: "Seconds to send for.") var duration: Double = 10
    @Option(help: "Seconds before a request counts as timed out.") var timeout: Double = 1
    @Option(help: "Stop after this many requests.") var count: Int?

    func run() throws {
        try runLab {
            let (address, port) = try Probe.parseTarget(target)
            guard rate > 0, rate <= 10000, duration > 0, duration <= 3600, timeout > 0, timeout <= 60 else {
                throw LabError.invalidOption("--rate, --duration and --timeout must be positive and bounded")
            }
            let probe = Probe(
                address: address, port: port, rate: rate, duration: duration, timeout: timeout, count: count)
            try probe.checkNamespace()
            ProbeStop.install()
            probe.run(shouldStop: { ProbeStop.requested }) { record in
                FileHandle.standardOutput.write(Data(Probe.jsonLine(record).utf8))
            }
        }
    }
}

/// SIGINT/SIGTERM ask the probe to stop sending and finish the requests in flight.
enum ProbeStop {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        signal(SIGINT) { _ in ProbeStop.flag = 1 }
        signal(SIGTERM) { _ in ProbeStop.flag = 1 }
    }
}
