/// The `global` section's keyword table.
enum GlobalKeywords {
    typealias Parse = (ConfigLine, inout GlobalSettings, inout DiagnosticSink) -> Void

    static let table: [String: Parse] = baseTable.merging(tlsTable) { first, _ in first }

    private static let baseTable: [String: Parse] = [
        "log": parseLog,
        "maxconn": parseMaxConn,
        "daemon": { line, global, sink in
            if expectNoArgument(line, &sink) { global.daemon = true }
        },
        "pidfile": { line, global, sink in
            if let path = singleArgument(line, "<file>", &sink) { global.pidFile = path }
        },
        "nbthread": { line, global, sink in
            if let value = integerArgument(line, &sink, minimum: 1) { global.threadCount = value }
        },
        "cpu-map": { line, global, sink in
            if let rule = CPUMapParser.parse(line, &sink) { global.cpuMap.apply(rule) }
        },
        "user": { line, global, sink in
            if let user = singleArgument(line, "<user name>", &sink) { global.user = user }
        },
        "group": { line, global, sink in
            if let group = singleArgument(line, "<group name>", &sink) { global.group = group }
        },
        "stats": parseStats,
        "tune.bufsize": { line, global, sink in
            guard let text = singleArgument(line, "<size>", &sink) else { return }
            // HAProxy needs room for at least a request line and a few headers.
            guard let size = Values.size(text), size >= 1024 else {
                sink.alert("'tune.bufsize' expects a size of at least 1024 bytes (got '\(text)').", line)
                return
            }
            global.bufferSize = size
        },
    ]

    static func handle(_ line: ConfigLine, global: inout GlobalSettings, sink: inout DiagnosticSink) {
        let keyword = line.keyword
        if let parse = table[keyword] {
            parse(line, &global, &sink)
        } else if HAProxyKeywords.global.contains(keyword) {
            sink.alert("'\(keyword)' is not supported yet by Portico", line)
        } else {
            let candidates = Set(table.keys).union(HAProxyKeywords.global.map { String($0.split(separator: " ")[0]) })
            sink.alert(unknownKeyword(keyword, section: "global", candidates: candidates), line)
        }
    }

    // MARK: - Keywords

    private static func parseMaxConn(_ line: ConfigLine, _ global: inout GlobalSettings, _ sink: inout DiagnosticSink) {
        guard let value = integerArgument(line, &sink, minimum: 1) else { return }
        global.maxConn = value
        global.maxConnLocation = line.location
    }

    private static func parseLog(_ line: ConfigLine, _ global: inout GlobalSettings, _ sink: inout DiagnosticSink) {
        if line.word(1) == "global" {
            sink.alert("'log global' is only allowed in 'defaults', 'frontend', 'backend' and 'listen' sections.", line)
            return
        }
        if let target = LogLine.parse(line, &sink) { global.logTargets.append(target) }
    }

    private static func parseStats(_ line: ConfigLine, _ global: inout GlobalSettings, _ sink: inout DiagnosticSink) {
        guard let sub = line.word(1) else {
            sink.alert("'stats' expects 'socket', 'timeout', 'maxconn' or 'bind-process'.", line)
            return
        }
        switch sub {
        case "socket":
            if let socket = parseStatsSocket(line, &sink) { global.statsSockets.append(socket) }
        case "timeout":
            guard let text = line.word(2), line.words.count == 3 else {
                sink.alert("'stats timeout' expects exactly one <time> argument.", line)
                return
            }
            switch Values.time(text) {
            case .success(let value) where value > .zero:
                global.statsTimeout = value
            case .success:
                sink.alert("'stats timeout' expects a positive value.", line)
            case .failure(let error):
                sink.alert(timeError(error, text: text, keyword: "stats timeout"), line)
            }
        case "maxconn", "bind-process":
            sink.alert("'stats \(sub)' is not supported yet by Portico", line)
        default:
            let suggestion = Suggestion.closest(to: sub, in: ["socket", "timeout", "maxconn", "bind-process"])
            sink.alert(
                "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '\(sub)')"
                    + (suggestion.map { "; did you mean 'stats \($0)'?" } ?? "."), line)
        }
    }

    private static func parseStatsSocket(_ line: ConfigLine, _ sink: inout DiagnosticSink) -> StatsSocket? {
        guard let path = line.word(2) else {
            sink.alert("'stats socket' expects a path or an address as its first argument.", line)
            return nil
        }
        var socket = StatsSocket(path: path, location: line.location)
        var index = 3
        var valid = true
        let options = ["mode", "level", "expose-fd", "user", "group"]
        while index < line.words.count {
            let option = line.words[index]
            let value = line.word(index + 1)
            switch option {
            case "mode":
                if let value, !value.isEmpty, value.allSatisfy({ ("0"..."7").contains($0) }), value.count <= 4,
                    let mode = UInt16(value, radix: 8)
                {
                    socket.mode = mode
                } else {
                    sink.alert(
                        "'stats socket' : 'mode' : missing or invalid mode '\(value ?? "")' (octal integer expected)",
                        line)
                    valid = false
                }
            case "level":
                if let value, let level = StatsSocket.Level(rawValue: value) {
                    socket.level = level
                } else {
                    sink.alert(
                        "'stats socket' : 'level' only supports 'user', 'operator', and 'admin' (got '\(value ?? "")')",
                        line)
                    valid = false
                }
            case "expose-fd":
                if value == "listeners" {
                    socket.exposesListeners = true
                } else {
                    sink.alert("'stats socket' : 'expose-fd' only supports 'listeners' (got '\(value ?? "")')", line)
                    valid = false
                }
            case "user", "group":
                if let value {
                    if option == "user" { socket.user = value } else { socket.group = value }
                } else {
                    sink.alert("'stats socket' : '\(option)' expects a name.", line)
                    valid = false
                }
            default:
                if HAProxyKeywords.bindOptions.contains(option) {
                    sink.alert("'stats socket' : '\(option)' is not supported yet by Portico", line)
                } else {
                    let suggestion = Suggestion.closest(to: option, in: options)
                    sink.alert(
                        "'stats socket' : unknown keyword '\(option)'"
                            + (suggestion.map { "; did you mean '\($0)'?" } ?? "."), line)
                }
                return nil
            }
            index += 2
        }
        return valid ? socket : nil
    }
}

// MARK: - Helpers shared by the keyword tables

/// `unknown keyword 'balanse' in 'backend' section; did you mean 'balance'?`
func unknownKeyword(_ keyword: String, section: String, candidates: some Sequence<String>) -> String {
    let base = "unknown keyword '\(keyword)' in '\(section)' section"
    if let suggestion = Suggestion.closest(to: keyword, in: candidates) {
        return base + "; did you mean '\(suggestion)'?"
    }
    return base
}

/// The message for a bad time value, naming the keyword.
func timeError(_ error: Values.TimeError, text: String, keyword: String) -> String {
    switch error {
    case .empty:
        return "'\(keyword)' expects a time value."
    case .unexpectedCharacter(let character):
        return "unexpected character '\(character)' in '\(keyword)' (got '\(text)'); "
            + "units are us, ms, s, m, h, d (a bare number is milliseconds)."
    case .overflow:
        return "timer overflow in argument '\(text)' to '\(keyword)' (maximum value is 2147483647 ms or ~24.8 days)"
    }
}

/// Checks that the keyword (which may be several words, e.g. `option httplog`) has no extra argument.
@discardableResult
func expectNoArgument(_ line: ConfigLine, keywordWords: Int = 1, _ sink: inout DiagnosticSink) -> Bool {
    expectNothingAfter(
        line, consumed: keywordWords, keyword: line.words.prefix(keywordWords).joined(separator: " "), &sink)
}

/// Checks that nothing follows the first `consumed` words; the alert names `keyword`.
@discardableResult
func expectNothingAfter(_ line: ConfigLine, consumed: Int, keyword: String, _ sink: inout DiagnosticSink) -> Bool {
    if line.words.count > consumed {
        sink.alert("'\(keyword)' cannot handle unexpected argument '\(line.words[consumed])'.", line)
        return false
    }
    return true
}

/// The single argument after a one-word keyword, or an alert.
func singleArgument(_ line: ConfigLine, _ what: String, _ sink: inout DiagnosticSink) -> String? {
    guard let value = line.word(1) else {
        sink.alert("'\(line.keyword)' expects \(what) as an argument.", line)
        return nil
    }
    guard expectNothingAfter(line, consumed: 2, keyword: line.keyword, &sink) else { return nil }
    return value
}

/// The integer argument after the keyword words, checked against a minimum, or an alert.
func integerArgument(
    _ line: ConfigLine, keywordWords: Int = 1, _ sink: inout DiagnosticSink, minimum: Int = 0, maximum: Int = Int.max
) -> Int? {
    let keyword = line.words.prefix(keywordWords).joined(separator: " ")
    guard let text = line.word(keywordWords) else {
        sink.alert("'\(keyword)' expects an integer argument.", line)
        return nil
    }
    guard expectNothingAfter(line, consumed: keywordWords + 1, keyword: keyword, &sink) else { return nil }
    guard let value = Values.integer(text) else {
        sink.alert("'\(keyword)' expects an integer argument (got '\(text)').", line)
        return nil
    }
    guard value >= minimum, value <= maximum else {
        let range = maximum == Int.max ? "at least \(minimum)" : "between \(minimum) and \(maximum)"
        sink.alert("'\(keyword)' expects a value \(range) (got '\(text)').", line)
        return nil
    }
    return value
}

/// The time argument after the keyword words, or an alert.
func timeArgument(_ line: ConfigLine, keywordWords: Int, _ sink: inout DiagnosticSink) -> Duration? {
    let keyword = line.words.prefix(keywordWords).joined(separator: " ")
    guard let text = line.word(keywordWords) else {
        sink.alert("'\(keyword)' expects a time value (e.g. '5s').", line)
        return nil
    }
    guard expectNothingAfter(line, consumed: keywordWords + 1, keyword: keyword, &sink) else { return nil }
    switch Values.time(text) {
    case .success(let value):
        return value
    case .failure(let error):
        sink.alert(timeError(error, text: text, keyword: keyword), line)
        return nil
    }
}
