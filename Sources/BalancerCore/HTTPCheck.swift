/// `option httpchk [METHOD] [URI] [VERSION]` plus `http-check send hdr NAME VALUE ... [body STRING]`:
/// the request a health check sends.
public struct HTTPCheckRequest: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// HAProxy's default is `OPTIONS / HTTP/1.0` (a bare `option httpchk`).
    public var method: String
    public var uri: String
    public var version: String
    public var headers: [Header]
    public var body: String?

    /// - Parameter version: may carry the deprecated trailing headers of old configurations
    ///   (`option httpchk HEAD / HTTP/1.1\r\nHost:\ www` once unescaped): like HAProxy 2.6, they are
    ///   split off and sent as ordinary headers, before those of `http-check send`.
    public init(
        method: String = "OPTIONS",
        uri: String = "/",
        version: String = "HTTP/1.0",
        headers: [Header] = [],
        body: String? = nil
    ) {
        let lines = version.split(separator: "\r\n", omittingEmptySubsequences: true)
        var legacy: [Header] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingSpaces
            let value = line[line.index(after: colon)...].trimmingSpaces
            if !name.isEmpty { legacy.append(Header(name, value)) }
        }
        self.method = method
        self.uri = uri
        self.version = lines.first.map(String.init) ?? version
        self.headers = legacy + headers
        self.body = body
    }

    /// The bytes to write, as HAProxy 2.6 writes them (checked against the real binary):
    /// `option httpchk GET /health` sends exactly `GET /health HTTP/1.0\r\n\r\n`; header names go out
    /// lower-cased in configuration order, a body adds `content-length`, and HTTP/1.1 ends the header
    /// block with `connection: close`.
    ///
    /// - Parameter host: used for a `host` header when the request is HTTP/1.1 and the configuration
    ///   gives none. HAProxy sends none, but RFC 9112 §3.2 requires Host in HTTP/1.1 and servers such as
    ///   nginx answer 400 without it, which would mark a healthy server DOWN; pass the server's address.
    public func bytes(host: String? = nil) -> [UInt8] {
        var text = "\(method) \(uri) \(version)\r\n"
        let isHTTP11 = version.uppercased() == "HTTP/1.1"
        if isHTTP11, let host, !headers.contains(where: { $0.name.lowercased() == "host" }) {
            text += "host: \(host)\r\n"
        }
        for header in headers {
            text += "\(header.name.lowercased()): \(header.value)\r\n"
        }
        if let body, !body.isEmpty {
            text += "content-length: \(body.utf8.count)\r\n"
        }
        if isHTTP11 {
            text += "connection: close\r\n"
        }
        text += "\r\n"
        if let body { text += body }
        return Array(text.utf8)
    }
}

/// A regular expression that failed to compile, with the pattern and where it came from.
public struct CheckPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public var pattern: String
    public var reason: String

    public var description: String { "invalid regex '\(pattern)': \(reason)" }
}

/// `http-check expect [!] status|rstatus|string|rstring PATTERN`.
public struct HTTPCheckExpectation: Sendable, Equatable {
    public enum Match: Sendable, Equatable {
        /// `status 200`, `status 200-399`, `status 200,204`: any of the codes or ranges.
        case status([ClosedRange<Int>])
        /// `rstatus REGEX`: the regex is searched in the 3-digit status code.
        case statusPattern(String)
        /// `string TEXT`: the body contains TEXT.
        case string(String)
        /// `rstring REGEX`: the regex is searched in the body.
        case bodyPattern(String)
    }

    public var match: Match
    /// The `!` prefix: the check passes when the match fails.
    public var negated: Bool

    /// Validates regular expressions up front, so a bad pattern is a configuration error, not a DOWN server.
    public init(_ match: Match, negated: Bool = false) throws(CheckPatternError) {
        switch match {
        case .statusPattern(let pattern), .bodyPattern(let pattern):
            do {
                _ = try Regex(pattern)
            } catch {
                throw CheckPatternError(pattern: pattern, reason: "\(error)")
            }
        case .status, .string:
            break
        }
        self.match = match
        self.negated = negated
    }

    /// `http-check expect status 200`.
    public static func status(_ code: Int) -> HTTPCheckExpectation {
        HTTPCheckExpectation(unchecked: .status([code...code]), negated: false)
    }

    private init(unchecked match: Match, negated: Bool) {
        self.match = match
        self.negated = negated
    }

    /// Whether the status code or body matches, before negation.
    func matches(status: Int, body: [UInt8]?) -> Bool {
        switch match {
        case .status(let ranges):
            return ranges.contains { $0.contains(status) }
        case .statusPattern(let pattern):
            return Self.search(pattern, in: String(status))
        case .string(let text):
            guard let body else { return false }
            return Self.contains(Array(text.utf8), in: body)
        case .bodyPattern(let pattern):
            guard let body else { return false }
            return Self.search(pattern, in: String(decoding: body, as: UTF8.self))
        }
    }

    var inspectsBody: Bool {
        switch match {
        case .string, .bodyPattern: return true
        case .status, .statusPattern: return false
        }
    }

    private static func search(_ pattern: String, in text: String) -> Bool {
        // Validated in init; a pattern that somehow fails to compile matches nothing.
        guard let regex = try? Regex(pattern) else { return false }
        return text.contains(regex)
    }

    private static func contains(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

/// Judges an HTTP check response the way HAProxy 2.6 does, producing the report the state machine
/// and the logs use.
public enum HTTPCheckVerdict {
    /// - Parameters:
    ///   - expectation: `nil` when no `http-check expect` is configured: any 2xx or 3xx passes.
    ///   - status: the response's status code, or `nil` when the response was not valid HTTP.
    ///   - reason: the reason phrase, printed as `info` when the status is wrong.
    ///   - body: the body read (up to the check buffer), `nil` or empty when there was none.
    public static func evaluate(
        expectation: HTTPCheckExpectation?,
        status: Int?,
        reason: String,
        body: [UInt8]?,
        duration: Duration
    ) -> CheckReport {
        guard let status else {
            return CheckReport(status: .layer7InvalidResponse, duration: duration)
        }
        let info = reason.isEmpty ? nil : reason
        guard let expectation else {
            let passed = (200...399).contains(status)
            return CheckReport(
                status: passed ? .layer7Passed : .layer7WrongStatus,
                code: status,
                info: passed ? nil : info,
                duration: duration
            )
        }
        if expectation.inspectsBody {
            let hasBody = !(body ?? []).isEmpty
            if !hasBody && !expectation.negated {
                // HAProxy prints no code for content failures (only reason and info).
                return CheckReport(
                    status: .layer7InvalidResponse,
                    info: "HTTP content check could not find a response body",
                    duration: duration
                )
            }
            let matched = expectation.matches(status: status, body: body)
            if matched != expectation.negated {
                return CheckReport(status: .layer7Passed, code: status, duration: duration)
            }
            let text = expectation.negated ? "HTTP check matched unwanted content" : "HTTP content check did not match"
            return CheckReport(status: .layer7InvalidResponse, info: text, duration: duration)
        }
        let matched = expectation.matches(status: status, body: body)
        if matched != expectation.negated {
            return CheckReport(status: .layer7Passed, code: status, duration: duration)
        }
        return CheckReport(status: .layer7WrongStatus, code: status, info: info, duration: duration)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
