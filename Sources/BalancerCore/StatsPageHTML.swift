/// The statistics page (`stats enable`): one table per proxy with its frontend, servers and backend,
/// laid out like HAProxy's (grouped Queue / Sessions / Bytes / Denied / Errors / Warnings / Server
/// columns) so operators find the figures where they expect them. Self-contained: inline CSS, no script.
public enum StatsPageHTML {
    public struct Options: Sendable, Equatable {
        /// `stats uri`, used for the CSV/JSON links and the admin form's target.
        public var uri: String
        /// `stats refresh`, in whole seconds; nil: no `<meta http-equiv="refresh">`.
        public var refreshSeconds: Int?
        /// `stats hide-version`: no product version on the page.
        public var hideVersion: Bool
        /// `stats admin` granted to this client: show the server selection and actions.
        public var admin: Bool
        /// Outcome of the last admin action (`;st=DONE` etc.), shown in a banner.
        public var actionStatus: String?

        public init(
            uri: String, refreshSeconds: Int? = nil, hideVersion: Bool = false, admin: Bool = false,
            actionStatus: String? = nil
        ) {
            self.uri = uri
            self.refreshSeconds = refreshSeconds
            self.hideVersion = hideVersion
            self.admin = admin
            self.actionStatus = actionStatus
        }
    }

    /// The actions of the admin form, with the `set server` change each one makes.
    public static let adminActions: [(value: String, label: String, change: RuntimeAPI.ServerChange)] = [
        ("ready", "Set state to READY", .admin(.ready)),
        ("drain", "Set state to DRAIN", .admin(.drain)),
        ("maint", "Set state to MAINT", .admin(.maintenance)),
        ("hrunn", "Health: force UP", .health(up: true)),
        ("hdown", "Health: force DOWN", .health(up: false)),
    ]

    public static func render(_ snapshot: StatsSnapshot, options: Options) -> String {
        let process = snapshot.process
        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
        if let refresh = options.refreshSeconds {
            html += "<meta http-equiv=\"refresh\" content=\"\(refresh)\">\n"
        }
        let title = options.hideVersion ? "Statistics Report" : "Statistics Report for pid \(process.pid)"
        html += "<title>\(escape(title))</title>\n<style>\(css)</style></head><body>\n"
        html += "<h1>\(escape(process.name))"
        if !options.hideVersion { html += " <span class=\"version\">version \(escape(process.version))</span>" }
        html += "</h1>\n<h2>\(escape(title))</h2>\n"
        if let status = options.actionStatus {
            let ok = status == "DONE"
            html +=
                "<p class=\"banner \(ok ? "ok" : "fail")\">"
                + (ok ? "Action processed successfully." : "Action not processed: \(escape(status)).") + "</p>\n"
        }
        html += "<div class=\"info\"><ul>"
        html += "<li>pid = \(process.pid) (nbthread = \(process.threads))</li>"
        html += "<li>uptime = \(duration(process.uptimeSeconds))</li>"
        html +=
            "<li>maxconn = \(process.maxConnections), current conns = \(process.currentConnections), "
            + "conn rate = \(process.sessionRate)/sec</li>"
        html += "<li>total connections = \(process.totalConnections), requests = \(process.totalRequests)</li>"
        html += "</ul><ul class=\"legend\">"
        for (cls, label) in legend {
            html += "<li><span class=\"swatch \(cls)\"></span>\(label)</li>"
        }
        html += "</ul><ul><li><a href=\"\(escape(options.uri));csv\">CSV export</a></li>"
        html += "<li><a href=\"\(escape(options.uri));json\">JSON export</a></li>"
        if let refresh = options.refreshSeconds { html += "<li>refresh every \(refresh)s</li>" }
        html += "</ul></div>\n"

        var proxies: [String] = []
        for row in snapshot.rows where !proxies.contains(row.proxy) { proxies.append(row.proxy) }
        for proxy in proxies {
            html += table(proxy, snapshot.rows(of: proxy), options: options)
        }
        html += "</body></html>\n"
        return html
    }

    private static let legend: [(String, String)] = [
        ("up", "active UP"), ("going-down", "active UP, going down"), ("going-up", "active DOWN, going up"),
        ("down", "active DOWN"), ("drain", "DRAIN"), ("maint", "MAINT"), ("nocheck", "not checked"),
    ]

    private static let headers: [(group: String, columns: [String])] = [
        ("Queue", ["Cur", "Max", "Limit"]),
        ("Session rate", ["Cur", "Max", "Limit"]),
        ("Sessions", ["Cur", "Max", "Limit", "Total", "LbTot", "Last"]),
        ("Bytes", ["In", "Out"]),
        ("Denied", ["Req", "Resp"]),
        ("Errors", ["Req", "Conn", "Resp"]),
        ("Warnings", ["Retr", "Redis"]),
        ("Server", ["Status", "Last check", "Wght", "Act", "Bck", "Chk", "Dwn", "Dwntme"]),
    ]

    private static func table(_ proxy: String, _ rows: [StatsRow], options: Options) -> String {
        let hasServers = rows.contains { $0.kind == .server }
        let adminForm = options.admin && hasServers
        var html = ""
        if adminForm {
            html += "<form method=\"post\" action=\"\(escape(options.uri))\">"
            html += "<input type=\"hidden\" name=\"b\" value=\"\(escape(proxy))\">"
        }
        html += "<table class=\"proxy\"><caption>\(escape(proxy))</caption>\n<thead><tr>"
        if adminForm { html += "<th rowspan=\"2\"></th>" }
        html += "<th rowspan=\"2\" class=\"name\"></th>"
        for header in headers {
            html += "<th colspan=\"\(header.columns.count)\">\(header.group)</th>"
        }
        html += "</tr><tr>"
        for header in headers {
            for column in header.columns { html += "<th>\(column)</th>" }
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr class=\"\(rowClass(row))\">"
            if adminForm {
                html +=
                    row.kind == .server
                    ? "<td><input type=\"checkbox\" name=\"s\" value=\"\(escape(row.service))\"></td>" : "<td></td>"
            }
            let name = row.kind == .server ? row.service : (row.kind == .frontend ? "Frontend" : "Backend")
            var title = ""
            if let address = row.address { title = " title=\"\(escape(address))\"" }
            html += "<td class=\"name\"\(title)>\(escape(name))</td>"
            for cell in cells(row) { html += "<td>\(cell)</td>" }
            html += "</tr>\n"
        }
        html += "</tbody></table>\n"
        if adminForm {
            html += "<p class=\"actions\">Choose the action to perform on the checked servers: "
            html += "<select name=\"action\"><option value=\"\"></option>"
            for action in adminActions {
                html += "<option value=\"\(action.value)\">\(action.label)</option>"
            }
            html += "</select> <input type=\"submit\" value=\"Apply\"></p></form>\n"
        }
        return html
    }

    private static func cells(_ row: StatsRow) -> [String] {
        let counters = row.counters
        func number(_ value: Int?) -> String { value.map(String.init) ?? "" }
        func bytes(_ value: UInt64) -> String { String(value) }
        let behind = row.kind != .frontend
        var lastCheck = ""
        if let status = row.checkStatus {
            lastCheck = escape(status)
            if let code = row.checkCode { lastCheck += "/\(code)" }
            if let ms = row.checkDurationMilliseconds { lastCheck += " in \(ms)ms" }
        }
        var status = escape(row.status)
        if row.kind != .frontend, let since = row.secondsSinceChange {
            status = "\(duration(since)) \(status)"
        }
        return [
            number(row.queueCurrent), number(row.queueMax), "",
            rateCell(row, current: true), rateCell(row, current: false), row.kind == .frontend ? "-" : "",
            String(counters.currentSessions), String(counters.maxSessions), number(row.sessionLimit),
            String(counters.totalSessions), number(row.selectedTotal),
            behind ? (row.secondsSinceLastSession.map(duration) ?? "") : "",
            bytes(counters.bytesIn), bytes(counters.bytesOut),
            row.kind == .server ? "" : String(counters.deniedRequests), String(counters.deniedResponses),
            row.kind == .frontend ? String(counters.requestErrors) : "",
            behind ? String(counters.connectionErrors) : "", behind ? String(counters.responseErrors) : "",
            behind ? String(counters.retries) : "", behind ? String(counters.redispatches) : "",
            status, lastCheck, number(row.weight),
            row.kind == .server ? (row.isBackupServer ? "-" : "Y") : number(row.active),
            row.kind == .server ? (row.isBackupServer ? "Y" : "-") : number(row.backup),
            number(row.failedChecks), number(row.downTransitions), row.downtimeSeconds.map(duration) ?? "",
        ]
    }

    /// A session rate cell; a frontend's also names its connection and request rates on hover, where
    /// HAProxy's page shows them in a tooltip.
    private static func rateCell(_ row: StatsRow, current: Bool) -> String {
        let counters = row.counters
        let sessions = current ? counters.sessionRate : counters.maxSessionRate
        guard row.kind == .frontend else { return String(sessions) }
        let requests = current ? counters.requestRate : counters.maxRequestRate
        let which = current ? "Current" : "Max"
        let title =
            "\(which) connection rate: \(sessions)/s, \(which.lowercased()) session rate: \(sessions)/s, "
            + "\(which.lowercased()) request rate: \(requests)/s"
        return "<span title=\"\(title)\">\(sessions)</span>"
    }

    private static func rowClass(_ row: StatsRow) -> String {
        switch row.kind {
        case .frontend: return row.status == "OPEN" ? "frontend up" : "frontend down"
        case .backend: return row.status == "UP" ? "backend up" : "backend down"
        case .server:
            if row.admin == .maintenance { return "maint" }
            if row.admin == .drain { return "drain" }
            if row.status == "no check" { return "nocheck" }
            if row.status == "UP" { return "up" }
            if row.status.hasPrefix("UP ") { return "going-down" }
            if row.status.hasPrefix("DOWN ") { return "going-up" }
            return "down"
        }
    }

    /// HAProxy's compact durations: `45s`, `3m12s`, `2h05m`, `1d03h`.
    public static func duration(_ seconds: Int64) -> String {
        let value = max(0, seconds)
        if value < 60 { return "\(value)s" }
        if value < 3600 { return "\(value / 60)m\(value % 60)s" }
        if value < 86400 { return "\(value / 3600)h" + pad(Int(value / 60 % 60), 2) + "m" }
        return "\(value / 86400)d" + pad(Int(value / 3600 % 24), 2) + "h"
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    private static let css = """
        body{font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:12px;color:#222;background:#fff}
        h1{font-size:20px;margin:0 0 4px;color:#1d3c6e} h1 .version{font-size:13px;color:#666;font-weight:normal}
        h2{font-size:14px;margin:0 0 10px;color:#444}
        .info{display:flex;gap:32px;margin-bottom:14px} .info ul{list-style:none;margin:0;padding:0}
        .info li{margin:2px 0} .swatch{display:inline-block;width:12px;height:12px;margin-right:6px;
        border:1px solid #888;vertical-align:middle}
        table.proxy{border-collapse:collapse;margin:0 0 18px;min-width:900px}
        table.proxy caption{text-align:left;font-weight:bold;font-size:14px;background:#1d3c6e;color:#fff;
        padding:4px 8px}
        th{background:#dde4ee;border:1px solid #9aa;padding:3px 6px;font-weight:bold;font-size:12px}
        td{border:1px solid #bbb;padding:3px 6px;text-align:right;white-space:nowrap}
        td.name{text-align:left;font-weight:bold}
        tr.frontend,tr.backend{background:#eef0f4} tr.frontend.down,tr.backend.down{background:#f4a8a8}
        tr.up,.swatch.up{background:#c6efc6} tr.going-down,.swatch.going-down{background:#f4e58c}
        tr.going-up,.swatch.going-up{background:#f7c27a} tr.down,.swatch.down{background:#f4a8a8}
        tr.drain,.swatch.drain{background:#a8c8f4} tr.maint,.swatch.maint{background:#c9b38f}
        tr.nocheck,.swatch.nocheck{background:#e4e4e4}
        .banner{padding:6px 10px;font-weight:bold} .banner.ok{background:#c6efc6} .banner.fail{background:#f4a8a8}
        .actions{margin:-12px 0 18px}
        """
}
