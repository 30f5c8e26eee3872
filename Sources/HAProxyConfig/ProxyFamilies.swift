/// Sub-tables of the multi-word proxy keywords: `option`, `no option`, `timeout`, `stats`, `http-check`.
/// (`http-request` and `http-response` are in HTTPRuleParser.swift.)
extension ProxyKeywords {
    /// Looks up `family sub` in a sub-table, checks placement, and reports unsupported or unknown sub-keywords.
    private static func dispatch(
        family: String, table: [String: Parse], line: ConfigLine, draft: inout ProxyDraft,
        sink: inout DiagnosticSink, unknown: (String, String?) -> String
    ) {
        guard let sub = line.word(1) else {
            let names = table.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            sink.alert("'\(family)' expects one of \(names) as an argument.", line)
            return
        }
        let full = "\(family) \(sub)"
        if let parse = table[sub] {
            if isPlaced(full, draft, line, &sink) { apply(parse, as: full, line, &draft, &sink) }
            return
        }
        if HAProxyKeywords.proxy[full] != nil {
            sink.alert("'\(full)' is not supported yet by Portico", line)
            return
        }
        let candidates = HAProxyKeywords.proxy.keys.filter { $0.hasPrefix(family + " ") }
            .map { String($0.dropFirst(family.count + 1)) }
        unknownMessage(sink: &sink, line: line, text: unknown(sub, Suggestion.closest(to: sub, in: candidates)))
    }

    private static func unknownMessage(sink: inout DiagnosticSink, line: ConfigLine, text: String) {
        sink.alert(text, line)
    }

    // MARK: - option

    static let optionTable: [String: Parse] = [
        "httplog": { line, draft, sink in
            if line.word(2) == "clf" {
                sink.alert("'option httplog clf' is not supported yet by Portico", line)
            } else if expectNoArgument(line, keywordWords: 2, &sink) {
                draft.settings.httpLog = true
            }
        },
        // HAProxy's TCP log format: the default when neither httplog nor tcplog is set, so only httplog is undone.
        "tcplog": { line, draft, sink in
            if expectNoArgument(line, keywordWords: 2, &sink) { draft.settings.httpLog = false }
        },
        "dontlognull": { line, draft, sink in
            if expectNoArgument(line, keywordWords: 2, &sink) { draft.settings.dontLogNull = true }
        },
        "http-keep-alive": { line, draft, sink in
            if expectNoArgument(line, keywordWords: 2, &sink) { draft.settings.connectionMode = .keepAlive }
        },
        "http-server-close": { line, draft, sink in
            if expectNoArgument(line, keywordWords: 2, &sink) { draft.settings.connectionMode = .serverClose }
        },
        "httpclose": { line, draft, sink in
            if expectNoArgument(line, keywordWords: 2, &sink) { draft.settings.connectionMode = .close }
        },
        "redispatch": { line, draft, sink in
            var interval = -1
            if let text = line.word(2) {
                guard let value = Values.signedInteger(text) else {
                    sink.alert("'option redispatch' expects an integer interval (got '\(text)').", line)
                    return
                }
                guard expectNothingAfter(line, consumed: 3, keyword: "option redispatch", &sink) else { return }
                interval = value
            }
            draft.settings.redispatch = .on(interval: interval)
        },
        "forwardfor": parseForwardFor,
        "httpchk": parseHTTPChk,
    ]

    static func parseOption(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        dispatch(family: "option", table: optionTable, line: line, draft: &draft, sink: &sink) { sub, suggestion in
            "unknown option '\(sub)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ".")
        }
    }

    private static func parseForwardFor(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        var forwardFor = ForwardFor()
        var index = 2
        while let word = line.word(index) {
            switch word {
            case "except":
                guard let text = line.word(index + 1), let network = Values.network(text) else {
                    sink.alert(
                        "'option forwardfor' : 'except' expects <address>[/mask] as an argument"
                            + (line.word(index + 1).map { " (got '\($0)')." } ?? "."), line)
                    return
                }
                forwardFor.except = network
                index += 2
            case "header":
                guard let name = line.word(index + 1), !name.isEmpty else {
                    sink.alert("'option forwardfor' : 'header' expects <header_name> as an argument.", line)
                    return
                }
                forwardFor.header = name
                index += 2
            case "if-none":
                forwardFor.ifNone = true
                index += 1
            default:
                let suggestion = Suggestion.closest(to: word, in: ["except", "header", "if-none"])
                sink.alert(
                    "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none' "
                        + "(got '\(word)')" + (suggestion.map { "; did you mean '\($0)'?" } ?? "."), line)
                return
            }
        }
        draft.settings.forwardFor = forwardFor
    }

    private static func parseHTTPChk(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        let arguments = Array(line.words.dropFirst(2))
        var check = HTTPCheck()
        switch arguments.count {
        case 0:
            break
        case 1:
            // A single argument is the URI, as in HAProxy.
            check.uri = arguments[0]
        case 2:
            check.method = arguments[0]
            check.uri = arguments[1]
        case 3:
            check.method = arguments[0]
            check.uri = arguments[1]
            // The pre-2.2 idiom `HTTP/1.1\r\nHost:\ www` carries headers after the version; HAProxy still turns
            // them into headers, and so does Portico.
            var lines = arguments[2].split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
            check.version = lines.isEmpty ? arguments[2] : lines.removeFirst()
            for header in lines {
                guard let colon = header.firstIndex(of: ":"), colon != header.startIndex else {
                    sink.alert("'option httpchk' : invalid header '\(header)' after the HTTP version.", line)
                    return
                }
                let value = header[header.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
                check.headers.append(HTTPCheckHeader(name: String(header[..<colon]), value: String(value)))
            }
        default:
            sink.alert("'option httpchk' cannot handle unexpected argument '\(arguments[3])'.", line)
            return
        }
        if !check.uri.hasPrefix("/") && check.uri != "*" {
            sink.alert("'option httpchk' expects a URI starting with '/' (got '\(check.uri)').", line)
            return
        }
        if !check.method.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "-" || $0 == "_") })
            || check.method.isEmpty
        {
            sink.alert("'option httpchk' : invalid HTTP method '\(check.method)'.", line)
            return
        }
        draft.settings.httpCheckEnabled = true
        draft.settings.httpCheck.method = check.method
        draft.settings.httpCheck.uri = check.uri
        draft.settings.httpCheck.version = check.version
        draft.settings.httpCheck.headers = check.headers
    }

    // MARK: - no option

    static func parseNo(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        if line.word(1) == "log" {
            if expectNoArgument(line, keywordWords: 2, &sink) { draft.settings.logs.removeAll() }
            return
        }
        guard line.word(1) == "option", let name = line.word(2) else {
            sink.alert(
                "'no' expects 'option <name>' or 'log' (got '\(line.words.dropFirst().joined(separator: " "))').", line)
            return
        }
        guard isPlaced("option \(name)", draft, line, &sink) else { return }
        guard expectNoArgument(line, keywordWords: 3, &sink) else { return }
        switch name {
        case "redispatch": draft.settings.redispatch = .off
        case "httplog": draft.settings.httpLog = false
        case "dontlognull": draft.settings.dontLogNull = false
        case "forwardfor": draft.settings.forwardFor = nil
        case "http-keep-alive", "http-server-close", "httpclose":
            // Negating the current connection mode goes back to HAProxy's default, keep-alive.
            if draft.settings.connectionMode.rawValue == name { draft.settings.connectionMode = .keepAlive }
        default:
            if HAProxyKeywords.proxy["option \(name)"] != nil {
                sink.alert("'no option \(name)' is not supported yet by Portico", line)
            } else {
                let candidates = optionTable.keys
                sink.alert(
                    "unknown option '\(name)'"
                        + (Suggestion.closest(to: name, in: candidates).map { "; did you mean '\($0)'?" } ?? "."),
                    line)
            }
            return
        }
        // `no option X` sets the same value as `option X`: a message about that value points here.
        record("option \(name)", line, &draft)
    }

    // MARK: - timeout

    static let timeoutTable: [String: Parse] = {
        let fields: [(String, WritableKeyPath<Timeouts, Duration?>)] = [
            ("connect", \.connect), ("client", \.client), ("server", \.server), ("http-request", \.httpRequest),
            ("http-keep-alive", \.httpKeepAlive), ("queue", \.queue), ("check", \.check), ("tunnel", \.tunnel),
            ("client-fin", \.clientFin), ("server-fin", \.serverFin),
        ]
        var table: [String: Parse] = [:]
        for (name, field) in fields {
            table[name] = { line, draft, sink in
                guard let value = timeArgument(line, keywordWords: 2, &sink) else { return }
                // `timeout X 0` means no timeout in HAProxy.
                draft.settings.timeouts[keyPath: field] = value == .zero ? nil : value
            }
        }
        return table
    }()

    static func parseTimeout(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        dispatch(family: "timeout", table: timeoutTable, line: line, draft: &draft, sink: &sink) { sub, suggestion in
            "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', "
                + "'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '\(sub)')"
                + (suggestion.map { "; did you mean 'timeout \($0)'?" } ?? "")
        }
    }

    // MARK: - stats

    static let statsTable: [String: Parse] = [
        "enable": { line, draft, sink in
            if expectNoArgument(line, keywordWords: 2, &sink) {
                draft.settings.stats = draft.settings.stats ?? StatsPage()
            }
        },
        "uri": { line, draft, sink in
            guard let uri = line.word(2), expectNoArgument(line, keywordWords: 3, &sink) else {
                if line.word(2) == nil { sink.alert("'stats uri' expects <uri> as an argument.", line) }
                return
            }
            guard uri.hasPrefix("/") else {
                sink.alert("'stats uri' expects a URI starting with '/' (got '\(uri)').", line)
                return
            }
            draft.settings.stats = draft.settings.stats ?? StatsPage()
            draft.settings.stats?.uri = uri
        },
        "refresh": { line, draft, sink in
            guard let value = timeArgument(line, keywordWords: 2, &sink) else { return }
            guard value >= .seconds(1) else {
                sink.alert("'stats refresh' expects at least 1s.", line)
                return
            }
            draft.settings.stats = draft.settings.stats ?? StatsPage()
            draft.settings.stats?.refresh = value
        },
        "auth": { line, draft, sink in
            guard let text = line.word(2), expectNoArgument(line, keywordWords: 3, &sink) else {
                if line.word(2) == nil { sink.alert("'stats auth' expects <user>:<password> as an argument.", line) }
                return
            }
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                sink.alert("'stats auth' expects <user>:<password> (got '\(text)').", line)
                return
            }
            let credential = StatsCredential(
                user: String(text[..<colon]), password: String(text[text.index(after: colon)...]),
                location: line.location)
            draft.settings.stats = draft.settings.stats ?? StatsPage()
            draft.settings.stats?.credentials.append(credential)
        },
        "realm": { line, draft, sink in
            guard let realm = line.word(2), expectNoArgument(line, keywordWords: 3, &sink) else {
                if line.word(2) == nil { sink.alert("'stats realm' expects <realm> as an argument.", line) }
                return
            }
            draft.settings.stats = draft.settings.stats ?? StatsPage()
            draft.settings.stats?.realm = realm
        },
        "hide-version": { line, draft, sink in
            guard expectNoArgument(line, keywordWords: 2, &sink) else { return }
            draft.settings.stats = draft.settings.stats ?? StatsPage()
            draft.settings.stats?.hideVersion = true
        },
        "admin": { line, draft, sink in
            let condition = Array(line.words.dropFirst(2))
            guard condition.count == 2, condition[0] == "if",
                let admin = StatsAdminCondition(rawValue: condition[1])
            else {
                if condition.first == "if" || condition.first == "unless" {
                    sink.alert(
                        "'stats admin \(condition.joined(separator: " "))' is not supported yet by Portico "
                            + "(only 'stats admin if TRUE' and 'stats admin if LOCALHOST').", line)
                } else {
                    sink.alert("'stats admin' requires either 'if' or 'unless' followed by a condition.", line)
                }
                return
            }
            draft.settings.stats = draft.settings.stats ?? StatsPage()
            draft.settings.stats?.admin = admin
        },
    ]

    static func parseStats(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        if line.word(1) == "socket" || line.word(1) == "timeout" {
            sink.alert("'stats \(line.word(1) ?? "")' is only allowed in the 'global' section.", line)
            return
        }
        dispatch(family: "stats", table: statsTable, line: line, draft: &draft, sink: &sink) { sub, suggestion in
            "unknown stats parameter '\(sub)'" + (suggestion.map { "; did you mean 'stats \($0)'?" } ?? ".")
        }
    }

    // MARK: - http-check

    static let httpCheckTable: [String: Parse] = [
        "send": parseHTTPCheckSend,
        "expect": parseHTTPCheckExpect,
    ]

    static func parseHTTPCheck(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        dispatch(family: "http-check", table: httpCheckTable, line: line, draft: &draft, sink: &sink) {
            sub, suggestion in
            "'http-check' : unknown directive '\(sub)'"
                + (suggestion.map { "; did you mean 'http-check \($0)'?" } ?? ".")
        }
    }

    /// The first `http-check` rule of a section replaces the rules inherited from defaults.
    private static func takeOwnership(_ draft: inout ProxyDraft) {
        if !draft.hasOwnHTTPCheckRules {
            draft.hasOwnHTTPCheckRules = true
            draft.settings.httpCheckRules = HTTPCheckRules()
            for key in httpCheckTable.keys { draft.settings.keywordLocations["http-check \(key)"] = nil }
        }
    }

    private static func parseHTTPCheckSend(
        _ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        takeOwnership(&draft)
        if draft.settings.httpCheckRules.sendLocation != nil {
            sink.alert("several 'http-check send' rules (multi-step checks) are not supported yet by Portico", line)
            return
        }
        var rules = draft.settings.httpCheckRules
        var index = 2
        while let word = line.word(index) {
            switch word {
            case "meth", "uri", "ver", "body":
                guard let value = line.word(index + 1) else {
                    sink.alert("'http-check send' : '\(word)' expects a value.", line)
                    return
                }
                switch word {
                case "meth": rules.method = value
                case "uri": rules.uri = value
                case "ver": rules.version = value
                default: rules.body = value
                }
                index += 2
            case "hdr":
                guard let name = line.word(index + 1), let value = line.word(index + 2) else {
                    sink.alert("'http-check send' : 'hdr' expects <name> and <value>.", line)
                    return
                }
                rules.headers.append(HTTPCheckHeader(name: name, value: value))
                index += 3
            case "uri-lf", "body-lf", "comment":
                sink.alert("'http-check send \(word)' is not supported yet by Portico", line)
                return
            default:
                let suggestion = Suggestion.closest(to: word, in: ["meth", "uri", "ver", "hdr", "body"])
                sink.alert(
                    "'http-check send' : unknown argument '\(word)' (expects 'meth', 'uri', 'ver', 'hdr' or 'body')"
                        + (suggestion.map { "; did you mean '\($0)'?" } ?? "."), line)
                return
            }
        }
        rules.sendLocation = line.location
        draft.settings.httpCheckRules = rules
    }

    private static func parseHTTPCheckExpect(
        _ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        takeOwnership(&draft)
        if draft.settings.httpCheckRules.expectLocation != nil {
            sink.alert("several 'http-check expect' rules (multi-step checks) are not supported yet by Portico", line)
            return
        }
        var index = 2
        var negated = false
        if line.word(index) == "!" {
            negated = true
            index += 1
        }
        guard let kind = line.word(index) else {
            sink.alert("'http-check expect' expects 'status', 'rstatus' or 'string' followed by a pattern.", line)
            return
        }
        let unsupported = [
            "min-recv", "comment", "ok-status", "error-status", "tout-status", "on-success", "on-error",
            "status-code", "hdr", "fhdr", "rstring", "string-lf", "binary", "rbinary", "binary-lf", "custom",
        ]
        if unsupported.contains(kind) {
            sink.alert("'http-check expect \(kind)' is not supported yet by Portico", line)
            return
        }
        guard let pattern = line.word(index + 1) else {
            sink.alert("'http-check expect \(kind)' expects a pattern.", line)
            return
        }
        guard expectNothingAfter(line, consumed: index + 2, keyword: "http-check expect", &sink) else { return }
        let match: HTTPCheckExpectation.Match
        switch kind {
        case "status":
            guard let ranges = statusRanges(pattern) else {
                sink.alert(
                    "'http-check expect status' expects status codes such as '200', '200,204' or '200-399' "
                        + "(got '\(pattern)').", line)
                return
            }
            match = .status(ranges)
        case "rstatus":
            guard (try? Regex(pattern)) != nil else {
                sink.alert("'http-check expect rstatus' : invalid regular expression '\(pattern)'.", line)
                return
            }
            match = .statusRegex(pattern)
        case "string":
            match = .bodyContains(pattern)
        default:
            let suggestion = Suggestion.closest(to: kind, in: ["status", "rstatus", "string"])
            sink.alert(
                "'http-check expect' : unknown match '\(kind)' (expects 'status', 'rstatus' or 'string')"
                    + (suggestion.map { "; did you mean '\($0)'?" } ?? "."), line)
            return
        }
        draft.settings.httpCheckRules.expect = HTTPCheckExpectation(match: match, negated: negated)
        draft.settings.httpCheckRules.expectLocation = line.location
    }

    /// `200`, `200,204`, `200-399`, `200-299,304`.
    static func statusRanges(_ text: String) -> [ClosedRange<Int>]? {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count) else { return nil }
            let numbers = bounds.compactMap { Values.integer(String($0)) }
            guard numbers.count == bounds.count, numbers.allSatisfy({ (100...999).contains($0) }) else { return nil }
            let low = numbers[0]
            let high = numbers.last ?? low
            guard low <= high else { return nil }
            ranges.append(low...high)
        }
        return ranges.isEmpty ? nil : ranges
    }
}
