/// The Prometheus text exposition (format 0.0.4) that HAProxy's `prometheus-exporter` service serves,
/// with its metric and label names (`haproxy_server_status{proxy="web_backend",server="web01",state="UP"} 1`,
/// `haproxy_backend_http_responses_total{proxy="web_backend",code="2xx"} 12`), for the families Portico
/// measures. Written by hand rather than with swift-prometheus: the families are fixed and few, the values
/// are read from a snapshot on each scrape (no registry to keep in step), and no extra package is needed.
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: StatsSnapshot) -> String {
        var out = ""
        let process = snapshot.process
        family(
            &out, "haproxy_process_start_time_seconds", "Start time in seconds", "gauge",
            [([], Double(process.startTimeSeconds))])
        family(
            &out, "haproxy_process_max_connections", "Maximum number of concurrent connections", "gauge",
            [([], Double(process.maxConnections))])
        family(
            &out, "haproxy_process_current_connections", "Number of active sessions", "gauge",
            [([], Double(process.currentConnections))])
        family(
            &out, "haproxy_process_connections_total", "Total number of created sessions", "counter",
            [([], Double(process.totalConnections))])
        family(
            &out, "haproxy_process_requests_total", "Total number of requests (TCP or HTTP)", "counter",
            [([], Double(process.totalRequests))])
        // Every accepted connection is a session here, so the connection and session rates are the same figure;
        // no global rate limit is enforced (HAProxy's 0).
        let rateFamilies: [(String, String, Int)] = [
            (
                "current_connection_rate",
                "Number of front connections created on this worker process over the last second",
                process.sessionRate
            ),
            ("limit_connection_rate", "Hard limit for ConnRate (global.maxconnrate)", 0),
            (
                "max_connection_rate",
                "Highest ConnRate reached on this worker process since started (in connections per second)",
                process.maxSessionRate
            ),
            (
                "current_session_rate", "Number of sessions created on this worker process over the last second",
                process.sessionRate
            ),
            ("limit_session_rate", "Hard limit for SessRate (global.maxsessrate)", 0),
            (
                "max_session_rate",
                "Highest SessRate reached on this worker process since started (in sessions per second)",
                process.maxSessionRate
            ),
        ]
        for (name, help, value) in rateFamilies {
            family(&out, "haproxy_process_" + name, help, "gauge", [([], Double(value))])
        }
        family(
            &out, "haproxy_process_uptime_seconds", "How long ago this worker process was started (seconds)",
            "gauge", [([], Double(process.uptimeSeconds))])

        let frontends = snapshot.rows.filter { $0.kind == .frontend }
        let backends = snapshot.rows.filter { $0.kind == .backend }
        let servers = snapshot.rows.filter { $0.kind == .server }
        objectFamilies(&out, "frontend", frontends)
        objectFamilies(&out, "backend", backends)
        objectFamilies(&out, "server", servers)
        return out
    }

    private typealias Labels = [(String, String)]

    private static func labels(_ row: StatsRow) -> Labels {
        row.kind == .server ? [("proxy", row.proxy), ("server", row.service)] : [("proxy", row.proxy)]
    }

    private static func objectFamilies(_ out: inout String, _ scope: String, _ rows: [StatsRow]) {
        guard !rows.isEmpty else { return }
        let prefix = "haproxy_\(scope)_"
        func simple(_ name: String, _ help: String, _ type: String, _ value: (StatsRow) -> Double?) {
            let samples = rows.compactMap { row in value(row).map { (labels(row), $0) } }
            family(&out, prefix + name, help, type, samples)
        }
        let isFrontend = scope == "frontend"
        if !isFrontend {
            simple("current_queue", "Number of current queued connections", "gauge") {
                $0.queueCurrent.map(Double.init)
            }
            simple("max_queue", "Highest value of queued connections encountered since process started", "gauge") {
                $0.queueMax.map(Double.init)
            }
        }
        simple("current_sessions", "Number of current sessions on the frontend, backend or server", "gauge") {
            Double($0.counters.currentSessions)
        }
        simple("max_sessions", "Highest value of current sessions encountered since process started", "gauge") {
            Double($0.counters.maxSessions)
        }
        simple("limit_sessions", "Frontend/listener/server's maxconn, backend's fullconn", "gauge") {
            $0.sessionLimit.map(Double.init)
        }
        simple("sessions_total", "Total number of sessions since process started", "counter") {
            Double($0.counters.totalSessions)
        }
        simple("bytes_in_total", "Total number of request bytes since process started", "counter") {
            Double($0.counters.bytesIn)
        }
        simple("bytes_out_total", "Total number of response bytes since process started", "counter") {
            Double($0.counters.bytesOut)
        }
        if scope != "server" {
            simple("requests_denied_total", "Total number of denied requests since process started", "counter") {
                Double($0.counters.deniedRequests)
            }
        }
        if isFrontend {
            simple("request_errors_total", "Total number of invalid requests since process started", "counter") {
                Double($0.counters.requestErrors)
            }
        } else {
            simple(
                "connection_errors_total",
                "Total number of failed connections to server since the worker "
                    + "process started", "counter"
            ) { Double($0.counters.connectionErrors) }
            simple(
                "response_errors_total", "Total number of invalid responses since the worker process started",
                "counter"
            ) { Double($0.counters.responseErrors) }
            simple(
                "retry_warnings_total",
                "Total number of server connection retries since the worker process "
                    + "started", "counter"
            ) { Double($0.counters.retries) }
            simple(
                "redispatch_warnings_total",
                "Total number of server redispatches due to connection failures "
                    + "since the worker process started", "counter"
            ) { Double($0.counters.redispatches) }
        }
        let states = scope == "server" ? ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"] : ["DOWN", "UP"]
        var statusSamples: [(Labels, Double)] = []
        for row in rows {
            let current = stateLabel(row)
            for state in states {
                statusSamples.append((labels(row) + [("state", state)], state == current ? 1 : 0))
            }
        }
        family(
            &out, prefix + "status", "Current status of the service, per state label value.", "gauge",
            statusSamples)
        // HAProxy 2.6's exporter shows only the highest rates (and a frontend's limit), not the current
        // ones: those are the `rate` columns of the CSV.
        let maxSessionRateHelp = "Highest value of sessions per second observed since the worker process started"
        if isFrontend {
            simple(
                "limit_session_rate",
                "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)",
                "gauge"
            ) { _ in 0 }
            simple("max_session_rate", maxSessionRateHelp, "gauge") { Double($0.counters.maxSessionRate) }
        }
        if !isFrontend {
            simple(
                "weight", "Server's effective weight, or sum of active servers' effective weights for a backend",
                "gauge"
            ) { $0.weight.map(Double.init) }
            if scope == "backend" {
                simple("active_servers", "Total number of active UP servers with a non-zero weight", "gauge") {
                    $0.active.map(Double.init)
                }
                simple("backup_servers", "Total number of backup UP servers with a non-zero weight", "gauge") {
                    $0.backup.map(Double.init)
                }
            } else {
                simple(
                    "check_failures_total",
                    "Total number of failed individual health checks per server/backend, "
                        + "since the worker process started", "counter"
                ) { $0.failedChecks.map(Double.init) }
            }
            simple(
                "check_up_down_total",
                "Total number of failed checks causing UP to DOWN server transitions, per "
                    + "server/backend, since the worker process started", "counter"
            ) {
                $0.downTransitions.map(Double.init)
            }
            simple("check_last_change_seconds", "How long ago the last server state changed, in seconds", "gauge") {
                $0.secondsSinceChange.map(Double.init)
            }
            simple("downtime_seconds_total", "Total time spent in DOWN state, for server or backend", "counter") {
                $0.downtimeSeconds.map(Double.init)
            }
            simple(
                "loadbalanced_total",
                "Total number of requests routed by load balancing since the worker process "
                    + "started (ignores queue pop and stickiness)", "counter"
            ) { $0.selectedTotal.map(Double.init) }
            simple("max_session_rate", maxSessionRateHelp, "gauge") { Double($0.counters.maxSessionRate) }
            simple("uweight", "Server's user weight, or sum of active servers' user weights for a backend", "gauge") {
                $0.userWeight.map(Double.init)
            }
        }
        if scope == "server" {
            simple("check_code", "layer5-7 code, if available of the last health check.", "gauge") { row in
                row.checkStatus.map { _ in Double(row.checkCode ?? 0) }
            }
            simple(
                "check_duration_seconds", "Total duration of the latest server health check, in seconds.",
                "gauge"
            ) { $0.checkDurationMilliseconds.map { Double($0) / 1000 } }
            var checkSamples: [(Labels, Double)] = []
            for row in rows {
                guard let status = row.checkStatus else { continue }
                for name in CheckStatus.allCases.map(\.rawValue) where name != "INI" {
                    checkSamples.append((labels(row) + [("state", name)], name == status ? 1 : 0))
                }
            }
            family(
                &out, prefix + "check_status", "Status of last health check, per state label value.", "gauge",
                checkSamples)
        }
        var responses: [(Labels, Double)] = []
        for code in ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] {
            let group = code == "other" ? 0 : Int(String(code.prefix(1))) ?? 0
            for row in rows {
                responses.append((labels(row) + [("code", code)], Double(row.counters.responses(class: group))))
            }
        }
        family(
            &out, prefix + "http_responses_total",
            "Total number of HTTP responses with status 100-199 returned "
                + "by this object since the worker process started", "counter", responses)
        if isFrontend {
            simple(
                "http_requests_rate_max", "Highest value of http requests observed since the worker process started",
                "gauge"
            ) { Double($0.counters.maxRequestRate) }
        }
        if scope != "server" {
            simple(
                "http_requests_total",
                "Total number of HTTP requests processed by this object since the worker "
                    + "process started", "counter"
            ) { Double($0.counters.requests) }
        }
        if isFrontend {
            simple(
                "connections_rate_max",
                "Highest value of connections per second observed since the worker process started", "gauge"
            ) { Double($0.counters.maxSessionRate) }
        }
    }

    /// HAProxy's exporter state label: a checked server "UP 1/3" is UP, "DOWN 1/2" is DOWN.
    static func stateLabel(_ row: StatsRow) -> String {
        if row.kind == .server {
            switch row.admin {
            case .maintenance: return "MAINT"
            case .drain: return row.isUp ? "DRAIN" : "DOWN"
            default: break
            }
        }
        return row.isUp ? "UP" : "DOWN"
    }

    private static func family(
        _ out: inout String, _ name: String, _ help: String, _ type: String, _ samples: [(Labels, Double)]
    ) {
        guard !samples.isEmpty else { return }
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples {
            out += name
            if !labels.isEmpty {
                out += "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            out += " " + format(value) + "\n"
        }
    }

    /// Whole numbers without a fraction (`12`, as HAProxy prints counters), others with six decimals.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let scaled = Int64((value * 1_000_000).rounded())
        let sign = scaled < 0 ? "-" : ""
        let magnitude = abs(scaled)
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// Label values escape `\`, `"` and newlines (exposition format 0.0.4).
    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
