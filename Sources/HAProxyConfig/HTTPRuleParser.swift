/// Parsers of `http-request` and `http-response` lines, with HAProxy 2.6's alerts (checked with `haproxy -c`).
extension ProxyKeywords {
    /// HAProxy 2.6's `http-request` actions, in the order its "expects ..." alert lists them. `(*)`: the action
    /// takes a suffix (`track-sc0`, `set-var(txn.x)`).
    static let httpRequestActionNames = [
        "wait-for-handshake", "ot-group", "set-log-level", "set-nice", "use-service", "sc-inc-gpc(*)",
        "sc-inc-gpc0(*)", "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group", "do-resolve(*)",
        "cache-use", "add-acl(*)", "add-header", "allow", "auth", "capture", "del-acl(*)", "del-header", "del-map(*)",
        "deny", "disable-l7-retry", "early-hint", "normalize-uri", "redirect", "reject", "replace-header",
        "replace-path", "replace-pathq", "replace-uri", "replace-value", "return", "set-header", "set-map(*)",
        "set-method", "set-path", "set-pathq", "set-query", "set-uri", "strict-mode", "tarpit", "track-sc(*)",
        "set-timeout", "wait-for-body", "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-dst", "set-dst-port",
        "set-mark", "set-src", "set-src-port", "set-tos", "silent-drop", "set-priority-class", "set-priority-offset",
    ]

    /// HAProxy 2.6's `http-response` actions, in the order of its alert.
    static let httpResponseActionNames = [
        "ot-group", "set-log-level", "set-nice", "sc-inc-gpc(*)", "sc-inc-gpc0(*)", "sc-inc-gpc1(*)",
        "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group", "cache-store", "add-acl(*)", "add-header", "allow",
        "capture", "del-acl(*)", "del-header", "del-map(*)", "deny", "redirect", "replace-header", "replace-value",
        "return", "set-header", "set-map(*)", "set-status", "strict-mode", "track-sc(*)", "wait-for-body",
        "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-mark", "set-tos", "silent-drop",
    ]

    // MARK: - http-request

    static func parseHTTPRequest(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard isHTTPRuleAllowed("http-request", draft, line, &sink) else { return }
        let action = line.word(1) ?? ""
        guard isKnownAction(action, "http-request", httpRequestActionNames, line, &sink) else { return }
        let parsed: HTTPRequestAction?
        var rest = line.words.dropFirst(2)
        switch action {
        case "use-service":
            parsePrometheusExporter(line, &draft, &sink)
            return
        case "allow":
            parsed = .allow
        case "deny":
            parsed = denyStatus(&rest, line, draft, &sink).map { .deny(status: $0) }
        case "set-header", "add-header", "del-header":
            parsed = headerEdit(action, "http-request", &rest, line, draft, &sink).map(HTTPRequestAction.init)
        case "redirect":
            parseRedirect(line, &draft, &sink)
            return
        default:
            sink.alert("'http-request \(action)' is not supported yet by Portico", line)
            return
        }
        guard let parsed,
            let condition = ruleCondition("http-request \(action)", rest, line, draft, &sink)
        else { return }
        appendRequestRule(
            HTTPRequestRule(action: parsed, condition: condition.value, location: line.location),
            line, &draft, &sink)
    }

    /// Appends the rule; HAProxy warns when an earlier unconditional final rule (deny, allow, redirect) means it
    /// can never run.
    private static func appendRequestRule(
        _ rule: HTTPRequestRule, _ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        if draft.httpRequestRules.contains(where: { $0.action.isFinal && $0.condition == nil }) {
            sink.warning(
                "previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
                line)
        }
        draft.httpRequestRules.append(rule)
    }

    /// `use-service prometheus-exporter if { path /PATH }`: the one service Portico serves; not an
    /// ``HTTPRequestRule``.
    private static func parsePrometheusExporter(
        _ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        guard line.word(2) == "prometheus-exporter" else {
            sink.alert("'http-request use-service \(line.word(2) ?? "")' is not supported yet by Portico", line)
            return
        }
        let condition = Array(line.words.dropFirst(3))
        // Only the form HAProxy's documentation uses: `if { path /metrics }`.
        guard condition.count == 5, condition[0] == "if", condition[1] == "{", condition[2] == "path",
            condition[4] == "}", condition[3].hasPrefix("/")
        else {
            sink.alert(
                "'http-request use-service prometheus-exporter' is only supported by Portico with the condition "
                    + "'if { path /PATH }' (got '\(condition.joined(separator: " "))').", line)
            return
        }
        draft.prometheusExporterPath = condition[3]
        draft.prometheusExporterRuleIndex = draft.httpRequestRules.count
    }

    // MARK: - http-response

    static func parseHTTPResponse(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        guard isHTTPRuleAllowed("http-response", draft, line, &sink) else { return }
        let action = line.word(1) ?? ""
        guard isKnownAction(action, "http-response", httpResponseActionNames, line, &sink) else { return }
        let parsed: HTTPResponseAction?
        var rest = line.words.dropFirst(2)
        switch action {
        case "set-header", "add-header", "del-header":
            parsed = headerEdit(action, "http-response", &rest, line, draft, &sink).map(HTTPResponseAction.init)
        default:
            sink.alert("'http-response \(action)' is not supported yet by Portico", line)
            return
        }
        guard let parsed,
            let condition = ruleCondition("http-response \(action)", rest, line, draft, &sink)
        else { return }
        if let fetch = condition.value?.firstRequestFetch {
            // HAProxy could evaluate response fetches here; Portico's conditions only know the request, which is
            // gone by the time the response arrives, so only connection facts (src, dst, ...) can be tested.
            sink.alert(
                "'http-response \(action)' condition uses fetch method '\(fetch.keyword)' (\(fetch.source)): only "
                    + "connection-level fetches such as 'src' are supported yet by Portico in 'http-response' "
                    + "conditions.", line)
            return
        }
        draft.httpResponseRules.append(
            HTTPResponseRule(action: parsed, condition: condition.value, location: line.location))
    }

    // MARK: - Shared pieces

    /// HAProxy 2.6 refuses http rules in an anonymous `defaults` section; a named one may carry rules for the
    /// proxies that inherit it (`from NAME`), which Portico does not do yet.
    private static func isHTTPRuleAllowed(
        _ keyword: String, _ draft: ProxyDraft, _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) -> Bool {
        guard draft.kind == .defaults else { return true }
        if draft.name.isEmpty {
            sink.alert("'\(keyword)' not allowed in anonymous 'defaults' section.", line)
        } else {
            sink.alert("'\(keyword)' rules in a named 'defaults' section are not supported yet by Portico", line)
        }
        return false
    }

    /// Reports HAProxy's alert for a missing or unknown action (with a "did you mean"), and Portico's for a known
    /// action whose suffixed form (`track-sc0`, `set-var(txn.x)`) or `lua.*` it does not run.
    private static func isKnownAction(
        _ action: String, _ keyword: String, _ names: [String], _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) -> Bool {
        if names.contains(action) { return true }
        let prefixes = names.filter { $0.hasSuffix("(*)") }.map { String($0.dropLast(3)) }
        if prefixes.contains(where: { action.hasPrefix($0) }) || action.hasPrefix("lua.") {
            sink.alert("'\(keyword) \(action)' is not supported yet by Portico", line)
            return false
        }
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        if action.isEmpty {
            sink.alert("'\(keyword)' expects \(list), but got '' (missing argument).", line)
            return false
        }
        let candidates = names.map { $0.hasSuffix("(*)") ? String($0.dropLast(3)) : $0 }
        let suggestion = Suggestion.closest(to: action, in: candidates).map { " Did you mean '\($0)' maybe ?" } ?? ""
        sink.alert("'\(keyword)' expects \(list), but got '\(action)'.\(suggestion)", line)
        return false
    }

    /// `frontend 'f'`, `backend 'b'`, `proxy 'l'`: how HAProxy names the section in "error detected in ..." alerts.
    private static func proxyTitle(_ draft: ProxyDraft) -> String {
        "\(draft.kind == .listen ? "proxy" : draft.kind.rawValue) '\(draft.name)'"
    }

    private static func ruleError(
        _ rule: String, _ message: String, _ line: ConfigLine, _ draft: ProxyDraft, _ sink: inout DiagnosticSink
    ) {
        sink.alert("error detected in \(proxyTitle(draft)) while parsing '\(rule)' rule : \(message)", line)
    }

    /// A rule's condition once accepted; `value` nil: the rule has none.
    private struct ParsedCondition {
        var value: Condition?
    }

    /// The optional `if|unless CONDITION` after an action's arguments. nil: the line was refused; `.value` nil:
    /// no condition.
    private static func ruleCondition(
        _ rule: String, _ rest: ArraySlice<String>, _ line: ConfigLine, _ draft: ProxyDraft,
        _ sink: inout DiagnosticSink
    ) -> ParsedCondition? {
        guard let keyword = rest.first else { return ParsedCondition(value: nil) }
        guard keyword == "if" || keyword == "unless" else {
            sink.alert(
                "'\(rule)' expects either 'if' or 'unless' followed by a condition but found '\(keyword)'.", line)
            return nil
        }
        switch ACLParser.condition(rest.dropFirst(), isUnless: keyword == "unless", acls: draft.acls) {
        case .failure(let error):
            sink.alert("error detected while parsing an '\(rule)' condition : \(sentence(error.message))", line)
            return nil
        case .success(let condition):
            emptyConditionWarning(rule, condition, line, &sink)
            return ParsedCondition(value: condition)
        }
    }

    private static func emptyConditionWarning(
        _ rule: String, _ condition: Condition, _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) {
        guard condition.alternatives.isEmpty else { return }
        // HAProxy accepts an empty condition; it never matches after 'if' and always after 'unless'.
        sink.warning(
            "'\(rule) \(condition.isUnless ? "unless" : "if")' has an empty condition: the rule "
                + (condition.isUnless ? "always applies." : "never applies."), line)
    }

    private static func sentence(_ message: String) -> String {
        message.hasSuffix("?") || message.hasSuffix(".") ? message : message + "."
    }

    /// `deny [deny_status <code>]`, or HAProxy 2.6's reply form `deny [status <code>] [default-errorfiles]`: the
    /// status, 403 by default. Consumes its words.
    private static func denyStatus(
        _ rest: inout ArraySlice<String>, _ line: ConfigLine, _ draft: ProxyDraft, _ sink: inout DiagnosticSink
    ) -> Int? {
        var status = 403
        // The legacy `deny_status` comes alone and first; the reply words after it are not read (as in HAProxy).
        let isLegacy = rest.first == "deny_status"
        var seen: Set<String> = []
        while let word = rest.first, !seen.contains(word) {
            switch word {
            case "deny_status" where isLegacy && seen.isEmpty, "status" where !isLegacy:
                seen.insert(word)
                rest = rest.dropFirst()
                guard let text = rest.first else {
                    ruleError("http-request deny", "'status' expects <status_code> as argument.", line, draft, &sink)
                    return nil
                }
                rest = rest.dropFirst()
                guard let code = deniedStatus(text, line, draft, &sink) else { return nil }
                status = code
                if isLegacy { return status }
            case "default-errorfiles" where !isLegacy:
                // The built-in pages (or the section's errorfile): what deny does anyway.
                seen.insert(word)
                rest = rest.dropFirst()
            case "content-type", "errorfile", "errorfiles", "file", "lf-file", "string", "lf-string", "hdr":
                sink.alert(
                    "'http-request deny \(word)' is not supported yet by Portico (only 'deny_status <code>')", line)
                return nil
            default:
                return status
            }
        }
        return status
    }

    /// A deny status: one HAProxy has a built-in error page for.
    private static func deniedStatus(
        _ text: String, _ line: ConfigLine, _ draft: ProxyDraft, _ sink: inout DiagnosticSink
    ) -> Int? {
        // HAProxy reads the code with atoi: text that is not a number is code 0.
        let code = Values.integer(text) ?? 0
        guard (200...599).contains(code) else {
            ruleError("http-request deny", "Unexpected status code '\(code)'.", line, draft, &sink)
            return nil
        }
        guard ErrorFile.replaceableCodes.contains(code) else {
            ruleError(
                "http-request deny", "status code '\(code)' not handled by default with 'default-errorfiles' argument.",
                line, draft, &sink)
            return nil
        }
        return code
    }

    /// `set-header` / `add-header <name> <value>` or `del-header <name>`, the same in requests and responses.
    private static func headerEdit(
        _ action: String, _ keyword: String, _ rest: inout ArraySlice<String>, _ line: ConfigLine,
        _ draft: ProxyDraft, _ sink: inout DiagnosticSink
    ) -> HeaderEdit? {
        if action == "del-header" { return deletedHeader(keyword, &rest, line, draft, &sink).map { .delete(name: $0) } }
        return headerWithValue(action, keyword, &rest, line, draft, &sink).map {
            action == "set-header" ? .set(name: $0.name, value: $0.value) : .add(name: $0.name, value: $0.value)
        }
    }

    private static func headerWithValue(
        _ action: String, _ keyword: String, _ rest: inout ArraySlice<String>, _ line: ConfigLine,
        _ draft: ProxyDraft, _ sink: inout DiagnosticSink
    ) -> (name: String, value: LogFormat)? {
        let rule = "\(keyword) \(action)"
        let words = Array(rest.prefix(2))
        guard words.count == 2, !words[0].isEmpty, !words[1].isEmpty else {
            ruleError(rule, "expects exactly 2 arguments.", line, draft, &sink)
            return nil
        }
        rest = rest.dropFirst(2)
        guard changesFraming(words[0], rule, line, &sink) == false else { return nil }
        switch LogFormat.parse(words[1], inResponse: keyword == "http-response") {
        case .success(let value):
            return (words[0], value)
        case .failure(.malformed(let message)):
            ruleError(rule, message, line, draft, &sink)
        case .failure(.unsupported(let message)):
            sink.alert("'\(rule)': \(message)", line)
        }
        return nil
    }

    /// A rule on Content-Length or Transfer-Encoding would make the message's framing disagree with its body:
    /// request smuggling or response splitting. HAProxy 2.6 lets such rules through; Portico refuses them.
    private static func changesFraming(
        _ name: String, _ rule: String, _ line: ConfigLine, _ sink: inout DiagnosticSink
    ) -> Bool {
        let lowered = name.lowercased()
        guard lowered == "content-length" || lowered == "transfer-encoding" else { return false }
        sink.alert(
            "'\(rule)' on '\(name)' is refused by Portico: it would change how the message's body is delimited "
                + "(request smuggling, response splitting).", line)
        return true
    }

    /// `del-header <name> [-m str]`. Consumes its words.
    private static func deletedHeader(
        _ keyword: String, _ rest: inout ArraySlice<String>, _ line: ConfigLine, _ draft: ProxyDraft,
        _ sink: inout DiagnosticSink
    ) -> String? {
        let rule = "\(keyword) del-header"
        guard let name = rest.first, !name.isEmpty else {
            ruleError(rule, "expects at least 1 argument.", line, draft, &sink)
            return nil
        }
        rest = rest.dropFirst()
        if changesFraming(name, rule, line, &sink) { return nil }
        guard rest.first == "-m" else { return name }
        rest = rest.dropFirst()
        guard let method = rest.first else {
            ruleError(rule, "-m flag expects exactly 1 argument.", line, draft, &sink)
            return nil
        }
        rest = rest.dropFirst()
        switch method {
        case "str":
            // The default: the whole name, case-insensitively.
            return name
        case "beg", "end", "sub", "reg":
            sink.alert("'\(rule) -m \(method)' is not supported yet by Portico (only '-m str')", line)
        default:
            ruleError(rule, "-m with unsupported matching method '\(method)'.", line, draft, &sink)
        }
        return nil
    }

    /// A redirect's log-format value, which Portico takes as plain text only: `%%` is a `%`; any other `%` directive
    /// (`%[src]`, `%ci`) is refused.
    static func literalValue(
        _ text: String, _ rule: String, _ line: ConfigLine, _ draft: ProxyDraft, _ sink: inout DiagnosticSink
    ) -> String? {
        let truncated = "truncated line after '%'."
        switch LogFormat.parse(text) {
        case .success(let format):
            if let literal = format.literalText { return literal }
        case .failure(.malformed(truncated)):
            ruleError(rule, truncated, line, draft, &sink)
            return nil
        case .failure:
            break
        }
        sink.alert("'\(rule)': log-format value '\(text)' is not supported yet by Portico (only literal values)", line)
        return nil
    }

    // MARK: - redirect

    /// `redirect location|prefix|scheme <value> [code <c>] [drop-query] [append-slash] [if|unless <cond>]`, the
    /// options in any order (a later target replaces an earlier one, as in HAProxy).
    private static func parseRedirect(_ line: ConfigLine, _ draft: inout ProxyDraft, _ sink: inout DiagnosticSink) {
        let rule = "http-request redirect"
        var target: RedirectTarget?
        var code = 302
        var dropQuery = false
        var appendSlash = false
        var condition: Condition?
        var rest = line.words.dropFirst(2)
        while let word = rest.first {
            rest = rest.dropFirst()
            switch word {
            case "location", "prefix", "scheme", "code", "set-cookie", "clear-cookie":
                guard let argument = rest.first, !argument.isEmpty else {
                    ruleError(rule, "missing argument for '\(word)'.", line, draft, &sink)
                    return
                }
                rest = rest.dropFirst()
                switch word {
                case "location", "prefix", "scheme":
                    guard let value = literalValue(argument, rule, line, draft, &sink) else { return }
                    target = word == "location" ? .location(value) : word == "prefix" ? .prefix(value) : .scheme(value)
                case "code":
                    guard let number = Values.integer(argument), [301, 302, 303, 307, 308].contains(number) else {
                        ruleError(
                            rule,
                            "'code': unsupported HTTP code '\(argument)' (must be one of 301, 302, 303, 307 or 308).",
                            line, draft, &sink)
                        return
                    }
                    code = number
                default:
                    sink.alert("'\(rule) ... \(word)' is not supported yet by Portico", line)
                    return
                }
            case "drop-query":
                dropQuery = true
            case "append-slash":
                appendSlash = true
            case "ignore-empty":
                sink.alert("'\(rule) ... ignore-empty' is not supported yet by Portico", line)
                return
            case "if", "unless":
                switch ACLParser.condition(rest, isUnless: word == "unless", acls: draft.acls) {
                case .failure(let error):
                    ruleError(rule, "error in condition: \(sentence(error.message))", line, draft, &sink)
                    return
                case .success(let parsed):
                    emptyConditionWarning(rule, parsed, line, &sink)
                    condition = parsed
                }
                rest = []
            default:
                ruleError(
                    rule,
                    "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', "
                        + "'ignore-empty' or 'append-slash' (was '\(word)').", line, draft, &sink)
                return
            }
        }
        guard let target else {
            ruleError(rule, "redirection type expected ('prefix', 'location', or 'scheme').", line, draft, &sink)
            return
        }
        let redirect = Redirect(target: target, code: code, dropQuery: dropQuery, appendSlash: appendSlash)
        appendRequestRule(
            HTTPRequestRule(action: .redirect(redirect), condition: condition, location: line.location), line, &draft,
            &sink)
    }
}
