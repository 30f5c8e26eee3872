/// The keyword table of `defaults`, `frontend`, `backend` and `listen` sections.
///
/// Each supported keyword maps to its parser; the sections it may appear in come from HAProxy's keyword matrix
/// (``HAProxyKeywords/proxy``). Families (`option`, `timeout`, `stats`, `http-check`) have their own sub-tables.
enum ProxyKeywords {
    typealias Parse = (ConfigLine, inout ProxyDraft, inout DiagnosticSink) -> Void

    static let table: [String: Parse] = [
        "mode": parseMode,
        "balance": parseBalance,
        "bind": BindLine.parse,
        "server": { line, draft, sink in ServerLine.parse(line, isDefaultServer: false, &draft, &sink) },
        "default-server": { line, draft, sink in ServerLine.parse(line, isDefaultServer: true, &draft, &sink) },
        "default_backend": parseDefaultBackend,
        "use_backend": parseUseBackend,
        "acl": parseACL,
        "retries": { line, draft, sink in
            if let value = integerArgument(line, &sink) { draft.settings.retries = value }
        },
        "maxconn": { line, draft, sink in
            if let value = integerArgument(line, &sink, minimum: 1) { draft.settings.maxConn = value }
        },
        "fullconn": { line, draft, sink in
            if let value = integerArgument(line, &sink, minimum: 1) { draft.settings.fullConn = value }
        },
        "log": parseLog,
        "option": parseOption,
        "no": parseNo,
        "timeout": parseTimeout,
        "stats": parseStats,
        "http-check": parseHTTPCheck,
        "http-request": parseHTTPRequest,
        "http-response": parseHTTPResponse,
        "errorfile": parseErrorFile,
    ]

    /// Families whose table key is the first two words in ``HAProxyKeywords/proxy``.
    static let families: Set<String> = Set(
        HAProxyKeywords.proxy.keys.compactMap { key in
            key.contains(" ") ? String(key.split(separator: " ")[0]) : nil
        })

    /// First words of every HAProxy proxy keyword and of Portico's table: the "did you mean" candidates.
    static let allFirstWords: Set<String> = Set(HAProxyKeywords.proxy.keys.map { String($0.split(separator: " ")[0]) })
        .union(table.keys).subtracting(["no"])

    static func handle(_ line: ConfigLine, draft: inout ProxyDraft, sink: inout DiagnosticSink) {
        let keyword = line.keyword
        if let parse = table[keyword] {
            if families.contains(keyword) || keyword == "no" {
                // Families check their placement and record their location per sub-keyword.
                parse(line, &draft, &sink)
            } else if ["http-request", "http-response", "log"].contains(keyword)
                || isPlaced(keyword, draft, line, &sink)
            {
                apply(parse, as: keyword, line, &draft, &sink)
            }
            return
        }
        if families.contains(keyword) {
            // `capture request header`, `tcp-request connection`: name the longest real keyword the line starts with.
            let candidates = [3, 2].map { line.words.prefix($0).joined(separator: " ") }
            let known = candidates.first { HAProxyKeywords.proxy[$0] != nil } ?? keyword
            sink.alert("'\(known)' is not supported yet by Portico", line)
            return
        }
        if HAProxyKeywords.proxy[keyword] != nil {
            sink.alert("'\(keyword)' is not supported yet by Portico", line)
            return
        }
        if GlobalKeywords.table[keyword] != nil || HAProxyKeywords.global.contains(keyword), keyword != "log" {
            sink.alert("'\(keyword)' is only allowed in the 'global' section.", line)
            return
        }
        sink.alert(unknownKeyword(keyword, section: draft.kind.rawValue, candidates: allFirstWords), line)
    }

    /// Runs a keyword's parser and, when the line was accepted (no alert), records it as the line that set `key`.
    static func apply(
        _ parse: Parse, as key: String, _ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        let before = sink.items.count
        parse(line, &draft, &sink)
        guard !sink.items[before...].contains(where: \.isAlert) else { return }
        record(key, line, &draft)
    }

    /// Records `line` as the one that set `key`. Lines of a `defaults` section say so, and keep saying so in every
    /// proxy that inherits them.
    static func record(_ key: String, _ line: ConfigLine, _ draft: inout ProxyDraft) {
        draft.settings.keywordLocations[key] = KeywordLocation(
            line: line.location, defaultsSection: draft.kind == .defaults ? draft.location : nil)
    }

    /// Whether `name` may appear in this section; reports HAProxy's alert or warning when it may not.
    static func isPlaced(_ name: String, _ draft: ProxyDraft, _ line: ConfigLine, _ sink: inout DiagnosticSink) -> Bool
    {
        let allowed = HAProxyKeywords.proxy[name] ?? .all
        if allowed.contains(draft.kind.sections) { return true }
        if draft.kind == .defaults {
            sink.alert("'\(name)' not allowed in 'defaults' section.", line)
            return false
        }
        let missing = draft.kind.hasFrontendCapability ? "backend" : "frontend"
        if name == "server" || name == "default-server" {
            sink.alert("'\(name)' not allowed because \(draft.title) has no \(missing) capability.", line)
        } else {
            // HAProxy accepts the configuration and ignores the line; say so.
            sink.warning("'\(name)' ignored because \(draft.title) has no \(missing) capability.", line)
        }
        return false
    }

    // MARK: - Single keywords

    private static func parseMode(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard let value = line.word(1) else {
            sink.alert("'mode' expects 'http' or 'tcp' as an argument.", line)
            return
        }
        guard expectNothingAfter(line, consumed: 2, keyword: "mode", &sink) else { return }
        switch value {
        case "http":
            draft.settings.mode = .http
        case "tcp":
            draft.settings.mode = .tcp
        default:
            sink.alert("unknown proxy mode '\(value)' (expected 'http' or 'tcp').", line)
        }
    }

    private static func parseBalance(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard let value = line.word(1) else {
            sink.alert("'balance' expects an algorithm as an argument.", line)
            return
        }
        let algorithm: BalanceAlgorithm
        switch value {
        case "roundrobin": algorithm = .roundRobin
        case "static-rr": algorithm = .staticRoundRobin
        case "leastconn": algorithm = .leastConn
        case "source": algorithm = .source
        case "first": algorithm = .first
        case "random": algorithm = .random(draws: 2)
        default:
            if value.hasPrefix("random("), value.hasSuffix(")"),
                let draws = Values.integer(String(value.dropFirst(7).dropLast())), draws >= 1
            {
                algorithm = .random(draws: draws)
            } else if ["uri", "url_param", "hash"].contains(value) || value.hasPrefix("hdr(")
                || value.hasPrefix("rdp-cookie")
            {
                sink.alert("'balance \(value)' is not supported yet by Portico", line)
                return
            } else {
                let supported = ["roundrobin", "static-rr", "leastconn", "source", "first", "random"]
                let suggestion = Suggestion.closest(to: value, in: supported)
                sink.alert(
                    "'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'first' and 'random' "
                        + "(got '\(value)')" + (suggestion.map { "; did you mean '\($0)'?" } ?? "."), line)
                return
            }
        }
        guard expectNothingAfter(line, consumed: 2, keyword: "balance \(value)", &sink) else { return }
        draft.settings.balance = algorithm
    }

    private static func parseDefaultBackend(
        _ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        guard let name = singleArgument(line, "<backend name>", &sink) else { return }
        draft.settings.defaultBackend = name
        draft.settings.defaultBackendLocation = line.location
    }

    private static func parseErrorFile(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard line.words.count == 3, let codeText = line.word(1), let path = line.word(2) else {
            sink.alert("'errorfile' expects <status_code> and <file> as arguments.", line)
            return
        }
        guard let code = Int(codeText), ErrorFile.replaceableCodes.contains(code) else {
            sink.alert(
                "'errorfile' : status code '\(codeText)' not handled (one of "
                    + ErrorFile.replaceableCodes.sorted().map(String.init).joined(separator: ", ") + ").", line)
            return
        }
        draft.settings.errorFiles[code] = ErrorFile(code: code, path: path, location: line.location)
    }

    private static func parseUseBackend(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard let name = line.word(1) else {
            sink.alert("'use_backend' expects <backend name> as an argument.", line)
            return
        }
        if name.contains("%[") {
            sink.alert(
                "'use_backend' with a dynamic backend name ('\(name)') is not supported yet by Portico.", line)
            return
        }
        guard let keyword = line.word(2) else {
            draft.useBackends.append(BackendRule(backend: name, location: line.location))
            return
        }
        guard keyword == "if" || keyword == "unless" else {
            sink.alert(
                "unexpected keyword '\(keyword)' after switching rule, only 'if' and 'unless' are allowed.", line)
            return
        }
        let isUnless = keyword == "unless"
        switch ACLParser.condition(line.words.dropFirst(3), isUnless: isUnless, acls: draft.acls) {
        case .failure(let error):
            sink.alert("error detected while parsing switching rule : " + sentence(error.message), line)
        case .success(let condition):
            if condition.alternatives.isEmpty {
                // HAProxy accepts an empty condition; it never matches after 'if' and always after 'unless'.
                sink.warning(
                    "'use_backend \(name) \(keyword)' has an empty condition: the rule "
                        + (isUnless ? "always applies." : "never applies."), line)
            }
            draft.useBackends.append(BackendRule(backend: name, location: line.location, condition: condition))
        }
    }

    /// `acl <name> <fetch> [flags] [values]`; a second line with the same name adds an alternative.
    private static func parseACL(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        if draft.kind == .defaults, draft.name.isEmpty {
            sink.alert("'acl' not allowed in anonymous 'defaults' section.", line)
            return
        }
        guard let name = line.word(1) else {
            sink.alert("'acl' expects <name> and <criterion> as arguments.", line)
            return
        }
        if let bad = Values.invalidNameCharacter(name) {
            sink.alert("character '\(bad)' is not permitted in acl name '\(name)'.", line)
            return
        }
        if name.lowercased() == "or" {
            sink.alert(
                "acl name '\(name)' will never match. 'or' is used to express a logical disjunction within a "
                    + "condition.", line)
            return
        }
        switch ACLParser.expression(line.words.dropFirst(2)) {
        case .failure(let error):
            sink.alert("error detected while parsing ACL '\(name)' : " + sentence(error.message), line)
        case .success(let parsed):
            if let warning = parsed.warning { sink.warning(warning, line) }
            draft.acls[name, default: ACL(name: name, expressions: [])].expressions.append(parsed.expression)
        }
    }

    /// HAProxy ends these messages with a period; a "did you mean" question keeps its question mark.
    private static func sentence(_ message: String) -> String {
        message.hasSuffix("?") || message.hasSuffix(".") ? message : message + "."
    }

    private static func parseLog(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        if line.word(1) == "global" {
            guard expectNothingAfter(line, consumed: 2, keyword: "log global", &sink) else { return }
            draft.settings.logs.append(.global(line.location))
            return
        }
        if let target = LogLine.parse(line, &sink) { draft.settings.logs.append(.target(target)) }
    }
}
