/// HAProxy's runtime API (the `stats socket`), for the commands operators use in practice. Pure: the
/// I/O layer reads a line, calls ``RuntimeAPI/parse(_:level:)``, and either sends the reply at once or
/// carries out the command (looking the backend and server up, applying ``ServerChange`` to the
/// backend's `BackendState` with ``RuntimeAPI/apply(_:to:server:now:sessions:)``) and sends the text.
/// Replies are worded as haproxy 2.6 words them (checked against the real binary); every reply ends
/// with an empty line, which is how clients of the non-interactive socket know the answer is complete.
public enum RuntimeAPI {
    /// What the socket's `level` allows.
    public enum Level: Int, Sendable, Comparable {
        case user = 0, `operator`, admin

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public struct ServerReference: Sendable, Equatable {
        public var backend: String
        public var server: String

        public init(backend: String, server: String) {
            self.backend = backend
            self.server = server
        }
    }

    public enum Weight: Sendable, Equatable {
        /// `set server B/S weight 3`: 0...256.
        case absolute(Int)
        /// `set server B/S weight 50%`: of the configured weight.
        case percent(Int)
    }

    public enum ServerChange: Sendable, Equatable {
        case admin(AdminState)
        case weight(Weight)
        case health(up: Bool)
    }

    public enum Command: Sendable, Equatable {
        case showInfo
        case showStat(json: Bool)
        /// `show servers state [BACKEND]`.
        case showServersState(backend: String?)
        case change(ServerReference, ServerChange)
        case help
    }

    public enum Parsed: Sendable, Equatable {
        case command(Command)
        /// Answer this text without doing anything (a usage or permission error).
        case reply(String)
    }

    // MARK: - Replies, as haproxy 2.6 words them

    public static let done = "\n"
    public static let noSuchBackend = "No such backend.\n\n"
    public static let noSuchServer = "No such server.\n\n"
    public static let cannotFindBackend = "Can't find backend.\n\n"
    public static let permissionDenied = "Permission denied\n\n"

    public static let helpText = """
        The following commands are valid at this level:
          disable server <bk>/<srv>               : disable a server for maintenance (use 'set server' instead)
          enable server <bk>/<srv>                : enable a disabled server (use 'set server' instead)
          help [<command>]                        : list matching or all commands
          set server <bk>/<srv> [opts]            : change a server's state, weight or health
          show info [desc|json|typed|float]*      : report information about the running process
          show servers state [<backend>]          : dump volatile server information (all or for a single backend)
          show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server


        """

    static let unknownCommand = "Unknown command, but maybe one of the following ones is a better match:\n"

    // MARK: - Parsing

    /// Parses one command line. Several commands separated by `;` are split by the caller.
    public static func parse(_ line: String, level: Level = .admin) -> Parsed {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { return .reply(done) }
        switch (first, words.dropFirst().first) {
        case ("help", _):
            return .command(.help)
        case ("show", "info"):
            return .command(.showInfo)
        case ("show", "stat"):
            return .command(.showStat(json: words.contains("json")))
        case ("show", "servers") where words.count >= 3 && words[2] == "state":
            return .command(.showServersState(backend: words.count > 3 ? words[3] : nil))
        case ("disable", "server"), ("enable", "server"):
            guard level >= .admin else { return .reply(permissionDenied) }
            guard words.count >= 3, let reference = reference(words[2]) else {
                return .reply("Require 'backend/server'.\n\n")
            }
            return .command(.change(reference, .admin(first == "disable" ? .maintenance : .ready)))
        case ("set", "server"):
            guard level >= .admin else { return .reply(permissionDenied) }
            guard words.count >= 3, let reference = reference(words[2]) else {
                return .reply("Require 'backend/server'.\n\n")
            }
            return setServer(reference, Array(words.dropFirst(3)))
        default:
            return .reply(unknownCommand + helpText)
        }
    }

    private static func reference(_ text: String) -> ServerReference? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return ServerReference(backend: String(parts[0]), server: String(parts[1]))
    }

    private static func setServer(_ reference: ServerReference, _ words: [String]) -> Parsed {
        switch words.first {
        case "state":
            switch words.dropFirst().first {
            case "ready": return .command(.change(reference, .admin(.ready)))
            case "drain": return .command(.change(reference, .admin(.drain)))
            case "maint": return .command(.change(reference, .admin(.maintenance)))
            default: return .reply("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n")
            }
        case "health":
            switch words.dropFirst().first {
            case "up": return .command(.change(reference, .health(up: true)))
            case "down": return .command(.change(reference, .health(up: false)))
            case "stopping": return .reply("'set server <srv> health stopping' is not supported yet by Portico.\n\n")
            default: return .reply("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n")
            }
        case "weight":
            guard let text = words.dropFirst().first else { return .reply("Require <weight>.\n\n") }
            if text.hasSuffix("%") {
                guard let percent = Int(text.dropLast()), percent >= 0 else {
                    return .reply("Relative weight must be positive.\n\n")
                }
                return .command(.change(reference, .weight(.percent(percent))))
            }
            guard let weight = Int(text), (0...256).contains(weight) else {
                return .reply("Absolute weight can only be between 0 and 256 inclusive.\n\n")
            }
            return .command(.change(reference, .weight(.absolute(weight))))
        default:
            return .reply(
                "'set server <srv>' only supports 'health', 'state' and 'weight' in Portico.\n\n")
        }
    }

    // MARK: - Changes

    /// Applies a server change to its backend's state; the actions go to the I/O layer as for checks.
    public static func apply(
        _ change: ServerChange, to state: inout BackendState, server index: Int, now: Duration,
        sessions: SessionCounts = SessionCounts()
    ) -> (reply: String, actions: [BackendAction]) {
        switch change {
        case .admin(let admin):
            return (done, state.setAdmin(server: index, admin, now: now, sessions: sessions))
        case .health(let up):
            return (done, state.setHealth(server: index, up: up, now: now, sessions: sessions))
        case .weight(.absolute(let weight)):
            return (done, state.setWeight(server: index, weight, now: now))
        case .weight(.percent(let percent)):
            let configured = state.servers[index].settings.weight
            let weight = configured * percent / 100
            guard weight <= 256 else { return ("Absolute weight can only be between 0 and 256 inclusive.\n\n", []) }
            return (done, state.setWeight(server: index, weight, now: now))
        }
    }

    // MARK: - show info / show servers state

    /// `show info`: `Name: value` lines for the fields Portico knows, in HAProxy's order.
    public static func info(_ process: ProcessStatsInput) -> String {
        let uptime = process.uptimeSeconds
        let uptimeText =
            "\(uptime / 86400)d \(uptime / 3600 % 24)h" + pad(Int(uptime / 60 % 60), 2) + "m"
            + pad(Int(uptime % 60), 2) + "s"
        let fields: [(String, String)] = [
            ("Name", process.name), ("Version", process.version), ("Release_date", process.releaseDate),
            ("Nbthread", String(process.threads)), ("Nbproc", "1"), ("Process_num", "1"),
            ("Pid", String(process.pid)), ("Uptime", uptimeText), ("Uptime_sec", String(uptime)),
            ("Ulimit-n", String(process.descriptorLimit)), ("Maxsock", String(process.descriptorLimit)),
            ("Maxconn", String(process.maxConnections)), ("Hard_maxconn", String(process.maxConnections)),
            ("CurrConns", String(process.currentConnections)), ("CumConns", String(process.totalConnections)),
            ("CumReq", String(process.totalRequests)),
            // No `maxconnrate`/`maxsessrate` is enforced: the limits are HAProxy's 0 (none).
            ("ConnRate", String(process.sessionRate)), ("ConnRateLimit", "0"),
            ("MaxConnRate", String(process.maxSessionRate)), ("SessRate", String(process.sessionRate)),
            ("SessRateLimit", "0"), ("MaxSessRate", String(process.maxSessionRate)), ("node", process.nodeName),
            ("Stopping", process.stopping ? "1" : "0"), ("Listeners", String(process.listeners)),
            ("Start_time_sec", String(process.startTimeSeconds)),
        ]
        return fields.filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1)\n" }.joined() + "\n"
    }

    public static let serversStateHeader =
        "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
        + "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
        + "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
        + "srv_check_addr srv_agent_addr srv_agent_port"

    /// `show servers state`: format version 1, one line per server, HAProxy's numeric codes
    /// (op state 0 stopped / 2 running; admin flags 0x01 forced maintenance, 0x08 forced drain;
    /// check status numbered as HAProxy's `HCHK_STATUS_*`; check result 0 unknown, 2 failed, 3 passed).
    public static func serversState(_ snapshot: StatsSnapshot, backend: String? = nil) -> String {
        if let backend, !snapshot.rows.contains(where: { $0.kind == .backend && $0.proxy == backend }) {
            return cannotFindBackend
        }
        var text = "1\n" + serversStateHeader + "\n"
        for row in snapshot.rows where row.kind == .server && (backend == nil || row.proxy == backend) {
            let (host, port) = splitAddress(row.address ?? "")
            let opState = row.isUp && row.admin != .maintenance ? 2 : 0
            let adminFlags = row.admin == .maintenance ? 0x01 : row.admin == .drain ? 0x08 : 0
            let checkStatus = row.checkStatus.flatMap { CheckStatus(rawValue: $0) }
            let result: Int
            switch checkStatus {
            case .none, .some(.initializing): result = 0
            case .some(let status): result = status.passed ? 3 : 2
            }
            let fields: [String] = [
                String(row.proxyID), row.proxy, String(row.serverID), row.service, host, String(opState),
                String(adminFlags), String(row.userWeight ?? 0), String(row.userWeight ?? 0),
                String(row.secondsSinceChange ?? 0), String(checkStatus.map(haproxyCode) ?? 0), String(result),
                String(row.checkHealth ?? 0), row.checkStatus == nil ? "0" : "6", "0", "0", "0", "-", port, "-", "0",
                "0", "-", "-", "0",
            ]
            text += fields.joined(separator: " ") + "\n"
        }
        return text + "\n"
    }

    /// HAProxy's `enum healthcheck_status` values (2.6: UNKNOWN 0, INI 1, START 2, CHECKED 3, HANA 4, ...).
    static func haproxyCode(_ status: CheckStatus) -> Int {
        switch status {
        case .initializing: return 1
        case .socketError: return 5
        case .layer4Passed: return 6
        case .layer4Timeout: return 7
        case .layer4ConnectionProblem: return 8
        case .layer6Passed: return 9
        case .layer6Timeout: return 10
        case .layer6InvalidResponse: return 11
        case .layer7Timeout: return 12
        case .layer7InvalidResponse: return 13
        case .layer7Passed: return 15
        case .layer7ConditionallyPassed: return 16
        case .layer7WrongStatus: return 17
        }
    }

    /// `192.168.10.21:80` → ("192.168.10.21", "80"); `[::1]:80` → ("::1", "80").
    static func splitAddress(_ address: String) -> (String, String) {
        guard let colon = address.lastIndex(of: ":") else { return (address, "0") }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, String(address[address.index(after: colon)...]))
    }
}
