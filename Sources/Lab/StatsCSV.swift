/// One server as a balancer's stats page reports it.
public struct ServerView: Codable, Sendable, Equatable {
    public var backend: String
    public var name: String
    /// HAProxy's status text: "UP", "DOWN", "UP 1/3" (going down), "DOWN 1/2" (coming up), "MAINT", "no check".
    public var status: String

    /// The status without the transition counter, for bands and state changes ("UP 1/3" is still UP).
    public var state: String {
        let word = status.split(separator: " ").first.map(String.init) ?? status
        return word.uppercased()
    }
}

/// Parses HAProxy's `;csv` stats export (the header line starts with `# pxname,svname,...`).
public enum StatsCSV {
    public static func servers(from text: String) -> [ServerView] {
        var columns: [String: Int] = [:]
        var servers: [ServerView] = []
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = String(rawLine)
            if line.hasPrefix("#") {
                let fields = fields(of: String(line.dropFirst()).trimmingCharacters(in: .whitespaces))
                columns = Dictionary(fields.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                continue
            }
            guard let proxy = columns["pxname"], let server = columns["svname"], let status = columns["status"] else {
                continue
            }
            let values = fields(of: line)
            guard values.count > max(proxy, server, status) else { continue }
            let name = values[server]
            if name == "FRONTEND" || name == "BACKEND" { continue }
            servers.append(ServerView(backend: values[proxy], name: name, status: values[status]))
        }
        return servers
    }

    /// Splits one CSV line; HAProxy quotes a field (doubling inner quotes) when it holds a comma.
    static func fields(of line: String) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line)
        var index = 0
        while index < iterator.count {
            let character = iterator[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < iterator.count && iterator[index + 1] == "\"" {
                        current.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index += 1
        }
        result.append(current)
        iterator.removeAll()
        return result
    }
}

/// What Keepalived's log (`-l -D`, one file per node in the lab) says about its instance.
public struct KeepalivedLogView: Equatable, Sendable {
    /// The last state it entered: MASTER, BACKUP or FAULT.
    public var state: String?
    /// The last effective priority it announced changing to.
    public var priority: Int?

    /// Reads lines such as `(VI_1) Entering MASTER STATE` and
    /// `(VI_1) Changing effective priority from 120 to 90`; later lines win.
    public static func parse(_ log: String) -> KeepalivedLogView {
        var view = KeepalivedLogView()
        for line in log.split(separator: "\n") {
            if let range = line.range(of: "Entering ") {
                let rest = line[range.upperBound...]
                if let word = rest.split(separator: " ").first, rest.contains(" STATE") {
                    view.state = String(word)
                }
            }
            if line.contains("effective priority from"), let range = line.range(of: " to ") {
                let number = line[range.upperBound...].prefix { $0.isNumber }
                if let priority = Int(number) { view.priority = priority }
            }
        }
        return view
    }
}

/// Server states from a balancer's log: HAProxy (with -db) and `portico lb` both print
/// `Server web_backend/web01 is DOWN, reason: ...` and `... is UP, ...` when a check changes a server.
public enum BalancerLog {
    /// Every `server` line of the config starts UP (as HAProxy assumes at start); later log lines win.
    public static func servers(log: String, config: String) -> [ServerView] {
        var order: [String] = []
        var states: [String: ServerView] = [:]
        var backend = ""
        for line in config.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard let keyword = fields.first else { continue }
            if ["backend", "listen", "frontend", "defaults", "global"].contains(keyword) {
                backend = fields.count > 1 ? String(fields[1]) : ""
            } else if keyword == "server", fields.count > 1 {
                let key = "\(backend)/\(fields[1])"
                order.append(key)
                states[key] = ServerView(backend: backend, name: String(fields[1]), status: "UP")
            }
        }
        for line in log.split(separator: "\n") {
            guard let start = line.range(of: "Server "),
                let middle = line.range(of: " is ", range: start.upperBound..<line.endIndex)
            else { continue }
            let key = String(line[start.upperBound..<middle.lowerBound])
            let rest = line[middle.upperBound...]
            guard var view = states[key] else { continue }
            if rest.hasPrefix("DOWN") {
                view.status = "DOWN"
            } else if rest.hasPrefix("UP") {
                view.status = "UP"
            } else if rest.hasPrefix("going DOWN for maintenance") {
                view.status = "MAINT"
            } else {
                continue
            }
            states[key] = view
        }
        return order.compactMap { states[$0] }
    }
}
