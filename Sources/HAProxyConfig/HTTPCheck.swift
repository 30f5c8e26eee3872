/// `option httpchk [METHOD] [URI] [VERSION]` plus `http-check send` / `http-check expect` of a backend.
///
/// HAProxy defaults: `OPTIONS / HTTP/1.0`, no extra header, and without `http-check expect` a 2xx or 3xx status
/// is a passing check.
public struct HTTPCheck: Sendable, Equatable {
    public var method: String
    public var uri: String
    public var version: String
    /// `http-check send hdr NAME VALUE`, in order.
    public var headers: [HTTPCheckHeader]
    /// `http-check send body TEXT`; nil: no body.
    public var body: String?
    /// `http-check expect ...`; nil: any 2xx or 3xx status passes.
    public var expect: HTTPCheckExpectation?

    public init(
        method: String = "OPTIONS", uri: String = "/", version: String = "HTTP/1.0", headers: [HTTPCheckHeader] = [],
        body: String? = nil, expect: HTTPCheckExpectation? = nil
    ) {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.body = body
        self.expect = expect
    }

    /// Whether a check response passes, given its status code and (for `string` expectations) body.
    public func passes(status: Int, body: String = "") -> Bool {
        guard let expect else { return (200...399).contains(status) }
        return expect.matches(status: status, body: body)
    }
}

public struct HTTPCheckHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// `http-check expect [!] status CODE[,CODE...] | rstatus REGEX | string TEXT`.
public struct HTTPCheckExpectation: Sendable, Equatable {
    public enum Match: Sendable, Equatable {
        /// `status 200`, `status 200,204`, `status 200-399`.
        case status([ClosedRange<Int>])
        /// `rstatus REGEX` matched against the three-digit status code text.
        case statusRegex(String)
        /// `string TEXT`: the body contains TEXT.
        case bodyContains(String)
    }

    public var match: Match
    /// `!`: the check passes when the match fails.
    public var negated: Bool

    public init(match: Match, negated: Bool = false) {
        self.match = match
        self.negated = negated
    }

    public func matches(status: Int, body: String) -> Bool {
        let matched: Bool
        switch match {
        case .status(let ranges):
            matched = ranges.contains { $0.contains(status) }
        case .statusRegex(let pattern):
            matched = (try? Regex(pattern)).map { String(status).contains($0) } ?? false
        case .bodyContains(let text):
            matched = body.contains(text)
        }
        return matched != negated
    }
}
