/// HAProxy's CSV statistics (`;csv` on the stats page, `show stat` on the runtime API).
///
/// The header is HAProxy 2.6's, column for column (management guide §9.1 "CSV format" documents fields
/// 0 to 102, `pxname` to `agg_check_status`; 2.6 then appends a `-` separator and the columns of its
/// statistics modules, ssl/h2/h1, and ends every line with a comma). Keeping the whole line means
/// tools that index columns by position or by name read Portico's output unchanged. Columns Portico
/// does not measure (compression, cache, agents, SSL/H2 modules, timing averages) are empty,
/// which HAProxy itself does for columns that do not apply to a row.
public enum StatsCSV {
    /// The field names in order, as in the `# pxname,svname,...` header line.
    public static let fieldNames: [String] = columns.map(\.name)

    /// `# pxname,svname,...,h1_spliced_bytes_out,` — with HAProxy's trailing comma.
    public static var headerLine: String { "# " + fieldNames.joined(separator: ",") + "," }

    /// The whole document: header, one line per row, a blank line at the end (as HAProxy sends it).
    public static func render(_ snapshot: StatsSnapshot) -> String {
        var text = headerLine + "\n"
        for row in snapshot.rows {
            text += line(row, process: snapshot.process) + "\n"
        }
        return text + "\n"
    }

    /// One data line, with the trailing comma.
    public static func line(_ row: StatsRow, process: ProcessStatsInput) -> String {
        columns.map { csvEscape($0.value(row) ?? "") }.joined(separator: ",") + ","
    }

    /// The value of one named column for a row; nil when empty (not applicable or not measured).
    public static func value(_ name: String, of row: StatsRow) -> String? {
        columns.first { $0.name == name }?.value(row)
    }

    /// HAProxy writes values raw; a comma inside a value (only possible in `last_chk` text) would shift
    /// every following column, so it is quoted per RFC 4180.
    static func csvEscape(_ value: String) -> String {
        guard value.contains(",") || value.contains("\"") || value.contains("\n") else { return value }
        var quoted = "\""
        for character in value {
            if character == "\"" { quoted.append("\"") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    struct Column: Sendable {
        let name: String
        let value: @Sendable (StatsRow) -> String?
    }

    private static func text(_ value: Int?) -> String? { value.map(String.init) }
    private static func text(_ value: Int64?) -> String? { value.map(String.init) }

    /// Only for these kinds of rows.
    private static func on(_ kinds: Set<StatsRowKind>, _ row: StatsRow, _ value: () -> String?) -> String? {
        kinds.contains(row.kind) ? value() : nil
    }

    static let columns: [Column] = {
        let all: Set<StatsRowKind> = [.frontend, .backend, .server]
        let behind: Set<StatsRowKind> = [.backend, .server]
        var list: [Column] = [
            Column(name: "pxname") { $0.proxy },
            Column(name: "svname") { $0.service },
            Column(name: "qcur") { text($0.queueCurrent) },
            Column(name: "qmax") { text($0.queueMax) },
            Column(name: "scur") { String($0.counters.currentSessions) },
            Column(name: "smax") { String($0.counters.maxSessions) },
            Column(name: "slim") { text($0.sessionLimit) },
            Column(name: "stot") { String($0.counters.totalSessions) },
            Column(name: "bin") { String($0.counters.bytesIn) },
            Column(name: "bout") { String($0.counters.bytesOut) },
            Column(name: "dreq") { row in on([.frontend, .backend], row) { String(row.counters.deniedRequests) } },
            Column(name: "dresp") { String($0.counters.deniedResponses) },
            Column(name: "ereq") { row in on([.frontend], row) { String(row.counters.requestErrors) } },
            Column(name: "econ") { row in on(behind, row) { String(row.counters.connectionErrors) } },
            Column(name: "eresp") { row in on(behind, row) { String(row.counters.responseErrors) } },
            Column(name: "wretr") { row in on(behind, row) { String(row.counters.retries) } },
            Column(name: "wredis") { row in on(behind, row) { String(row.counters.redispatches) } },
            Column(name: "status") { $0.status },
            Column(name: "weight") { text($0.weight) },
            Column(name: "act") { text($0.active) },
            Column(name: "bck") { text($0.backup) },
            Column(name: "chkfail") { text($0.failedChecks) },
            Column(name: "chkdown") { text($0.downTransitions) },
            Column(name: "lastchg") { text($0.secondsSinceChange) },
            Column(name: "downtime") { text($0.downtimeSeconds) },
            Column(name: "qlimit") { _ in nil },
            // HAProxy's relative process number: always 1 since 2.5 (a single process).
            Column(name: "pid") { _ in "1" },
            Column(name: "iid") { String($0.proxyID) },
            Column(name: "sid") { String($0.serverID) },
            Column(name: "throttle") { _ in nil },
            Column(name: "lbtot") { text($0.selectedTotal) },
            Column(name: "tracked") { _ in nil },
            Column(name: "type") { String($0.kind.rawValue) },
            Column(name: "rate") { String($0.counters.sessionRate) },
            // `rate-limit sessions` is not enforced, so a frontend has no limit: HAProxy's 0.
            Column(name: "rate_lim") { row in on([.frontend], row) { "0" } },
            Column(name: "rate_max") { String($0.counters.maxSessionRate) },
            Column(name: "check_status") { $0.checkStatus },
            Column(name: "check_code") { text($0.checkCode) },
            Column(name: "check_duration") { text($0.checkDurationMilliseconds) },
        ]
        for group in 1...5 {
            list.append(Column(name: "hrsp_\(group)xx") { String($0.counters.responses(class: group)) })
        }
        list += [
            Column(name: "hrsp_other") { String($0.counters.responses(class: 0)) },
            Column(name: "hanafail") { _ in nil },
            Column(name: "req_rate") { row in on([.frontend], row) { String(row.counters.requestRate) } },
            Column(name: "req_rate_max") { row in on([.frontend], row) { String(row.counters.maxRequestRate) } },
            Column(name: "req_tot") { row in on(all, row) { String(row.counters.requests) } },
            Column(name: "cli_abrt") { _ in nil },
            Column(name: "srv_abrt") { _ in nil },
            Column(name: "comp_in") { _ in nil },
            Column(name: "comp_out") { _ in nil },
            Column(name: "comp_byp") { _ in nil },
            Column(name: "comp_rsp") { _ in nil },
            Column(name: "lastsess") { row in on(behind, row) { String(row.secondsSinceLastSession ?? -1) } },
            Column(name: "last_chk") { $0.lastCheckInfo },
            Column(name: "last_agt") { _ in nil },
            Column(name: "qtime") { _ in nil },
            Column(name: "ctime") { _ in nil },
            Column(name: "rtime") { _ in nil },
            Column(name: "ttime") { _ in nil },
            Column(name: "agent_status") { _ in nil },
            Column(name: "agent_code") { _ in nil },
            Column(name: "agent_duration") { _ in nil },
            Column(name: "check_desc") { $0.checkDescription },
            Column(name: "agent_desc") { _ in nil },
            Column(name: "check_rise") { text($0.checkRise) },
            Column(name: "check_fall") { text($0.checkFall) },
            Column(name: "check_health") { text($0.checkHealth) },
            Column(name: "agent_rise") { _ in nil },
            Column(name: "agent_fall") { _ in nil },
            Column(name: "agent_health") { _ in nil },
            Column(name: "addr") { $0.address },
            Column(name: "cookie") { _ in nil },
            Column(name: "mode") { $0.mode },
            Column(name: "algo") { $0.algorithm },
            // Every accepted connection is a session (no `tcp-request connection` rules reject one earlier),
            // so the connection rate is the session rate, as `conn_tot` is `stot`.
            Column(name: "conn_rate") { row in on([.frontend], row) { String(row.counters.sessionRate) } },
            Column(name: "conn_rate_max") { row in on([.frontend], row) { String(row.counters.maxSessionRate) } },
            Column(name: "conn_tot") { row in on([.frontend], row) { String(row.counters.totalSessions) } },
        ]
        let unmeasured = [
            "intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits", "srv_icur",
            "src_ilim", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur",
            "safe_conn_cur", "used_conn_cur", "need_conn_est",
        ]
        list += unmeasured.map { Column(name: $0) { _ in nil } }
        list.append(Column(name: "uweight") { text($0.userWeight) })
        list += ["agg_server_status", "agg_server_check_status", "agg_check_status"].map {
            Column(name: $0) { _ in nil }
        }
        // HAProxy 2.6's separator before the statistics modules' columns: its value is "-" on every line.
        list.append(Column(name: "-") { _ in "-" })
        list += moduleColumns.map { Column(name: $0) { _ in nil } }
        return list
    }()

    /// HAProxy 2.6's ssl, h2 and h1 module columns, which Portico does not measure.
    static let moduleColumns = [
        "ssl_sess", "ssl_reused_sess", "ssl_failed_handshake", "h2_headers_rcvd", "h2_data_rcvd", "h2_settings_rcvd",
        "h2_rst_stream_rcvd", "h2_goaway_rcvd", "h2_detected_conn_protocol_errors",
        "h2_detected_strm_protocol_errors", "h2_rst_stream_resp", "h2_goaway_resp", "h2_open_connections",
        "h2_backend_open_streams", "h2_total_connections", "h2_backend_total_streams", "h1_open_connections",
        "h1_open_streams", "h1_total_connections", "h1_total_streams", "h1_bytes_in", "h1_bytes_out",
        "h1_spliced_bytes_in", "h1_spliced_bytes_out",
    ]
}
