import NIOCore
import NIOHTTP1

/// Header rules the proxy applies on both sides: hop-by-hop removal (RFC 9110 §7.6.1), request
/// framing validation against smuggling (RFC 9112 §6.1, §6.3), idempotency (RFC 9110 §9.2.2).
enum HTTPMessageRules {
    /// How a request body is delimited, after validation.
    enum RequestFraming: Equatable {
        case none
        case contentLength(Int)
        case chunked
    }

    enum Violation: Error, Equatable {
        case contentLengthWithTransferEncoding
        case conflictingContentLength
        case invalidContentLength
        case transferEncodingNotChunked
        case transferEncodingInHTTP10
        case conflictingHost
        case hostDiffersFromTarget
        case fragmentInTarget
    }

    /// Validates what llhttp lets through and returns the body framing. Anything ambiguous is refused
    /// rather than forwarded: the server might read the message differently than we did. Besides the framing
    /// fields: the Host rules (`checkHost`) and the target's form (`validateTarget`).
    static func requestFraming(_ head: HTTPRequestHead) throws -> RequestFraming {
        // One pass over the headers (this runs for every request).
        var transferEncodings: [String] = []
        var contentLengths: [String] = []
        var host: String?
        var conflictingHost = false
        for (name, value) in head.headers {
            let length = name.utf8.count
            if length == 17, name.equalsIgnoringASCIICase("transfer-encoding") {
                transferEncodings.append(value)
            } else if length == 14, name.equalsIgnoringASCIICase("content-length") {
                contentLengths.append(value)
            } else if length == 4, name.equalsIgnoringASCIICase("host") {
                let value = value.trimmingSpaces
                if let host, host.lowercased() != value.lowercased() { conflictingHost = true }
                host = value
            }
        }
        let framing = try Self.bodyFraming(transferEncodings, contentLengths, version: head.version)
        if conflictingHost { throw Violation.conflictingHost }
        try Self.checkHost(host, target: head.uri)
        try Self.validateTarget(head.uri)
        return framing
    }

    private static func bodyFraming(
        _ transferEncodings: [String], _ contentLengths: [String], version: HTTPVersion
    ) throws -> RequestFraming {
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else { throw Violation.contentLengthWithTransferEncoding }
            guard version.major == 1, version.minor >= 1 else { throw Violation.transferEncodingInHTTP10 }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }
                .map { $0.trimmingSpaces.lowercased() }
            // chunked must be the final coding and must appear exactly once (RFC 9112 §6.1). Any other coding
            // is refused too: the body is re-framed with `transfer-encoding: chunked` alone, so a `gzip, chunked`
            // body would reach the server without its gzip coding (HAProxy 2.6 refuses it as well, with 422).
            guard codings == ["chunked"] else {
                throw Violation.transferEncodingNotChunked
            }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return .none }
        var value: Int?
        for field in contentLengths {
            for item in field.split(separator: ",", omittingEmptySubsequences: false) {
                let text = item.trimmingSpaces
                guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let parsed = Int(text) else {
                    throw Violation.invalidContentLength
                }
                if let previous = value, previous != parsed { throw Violation.conflictingContentLength }
                value = parsed
            }
        }
        guard let length = value else { throw Violation.invalidContentLength }
        return .contentLength(length)
    }

    /// RFC 9112 §3.2: a request with several differing Host fields is refused (`requestFraming` finds them;
    /// identical copies are forwarded as one, see `ServerRequestWriter`), and so is an absolute-form target whose
    /// authority differs from Host: a server that routes on Host and a cache or filter that reads the target
    /// would see two different sites. HAProxy 2.6 refuses both shapes with 400 as well.
    private static func checkHost(_ host: String?, target: String) throws {
        guard let host, let (scheme, authority) = Self.authority(ofAbsoluteTarget: target), !authority.isEmpty
        else { return }
        // The scheme's default port may be written or left out on either side (`http://h:80/` with `Host: h`),
        // as HAProxy 2.6 normalizes it; an empty authority (`http:///x`) leaves Host to decide, as in HAProxy.
        if Self.normalized(authority, scheme: scheme) != Self.normalized(host, scheme: scheme) {
            throw Violation.hostDiffersFromTarget
        }
    }

    /// `host[:port]` lower-cased, without an empty port or the scheme's default port (80 for http, 443 for https).
    private static func normalized(_ authority: String, scheme: String) -> Substring {
        var value = Substring(authority.lowercased())
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil
        if let defaultPort, value.hasSuffix(defaultPort) {
            value = value.dropLast(defaultPort.count)
        } else if value.hasSuffix(":") {
            value = value.dropLast()
        }
        return value
    }

    /// A request target carries no fragment (RFC 9112 §3.2: `#` is not part of any form): a server and a filter
    /// in front of it may cut the path at different places. HAProxy 2.6 refuses it with 400 as well.
    static func validateTarget(_ target: String) throws {
        if target.utf8.contains(UInt8(ascii: "#")) { throw Violation.fragmentInTarget }
    }

    /// The lower-cased scheme and the authority of an absolute-form request target (`http://example.com:8080/x` →
    /// `http`, `example.com:8080`), without userinfo; nil for the origin form (`/x`) and the other forms.
    static func authority(ofAbsoluteTarget target: String) -> (scheme: String, authority: String)? {
        guard !target.hasPrefix("/"), let separator = target.range(of: "://") else { return nil }
        let scheme = target[..<separator.lowerBound].lowercased()
        let rest = target[separator.upperBound...]
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") {
            return (scheme, String(authority[authority.index(after: at)...]))
        }
        return (scheme, String(authority))
    }

    /// The framing-relevant fields of a response head, read in one pass (walking `HTTPHeaders` costs
    /// reference counting on every field, and this runs for every response).
    struct ResponseFields {
        var contentLength: String?
        var chunked = false
        var hasHopByHop = false
        /// As `namedByConnection` gives it.
        var namedByConnection: [String] = []
    }

    static func responseFields(_ headers: HTTPHeaders) -> ResponseFields {
        var fields = ResponseFields()
        for (name, value) in headers {
            if name.utf8.count == 14, name.equalsIgnoringASCIICase("content-length") {
                if fields.contentLength == nil { fields.contentLength = value }
            } else if name.utf8.count == 17, name.equalsIgnoringASCIICase("transfer-encoding") {
                fields.hasHopByHop = true
                if value.lowercased().contains("chunked") { fields.chunked = true }
            } else if name.utf8.count == 10, name.equalsIgnoringASCIICase("connection") {
                fields.hasHopByHop = true
                Self.appendFieldNames(ofConnection: value, to: &fields.namedByConnection)
            } else if isHopByHopName(name) {
                fields.hasHopByHop = true
            }
        }
        return fields
    }

    /// Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade.
    static func isHopByHopName(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: return name.equalsIgnoringASCIICase("te")
        case 7: return name.equalsIgnoringASCIICase("upgrade")
        case 10: return name.equalsIgnoringASCIICase("connection") || name.equalsIgnoringASCIICase("keep-alive")
        case 16: return name.equalsIgnoringASCIICase("proxy-connection")
        case 17: return name.equalsIgnoringASCIICase("transfer-encoding")
        default: return false
        }
    }

    /// Whether a field of a head being forwarded stays on this hop: a hop-by-hop field (except `Upgrade`, and
    /// with `keepingConnection` `Connection`, of an upgrade being offered or accepted) or a field the head's
    /// Connection field names (`namedByConnection`, never a hop-by-hop name itself).
    static func staysOnHop(
        _ name: String, namedByConnection: [String], keepingUpgrade: Bool = false, keepingConnection: Bool = false
    ) -> Bool {
        if isHopByHopName(name) {
            let length = name.utf8.count
            let kept =
                (keepingUpgrade && length == 7 && name.equalsIgnoringASCIICase("upgrade"))
                || (keepingConnection && length == 10 && name.equalsIgnoringASCIICase("connection"))
            return !kept
        }
        return !namedByConnection.isEmpty && namedByConnection.contains(name.lowercased())
    }

    /// The field names a Connection field lists (they apply to that connection only), lower-cased.
    /// With `isHopByHopName`, what stays out of a forwarded head: Connection, Keep-Alive,
    /// Proxy-Connection, TE, Transfer-Encoding (the proxy re-frames bodies), Upgrade (unless the request's
    /// upgrade is offered to the server, see `upgradeRequest`) and the fields Connection names.
    /// Tokens that are hop-by-hop names anyway or `close` are left out: the usual `Connection: keep-alive`
    /// gives an empty list without allocating anything.
    static func namedByConnection(_ headers: HTTPHeaders) -> [String] {
        var names: [String] = []
        for (name, value) in headers where name.utf8.count == 10 && name.equalsIgnoringASCIICase("connection") {
            Self.appendFieldNames(ofConnection: value, to: &names)
        }
        return names
    }

    /// The field names one Connection field's value lists, as `namedByConnection` collects them.
    private static func appendFieldNames(ofConnection value: String, to names: inout [String]) {
        // The usual values name no field.
        if value.equalsIgnoringASCIICase("keep-alive") || value.equalsIgnoringASCIICase("close") { return }
        var rest = value[...]
        while !rest.isEmpty {
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            // A small string (the usual token) is built without allocating.
            let token = rest[..<end].trimmingSpaces
            rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[rest.endIndex...]
            if token.isEmpty || token.equalsIgnoringASCIICase("close") || isHopByHopName(token) { continue }
            names.append(token.lowercased())
        }
    }

    /// What a request's `Upgrade` field means for the proxy (RFC 9110 §7.8).
    struct UpgradeRequest: Equatable {
        /// The request carries an `Upgrade` field and `upgrade` among its Connection tokens. NIO's request
        /// decoder (llhttp) stops parsing after such a request, whatever its version or body, until it is
        /// replaced: the bytes behind it may belong to another protocol.
        var stopsDecoder = false
        /// The upgrade is offered to the server (`Upgrade` and `Connection: upgrade` forwarded): HTTP/1.1, no
        /// request body (HAProxy drops `Upgrade` from a request with a body), no `h2c`/`h2` token (HAProxy
        /// drops those too: a server must not switch the connection to HTTP/2 behind the proxy's back).
        var offered = false
        /// A WebSocket handshake (`Upgrade: websocket`) without `Sec-WebSocket-Key` (RFC 6455 §4.1): HAProxy 2.6
        /// refuses it with 400.
        var lacksWebSocketKey = false
        /// A Connection or Proxy-Connection value with a tab beside an Upgrade field: llhttp reads tokens
        /// followed by a tab differently from a plain comma-separated list, so whether the decoder stopped
        /// is not certain. Refused (400), like the other ambiguous shapes.
        var ambiguous = false
    }

    static func upgradeRequest(_ head: HTTPRequestHead, framing: RequestFraming) -> UpgradeRequest {
        // Nearly every request has no Upgrade field: one cheap pass decides, before any value is read.
        guard head.headers.contains(where: { $0.name.utf8.count == 7 && $0.name.equalsIgnoringASCIICase("upgrade") })
        else { return UpgradeRequest() }
        var hasUpgradeField = false
        var namesHTTP2 = false
        var namesWebSocket = false
        var hasWebSocketKey = false
        var connectionUpgrade = false
        // llhttp takes Proxy-Connection for a Connection field: `upgrade` there stops the decoder too,
        // although the upgrade is not offered to the server (Proxy-Connection is not a standard field).
        var proxyConnectionUpgrade = false
        var tabInConnection = false
        for (name, value) in head.headers {
            let length = name.utf8.count
            if length == 7, name.equalsIgnoringASCIICase("upgrade") {
                hasUpgradeField = true
                if Self.tokens(value, contain: "h2c") || Self.tokens(value, contain: "h2") { namesHTTP2 = true }
                if Self.tokens(value, contain: "websocket") { namesWebSocket = true }
            } else if length == 10, name.equalsIgnoringASCIICase("connection") {
                if Self.tokens(value, contain: "upgrade") { connectionUpgrade = true }
                if value.utf8.contains(UInt8(ascii: "\t")) { tabInConnection = true }
            } else if length == 16, name.equalsIgnoringASCIICase("proxy-connection") {
                if Self.tokens(value, contain: "upgrade") { proxyConnectionUpgrade = true }
                if value.utf8.contains(UInt8(ascii: "\t")) { tabInConnection = true }
            } else if length == 17, name.equalsIgnoringASCIICase("sec-websocket-key") {
                hasWebSocketKey = true
            }
        }
        guard hasUpgradeField else { return UpgradeRequest() }
        if tabInConnection { return UpgradeRequest(ambiguous: true) }
        guard connectionUpgrade || proxyConnectionUpgrade else { return UpgradeRequest() }
        let hasBody: Bool
        switch framing {
        case .none: hasBody = false
        case .contentLength(let length): hasBody = length > 0
        case .chunked: hasBody = true
        }
        // RFC 9110 §7.8: a server must ignore Upgrade in an HTTP/1.0 request (HAProxy 2.6 forwards it anyway).
        let offered =
            connectionUpgrade && head.version.major == 1 && head.version.minor >= 1 && !hasBody && !namesHTTP2
        return UpgradeRequest(
            stopsDecoder: true, offered: offered, lacksWebSocketKey: namesWebSocket && !hasWebSocketKey)
    }

    /// Whether a 101 can start a tunnel. It must carry `Upgrade` and `upgrade` in its Connection field
    /// (RFC 9110 §7.8, §15.2.2): NIO's response decoder only stops parsing behind a 101 with both, and the
    /// bytes that follow would otherwise be read as HTTP. A Connection value with a tab is refused (llhttp
    /// reads its tokens differently). A WebSocket 101 also needs `Sec-WebSocket-Accept` (RFC 6455 §4.2.2), as
    /// HAProxy 2.6 requires. Otherwise the server is broken (502).
    static func switchesProtocols(_ headers: HTTPHeaders) -> Bool {
        var hasUpgradeField = false
        var namesWebSocket = false
        var hasAccept = false
        var connectionUpgrade = false
        for (name, value) in headers {
            let length = name.utf8.count
            if length == 20, name.equalsIgnoringASCIICase("sec-websocket-accept") {
                hasAccept = true
            } else if length == 7, name.equalsIgnoringASCIICase("upgrade") {
                hasUpgradeField = true
                if Self.tokens(value, contain: "websocket") { namesWebSocket = true }
            } else if length == 10, name.equalsIgnoringASCIICase("connection") {
                if value.utf8.contains(UInt8(ascii: "\t")) { return false }
                if Self.tokens(value, contain: "upgrade") { connectionUpgrade = true }
            }
        }
        return hasUpgradeField && connectionUpgrade && (hasAccept || !namesWebSocket)
    }

    /// Whether a comma-separated field value lists `token` (ASCII case-insensitive, blanks around items ignored).
    static func tokens(_ value: String, contain token: StaticString) -> Bool {
        for item in value.split(separator: ",") where item.trimmingSpaces.equalsIgnoringASCIICase(token) {
            return true
        }
        return false
    }

    /// RFC 9110 §9.2.2: safe methods plus PUT and DELETE. Only these are retried after a request was sent.
    static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: return true
        default: return false
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        var view = self[...]
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}

extension String {
    var trimmingSpaces: String { self[...].trimmingSpaces }

    /// ASCII case-insensitive equality with a lower-case literal (header names are ASCII tokens).
    func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        let other = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard self.utf8.count == other.count else { return false }
        var index = 0
        for byte in self.utf8 {
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if folded != other[index] { return false }
            index += 1
        }
        return true
    }
}

extension SocketAddress {
    /// The raw address bytes (4 for IPv4, 16 for IPv6), nil for Unix sockets.
    var addressBytes: [UInt8]? {
        switch self {
        case .v4(let address):
            return withUnsafeBytes(of: address.address.sin_addr) { Array($0) }
        case .v6(let address):
            return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }
}
