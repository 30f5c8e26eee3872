/// A problem in an ACL expression or a condition, worded as HAProxy words it (without the
/// "error detected while parsing ..." prefix, which depends on where the expression was written).
struct ACLParseError: Error, Equatable {
    var message: String
}

/// A parsed ACL expression and HAProxy's warning about it, if any.
struct ParsedACLExpression {
    var expression: ACLExpression
    var warning: String?
}

/// Parses `acl` lines and `if` / `unless` conditions (HAProxy configuration manual 7.1, 7.2 and 7.4).
enum ACLParser {
    /// What a supported fetch reads, and the matching method its name implies.
    private struct FetchKind {
        enum Base { case path, url, method, header, headerCount, headerInteger, source, alwaysTrue, alwaysFalse }
        var base: Base
        var method: ACLMatchMethod
    }

    private static let fetchKinds: [String: FetchKind] = {
        var kinds: [String: FetchKind] = [
            "method": FetchKind(base: .method, method: .str),
            "hdr_cnt": FetchKind(base: .headerCount, method: .int),
            "req.hdr_cnt": FetchKind(base: .headerCount, method: .int),
            "hdr_val": FetchKind(base: .headerInteger, method: .int),
            "req.hdr_val": FetchKind(base: .headerInteger, method: .int),
            "req.hdr": FetchKind(base: .header, method: .str),
            "src": FetchKind(base: .source, method: .ip),
            "always_true": FetchKind(base: .alwaysTrue, method: .bool),
            "always_false": FetchKind(base: .alwaysFalse, method: .bool),
        ]
        let declinations: [(String, ACLMatchMethod)] = [
            ("", .str), ("_beg", .beg), ("_end", .end), ("_sub", .sub), ("_dir", .dir), ("_dom", .dom),
            ("_reg", .reg), ("_len", .len),
        ]
        for (base, name) in [(FetchKind.Base.path, "path"), (.url, "url"), (.header, "hdr")] {
            for (suffix, method) in declinations { kinds[name + suffix] = FetchKind(base: base, method: method) }
        }
        return kinds
    }()

    /// The fetch names Portico implements, for "did you mean".
    static var supportedFetches: [String] { fetchKinds.keys.sorted() }

    // MARK: - Expressions

    /// `<fetch>[(<args>)] [-i] [-m <method>] [-n] [--] [<value> ...]`.
    static func expression(_ words: ArraySlice<String>) -> Result<ParsedACLExpression, ACLParseError> {
        guard let fetchWord = words.first, !fetchWord.isEmpty else {
            return .failure(ACLParseError(message: "missing fetch method in ACL expression ''"))
        }
        let name = String(fetchWord.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        let rest = fetchWord.dropFirst(name.count)
        guard let kind = fetchKinds[name] else {
            if HAProxyFetches.names.contains(name) {
                return .failure(ACLParseError(message: "'\(name)' is not supported yet by Portico"))
            }
            var message = "unknown fetch method '\(name.isEmpty ? fetchWord : name)' in ACL expression '\(fetchWord)'"
            if let suggestion = Suggestion.closest(to: name, in: fetchKinds.keys) {
                message += "; did you mean '\(suggestion)'?"
            }
            return .failure(ACLParseError(message: message))
        }
        let fetch: ACLFetch
        switch arguments(rest, keyword: name) {
        case .failure(let error): return .failure(error)
        case .success(let arguments):
            switch makeFetch(kind.base, keyword: name, arguments: arguments) {
            case .failure(let error): return .failure(error)
            case .success(let made): fetch = made
            }
        }

        var warning: String?
        let values = words.dropFirst()
        if values.isEmpty, kind.method != .bool {
            warning =
                "parsing acl keyword '\(name)' : no pattern to match against were provided, so this ACL will never "
                + "match. If this is what you intended, please add '--' to get rid of this warning. If you intended "
                + "to match only for existence, please use '-m found'."
        }

        var method = kind.method
        var ignoreCase = false
        var index = values.startIndex
        while index < values.endIndex, values[index].hasPrefix("-") {
            let flag = values[index]
            index += 1
            if flag == "--" { break }
            switch flag {
            case "-i":
                ignoreCase = true
            case "-n":
                // No DNS resolution: Portico never resolves names in patterns anyway.
                break
            case "-m":
                let methodName = index < values.endIndex ? values[index] : ""
                index += 1
                guard let chosen = ACLMatchMethod(rawValue: methodName) else {
                    return .failure(
                        ACLParseError(message: "unknown matching method '\(methodName)' when parsing ACL expression"))
                }
                guard allowed(chosen, on: kind.base) else {
                    return .failure(
                        ACLParseError(
                            message: "matching method '\(chosen.rawValue)' on fetch '\(name)' is not supported yet "
                                + "by Portico"))
                }
                method = chosen
            case "-f", "-M", "-u":
                return .failure(ACLParseError(message: "ACL flag '\(flag)' is not supported yet by Portico"))
            default:
                return .failure(
                    ACLParseError(
                        message: "'\(flag)' is not a valid ACL option. Please use '--' before any pattern beginning "
                            + "with a '-'"))
            }
        }

        switch patterns(Array(values[index...]), method: method, ignoreCase: ignoreCase) {
        case .failure(let error):
            return .failure(error)
        case .success(let patterns):
            let expression = ACLExpression(
                keyword: name, fetch: fetch, method: method, ignoreCase: ignoreCase, patterns: patterns)
            return .success(ParsedACLExpression(expression: expression, warning: warning))
        }
    }

    /// The words inside `(...)` after a fetch name; converters (`,lower`) are refused.
    private static func arguments(_ rest: Substring, keyword: String) -> Result<[String], ACLParseError> {
        if rest.isEmpty { return .success([]) }
        if rest.hasPrefix(",") {
            return .failure(ACLParseError(message: "converters ('\(rest)') are not supported yet by Portico"))
        }
        guard rest.hasPrefix("("), let close = rest.firstIndex(of: ")") else {
            return .failure(ACLParseError(message: "ACL keyword '\(keyword)' : expected ')' in '\(keyword)\(rest)'"))
        }
        let after = rest[rest.index(after: close)...]
        if after.hasPrefix(",") {
            return .failure(ACLParseError(message: "converters ('\(after)') are not supported yet by Portico"))
        }
        guard after.isEmpty else {
            return .failure(ACLParseError(message: "ACL keyword '\(keyword)' : unexpected '\(after)' after ')'"))
        }
        let inside = rest[rest.index(after: rest.startIndex)..<close]
        if inside.isEmpty { return .success([]) }
        return .success(inside.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
    }

    private static func makeFetch(
        _ base: FetchKind.Base, keyword: String, arguments: [String]
    ) -> Result<ACLFetch, ACLParseError> {
        let simple: ACLFetch?
        switch base {
        case .path: simple = .path
        case .url: simple = .url
        case .method: simple = .method
        case .source: simple = .source
        case .alwaysTrue: simple = .constant(true)
        case .alwaysFalse: simple = .constant(false)
        case .header, .headerCount, .headerInteger: simple = nil
        }
        if let simple {
            guard let first = arguments.first else { return .success(simple) }
            return .failure(ACLParseError(message: "ACL keyword '\(keyword)' : expected ')' before '\(first))'"))
        }
        guard let header = arguments.first, !header.isEmpty else {
            return .failure(
                ACLParseError(
                    message: "'\(keyword)' without a header name is not supported yet by Portico (HAProxy then "
                        + "reads every header field)"))
        }
        let name = header.lowercased()
        let maximum = base == .header ? 2 : 1
        guard arguments.count <= maximum else {
            return .failure(ACLParseError(message: "ACL keyword '\(keyword)' : end of arguments expected"))
        }
        switch base {
        case .headerCount: return .success(.headerCount(name: name))
        case .headerInteger: return .success(.headerInteger(name: name))
        default:
            guard arguments.count == 2 else { return .success(.header(name: name, occurrence: nil)) }
            guard let occurrence = Values.signedInteger(arguments[1]) else {
                return .failure(
                    ACLParseError(
                        message: "in argument to '\(keyword)', occurrence '\(arguments[1])' is not an integer"))
            }
            return .success(.header(name: name, occurrence: occurrence))
        }
    }

    /// The `-m` methods Portico implements for each kind of sample.
    private static func allowed(_ method: ACLMatchMethod, on base: FetchKind.Base) -> Bool {
        switch base {
        case .path, .url, .method, .header:
            return [.found, .str, .beg, .end, .sub, .dir, .dom, .reg, .len, .ip].contains(method)
        case .headerCount, .headerInteger:
            return [.found, .int, .bool].contains(method)
        case .source:
            return [.found, .ip].contains(method)
        case .alwaysTrue, .alwaysFalse:
            return [.found, .bool].contains(method)
        }
    }

    private static func patterns(
        _ values: [String], method: ACLMatchMethod, ignoreCase: Bool
    ) -> Result<[ACLPattern], ACLParseError> {
        var patterns: [ACLPattern] = []
        // Integer operators apply to the values after them (HAProxy 7.1.2).
        var comparison = "eq"
        for value in values {
            switch method {
            case .found, .bool:
                // HAProxy ignores values here.
                continue
            case .str, .beg, .end, .sub, .dir, .dom:
                patterns.append(.string(Array(value.utf8)))
            case .reg:
                do {
                    patterns.append(.regex(try ACLRegex(value, ignoreCase: ignoreCase)))
                } catch {
                    return .failure(ACLParseError(message: "regex '\(value)' is invalid (\(error))"))
                }
            case .ip:
                guard let network = Values.network(value) else {
                    return .failure(ACLParseError(message: "'\(value)' is not a valid IPv4 or IPv6 address"))
                }
                patterns.append(.network(network))
            case .int, .len:
                if ["eq", "ge", "gt", "le", "lt"].contains(value) {
                    comparison = value
                    continue
                }
                guard let range = integerRange(value, comparison: comparison) else {
                    let message =
                        comparison == "eq"
                        ? "'\(value)' is not a number" : "'\(value)' is neither a number nor a supported operator"
                    return .failure(ACLParseError(message: message))
                }
                patterns.append(.range(range))
            case .bin:
                return .failure(ACLParseError(message: "matching method 'bin' is not supported yet by Portico"))
            }
        }
        return .success(patterns)
    }

    private static func integerRange(_ text: String, comparison: String) -> ACLIntegerRange? {
        if text.contains(":") {
            let bounds = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let low = bounds[0].isEmpty ? nil : Values.signedInteger(String(bounds[0]))
            let high = bounds[1].isEmpty ? nil : Values.signedInteger(String(bounds[1]))
            if (!bounds[0].isEmpty && low == nil) || (!bounds[1].isEmpty && high == nil) { return nil }
            return ACLIntegerRange(minimum: low, maximum: high)
        }
        guard let value = Values.signedInteger(text) else { return nil }
        switch comparison {
        case "ge": return ACLIntegerRange(minimum: value, maximum: nil)
        case "gt":
            let (next, overflow) = value.addingReportingOverflow(1)
            return overflow ? ACLIntegerRange(minimum: Int.max, maximum: Int.min) : ACLIntegerRange(minimum: next)
        case "le": return ACLIntegerRange(minimum: nil, maximum: value)
        case "lt": return ACLIntegerRange(minimum: nil, maximum: value - 1)
        default: return ACLIntegerRange(minimum: value, maximum: value)
        }
    }

    // MARK: - Predefined ACLs

    /// HAProxy's predefined ACLs (configuration manual 7.4) that Portico can evaluate.
    static let predefined: [String: ACL] = {
        let definitions: [String: [String]] = [
            "TRUE": ["always_true"],
            "FALSE": ["always_false"],
            // req.proto_http: true for every request that was parsed as HTTP, false on a TCP connection.
            "HTTP": ["method", "-m", "found"],
            "HTTP_CONTENT": ["req.hdr_val(content-length)", "gt", "0"],
            "HTTP_URL_ABS": ["url_reg", "^[^/:]*://"],
            "HTTP_URL_SLASH": ["url_beg", "/"],
            "HTTP_URL_STAR": ["url", "*"],
            "LOCALHOST": ["src", "127.0.0.1/8", "::1"],
            "METH_CONNECT": ["method", "CONNECT"],
            "METH_DELETE": ["method", "DELETE"],
            "METH_GET": ["method", "GET", "HEAD"],
            "METH_HEAD": ["method", "HEAD"],
            "METH_OPTIONS": ["method", "OPTIONS"],
            "METH_POST": ["method", "POST"],
            "METH_PUT": ["method", "PUT"],
            "METH_TRACE": ["method", "TRACE"],
        ]
        var acls: [String: ACL] = [:]
        for (name, words) in definitions {
            guard case .success(let parsed) = expression(words[...]) else { continue }
            var expression = parsed.expression
            if name == "HTTP" { expression.keyword = "req.proto_http" }
            acls[name] = ACL(name: name, expressions: [expression])
        }
        return acls
    }()

    /// Predefined ACLs whose fetch Portico does not implement (the request's HTTP version, the raw buffer).
    static let unsupportedPredefined: Set<String> = [
        "HTTP_1.0", "HTTP_1.1", "HTTP_2.0", "RDP_COOKIE", "REQ_CONTENT", "WAIT_END",
    ]

    // MARK: - Conditions

    /// The words after `if` / `unless`, with the section's ACLs declared so far (`acls`).
    static func condition(
        _ words: ArraySlice<String>, isUnless: Bool, acls: [String: ACL]
    ) -> Result<Condition, ACLParseError> {
        var alternatives: [[ConditionTerm]] = []
        var current: [ConditionTerm] = []
        var negated = false
        var index = words.startIndex
        while index < words.endIndex {
            var word = Substring(words[index])
            index += 1
            // As in HAProxy: every '!' flips the negation, and a lone '!' applies to the next word.
            while word.hasPrefix("!") {
                negated.toggle()
                word = word.dropFirst()
            }
            if word.isEmpty { continue }
            if word.lowercased() == "or" || word == "||" {
                if !current.isEmpty { alternatives.append(current) }
                current = []
                negated = false
                continue
            }
            let term: ConditionTerm
            if word == "{" {
                guard let close = words[index...].firstIndex(of: "}") else {
                    return .failure(ACLParseError(message: "missing closing '}' in condition"))
                }
                switch expression(words[index..<close]) {
                case .failure(let error):
                    return .failure(error)
                case .success(let parsed):
                    term = ConditionTerm(
                        acl: ACL(name: "", expressions: [parsed.expression]), isNegated: negated, isDeclared: false)
                }
                index = close + 1
            } else if let acl = acls[String(word)] {
                term = ConditionTerm(acl: acl, isNegated: negated, isDeclared: true)
            } else if let acl = predefined[String(word)] {
                term = ConditionTerm(acl: acl, isNegated: negated, isDeclared: false)
            } else if unsupportedPredefined.contains(String(word)) {
                return .failure(ACLParseError(message: "predefined ACL '\(word)' is not supported yet by Portico"))
            } else {
                return .failure(ACLParseError(message: "no such ACL : '\(word)'"))
            }
            current.append(term)
            negated = false
        }
        if !current.isEmpty { alternatives.append(current) }
        let text = ([isUnless ? "unless" : "if"] + words).joined(separator: " ")
        return .success(Condition(isUnless: isUnless, text: text, alternatives: alternatives))
    }
}
