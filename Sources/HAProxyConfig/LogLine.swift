/// `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` (the forms shared by global and proxy sections).
enum LogLine {
    static func parse(_ line: ConfigLine, _ sink: inout DiagnosticSink) -> LogTarget? {
        guard let targetText = line.word(1) else {
            sink.alert("'log' expects either <address[:port]> and <facility> or 'global' as arguments.", line)
            return nil
        }
        guard let destination = destination(targetText, line, &sink) else { return nil }
        var index = 2
        var format = LogTarget.Format.rfc3164
        var maxLength = LogTarget.defaultMaxLength
        while let word = line.word(index), ["len", "format", "sample"].contains(word) {
            let value = line.word(index + 1)
            switch word {
            case "len":
                guard let value, let length = Values.integer(value), (80...65535).contains(length) else {
                    sink.alert("log : 'len' expects a length between 80 and 65535 (got '\(value ?? "")').", line)
                    return nil
                }
                maxLength = length
            case "format":
                guard let value, let parsed = LogTarget.Format(rawValue: value) else {
                    let names = LogTarget.Format.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                    sink.alert("log : unknown log format '\(value ?? "")' (expected one of \(names)).", line)
                    return nil
                }
                format = parsed
            default:
                sink.alert("'log ... sample' is not supported yet by Portico", line)
                return nil
            }
            index += 2
        }
        guard let facilityText = line.word(index) else {
            sink.alert("log : missing facility after '\(line.words[index - 1])'.", line)
            return nil
        }
        guard let facility = SyslogFacility(name: facilityText) else {
            let suggestion = Suggestion.closest(to: facilityText, in: SyslogFacility.allCases.map(\.name))
            sink.alert(
                "log : unknown log facility '\(facilityText)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                line)
            return nil
        }
        var level: SyslogLevel? = nil
        var minLevel: SyslogLevel? = nil
        if let text = line.word(index + 1) {
            guard let parsed = SyslogLevel(name: text) else {
                sink.alert("log : unknown optional log level '\(text)'", line)
                return nil
            }
            level = parsed
        }
        if let text = line.word(index + 2) {
            guard let parsed = SyslogLevel(name: text) else {
                sink.alert("log : unknown optional minimum log level '\(text)'", line)
                return nil
            }
            minLevel = parsed
        }
        guard expectNothingAfter(line, consumed: index + 3, keyword: "log", &sink) else { return nil }
        return LogTarget(
            destination: destination, format: format, maxLength: maxLength, facility: facility, level: level,
            minLevel: minLevel, location: line.location)
    }

    /// HAProxy keeps room in `sun_path` (108 bytes) for the temporary name it gives UNIX sockets it binds,
    /// and applies the same limit to log targets.
    static let maxSocketPathLength = 97

    private static func unixSocket(
        path: String, _ text: String, _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) -> LogTarget.Destination? {
        guard path.utf8.count <= maxSocketPathLength else {
            sink.alert("log : socket path '\(text)' too long (max \(maxSocketPathLength))", line)
            return nil
        }
        return .unixSocket(path: path)
    }

    private static func destination(
        _ text: String, _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) -> LogTarget.Destination? {
        switch text {
        case "stdout", "fd@1": return .stdout
        case "stderr", "fd@2": return .stderr
        default: break
        }
        if text.hasPrefix("/") { return unixSocket(path: text, text, line, &sink) }
        // A bare IPv6 address such as `::1` is an address, not `::` with port 1.
        if Values.ipv6(Substring(text)) != nil {
            return .udp(host: .ipv6(text), port: LogTarget.defaultSyslogPort)
        }
        if text.hasPrefix("unix@") { return unixSocket(path: String(text.dropFirst(5)), text, line, &sink) }
        var address = text
        for prefix in ["udp@", "udp4@", "udp6@"] where text.hasPrefix(prefix) {
            let family = prefix == "udp6@" ? "ipv6@" : prefix == "udp4@" ? "ipv4@" : ""
            address = family + text.dropFirst(prefix.count)
        }
        switch Values.hostAndPort(address) {
        case .success(let (host, port)):
            return .udp(host: host, port: port)
        case .failure(.missingPort):
            // A bare address: the port is optional for syslog (514), unlike bind/server.
            if case .success(let (host, _)) = Values.hostAndPort(address + ":\(LogTarget.defaultSyslogPort)") {
                return .udp(host: host, port: LogTarget.defaultSyslogPort)
            }
            sink.alert("log : invalid address: '\(text)'", line)
        case .failure(.unsupportedFamily(let family)):
            sink.alert("log : '\(family)' log targets are not supported yet by Portico", line)
        case .failure(.invalidPort(let port)):
            sink.alert("log : invalid port '\(port)' in '\(text)'", line)
        case .failure(.invalidAddress):
            sink.alert("log : invalid address: '\(text)'", line)
        }
        return nil
    }
}
