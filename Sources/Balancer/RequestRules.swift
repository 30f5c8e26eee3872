import HAProxyConfig
import NIOCore
import NIOHTTP1

/// What `acl` conditions look at: the request head (none in `mode tcp`) and the client's address.
struct RequestSubject: ACLSubject {
    let head: HTTPRequestHead?
    let sourceAddress: [UInt8]?

    var method: String { self.head?.method.rawValue ?? "" }
    var target: String { self.head?.uri ?? "" }

    func fieldValues(named name: String) -> [String] { self.head?.headers[name] ?? [] }
}

/// What a section's `http-request` rules decided for a request.
enum RequestRuleOutcome: Equatable {
    /// Go on (to routing, the next section's rules, the server), with the head as the rules left it.
    case proceed
    /// `deny`: Portico answers with this status's page (HAProxy logs `PR--`).
    case deny(status: Int)
    /// `redirect`: Portico answers with this status and Location (HAProxy logs `LR--`).
    case redirect(status: Int, location: String)
}

enum RequestRules {
    /// Runs one section's rules in order on `head`: header rules change it (and what later conditions see);
    /// `allow` ends the section's rules; `deny` and `redirect` end the request's processing.
    static func apply(_ rules: [HTTPRequestRule], to head: inout HTTPRequestHead, source: [UInt8]?)
        -> RequestRuleOutcome
    {
        for rule in rules {
            if let condition = rule.condition, !condition.matches(RequestSubject(head: head, sourceAddress: source)) {
                continue
            }
            switch rule.action {
            case .allow:
                return .proceed
            case .deny(let status):
                return .deny(status: status)
            case .redirect(let redirect):
                return .redirect(status: redirect.code, location: redirect.location(for: head))
            case .setHeader, .addHeader, .deleteHeader:
                // A value's samples (`%[src]`, `%[req.hdr(host)]`) are read from the head as the earlier rules left it.
                if let edit = rule.action.headerEdit {
                    head.headers.apply(edit, subject: RequestSubject(head: head, sourceAddress: source))
                }
            }
        }
        return .proceed
    }

    /// Runs `http-response` header rules on a server's response head.
    static func apply(_ rules: [HTTPResponseRule], to head: inout HTTPResponseHead, subject: RequestSubject) {
        for rule in rules {
            if let condition = rule.condition, !condition.matches(subject) { continue }
            head.headers.apply(rule.action.headerEdit, subject: subject)
        }
    }

    /// The response head Portico sends for a `deny` or `redirect`, as HAProxy 2.6 writes it: status line in
    /// HTTP/1.1, `content-length`, then (redirects) `location` and, for temporary ones, `cache-control: no-cache`
    /// (deny pages: `cache-control` and `content-type`); `connection: close` when the connection ends after it.
    static func answerHead(_ outcome: RequestRuleOutcome, bodyLength: Int, closing: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        let code: Int
        switch outcome {
        case .proceed:
            code = 200
        case .deny(let status):
            code = status
            headers.add(name: "content-length", value: String(bodyLength))
            headers.add(name: "cache-control", value: "no-cache")
            headers.add(name: "content-type", value: "text/html")
        case .redirect(let status, let location):
            code = status
            headers.add(name: "content-length", value: "0")
            headers.add(name: "location", value: location)
            // Permanent redirects (301, 308) may be cached; HAProxy marks the others no-cache.
            if status != 301, status != 308 { headers.add(name: "cache-control", value: "no-cache") }
        }
        if closing { headers.add(name: "connection", value: "close") }
        return HTTPResponseHead(
            version: .http1_1, status: .custom(code: UInt(code), reasonPhrase: BuiltInPage.reason(code)),
            headers: headers)
    }
}

extension Redirect {
    /// The Location for `head`, as HAProxy builds it: `location` as written; `prefix` before the request's path
    /// and query (a prefix of `/` adds nothing); `scheme` with the request's Host. `drop-query` removes the query;
    /// `append-slash` adds `/` to a path that lacks one.
    ///
    /// Deliberate difference: HAProxy 2.6 appends that slash after the query string (`/a?k=1/`); Portico puts it
    /// at the end of the path (`/a/?k=1`), which is what the option is for.
    func location(for head: HTTPRequestHead) -> String {
        switch self.target {
        case .location(let location):
            return location
        case .prefix(let prefix):
            return (prefix == "/" ? "" : prefix) + self.pathAndQuery(head.uri)
        case .scheme(let scheme):
            let host = head.headers.first(name: "host") ?? ""
            return scheme + "://" + host + self.pathAndQuery(head.uri)
        }
    }

    private func pathAndQuery(_ target: String) -> String {
        var target = Substring(target)
        // Absolute form (`http://h/p?q`): from the path on.
        if let scheme = target.range(of: "://") {
            let rest = target[scheme.upperBound...]
            target = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        var path = target
        var query: Substring = ""
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = target[mark...]
        }
        if self.dropQuery { query = "" }
        let slash = self.appendSlash && !path.hasSuffix("/") ? "/" : ""
        return String(path) + slash + String(query)
    }
}

extension HTTPHeaders {
    /// `set-header` (every field of the name replaced by one), `add-header`, `del-header`; a value's log-format
    /// directives are rendered for `subject` (a literal value does not look at it).
    mutating func apply(_ edit: HeaderEdit, subject: RequestSubject) {
        switch edit {
        case .set(let name, let value): self.replaceOrAdd(name: name, value: value.render(subject))
        case .add(let name, let value): self.add(name: name, value: value.render(subject))
        case .delete(let name): self.remove(name: name)
        }
    }
}
