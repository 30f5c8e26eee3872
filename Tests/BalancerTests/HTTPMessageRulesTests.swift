import NIOHTTP1
import Testing

@testable import Balancer

@Suite("Request framing and hop-by-hop rules")
struct HTTPMessageRulesTests {
    private func head(_ headers: [(String, String)], version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .POST, uri: "/", headers: HTTPHeaders(headers))
    }

    @Test("framing: none, Content-Length (repeated identical values are one), chunked")
    func validFraming() throws {
        #expect(try HTTPMessageRules.requestFraming(self.head([])) == .none)
        #expect(try HTTPMessageRules.requestFraming(self.head([("Content-Length", "12")])) == .contentLength(12))
        #expect(
            try HTTPMessageRules.requestFraming(self.head([("content-length", "5"), ("Content-Length", "5, 5")]))
                == .contentLength(5)
        )
        #expect(try HTTPMessageRules.requestFraming(self.head([("Transfer-Encoding", " Chunked ")])) == .chunked)
    }

    @Test(
        "framing: smuggling shapes are refused",
        arguments: [
            (
                [("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
                HTTPMessageRules.Violation.contentLengthWithTransferEncoding
            ),
            ([("Content-Length", "3"), ("Content-Length", "4")], .conflictingContentLength),
            ([("Content-Length", "+3")], .invalidContentLength),
            ([("Content-Length", "")], .invalidContentLength),
            ([("Transfer-Encoding", "chunked, gzip")], .transferEncodingNotChunked),
            ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], .transferEncodingNotChunked),
            // Re-framed as chunked alone, the body would lose its gzip coding on the way to the server.
            ([("Transfer-Encoding", "gzip, chunked")], .transferEncodingNotChunked),
        ]
    )
    func refused(_ headers: [(String, String)], _ violation: HTTPMessageRules.Violation) {
        #expect(throws: violation) { try HTTPMessageRules.requestFraming(self.head(headers)) }
    }

    @Test("Host: one value (copies may repeat it, in any case); an absolute-form target's authority must match it")
    func host() throws {
        func check(_ uri: String, _ hosts: [String]) throws {
            let headers = HTTPHeaders(hosts.map { ("Host", $0) })
            _ = try HTTPMessageRules.requestFraming(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers))
        }
        try check("/", [])
        try check("/", ["a.example", "A.example "])
        try check("http://user@a.example:8080/x?y", ["a.example:8080"])
        try check("http://a.example", ["a.example"])
        try check("http://a.example/x", [])
        // The scheme's default port, written on one side only, and an empty port are the same authority (as
        // HAProxy 2.6 normalizes them); an empty authority leaves Host alone.
        try check("http://a.example:80/x", ["a.example"])
        try check("http://a.example/x", ["A.example:80"])
        try check("https://a.example:443/", ["a.example"])
        try check("http://a.example:/x", ["a.example"])
        try check("http:///x", ["a.example"])
        #expect(throws: HTTPMessageRules.Violation.conflictingHost) { try check("/", ["a.example", "b.example"]) }
        #expect(throws: HTTPMessageRules.Violation.hostDiffersFromTarget) {
            try check("http://a.example/x", ["b.example"])
        }
        #expect(throws: HTTPMessageRules.Violation.hostDiffersFromTarget) {
            try check("https://a.example:8443/", ["a.example"])
        }
        // Another scheme's default port is not this one's.
        #expect(throws: HTTPMessageRules.Violation.hostDiffersFromTarget) {
            try check("https://a.example:80/", ["a.example"])
        }
    }

    @Test("a request target with a fragment is refused")
    func fragment() throws {
        try HTTPMessageRules.validateTarget("/a?b=c%23d")
        #expect(throws: HTTPMessageRules.Violation.fragmentInTarget) { try HTTPMessageRules.validateTarget("/a#b") }
    }

    @Test("framing: Transfer-Encoding in HTTP/1.0 is refused")
    func transferEncodingInHTTP10() {
        #expect(throws: HTTPMessageRules.Violation.transferEncodingInHTTP10) {
            try HTTPMessageRules.requestFraming(self.head([("Transfer-Encoding", "chunked")], version: .http1_0))
        }
    }

    @Test(
        "the fields a response's Connection names, for the relayed head",
        arguments: [
            ("keep-alive", [String]()), ("close", []), ("Keep-Alive, X-Trace ,upgrade", ["x-trace"]),
            (" , X-A,,x-b ", ["x-a", "x-b"]), ("", []),
        ])
    func namedByConnection(value: String, expected: [String]) {
        let headers = HTTPHeaders([("Server", "nginx"), ("Connection", value)])
        #expect(HTTPMessageRules.namedByConnection(headers) == expected)
    }

    @Test("idempotent methods per RFC 9110 §9.2.2")
    func idempotent() {
        #expect([HTTPMethod.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE].allSatisfy(HTTPMessageRules.isIdempotent))
        #expect(![HTTPMethod.POST, .PATCH, .CONNECT].contains(where: HTTPMessageRules.isIdempotent))
    }

    @Test("upgrade: Upgrade with an upgrade Connection token stops NIO's decoder; only body-less HTTP/1.1 is offered")
    func upgradeRequests() throws {
        func upgrade(
            _ headers: [(String, String)], method: HTTPMethod = .GET, version: HTTPVersion = .http1_1
        ) throws -> HTTPMessageRules.UpgradeRequest {
            let head = HTTPRequestHead(version: version, method: method, uri: "/ws", headers: HTTPHeaders(headers))
            return HTTPMessageRules.upgradeRequest(head, framing: try HTTPMessageRules.requestFraming(head))
        }
        let websocket = [("Upgrade", "websocket"), ("Connection", "keep-alive, UPGRADE"), ("Sec-WebSocket-Key", "k")]
        #expect(try upgrade(websocket) == .init(stopsDecoder: true, offered: true))
        let emptyPost = try upgrade(websocket + [("Content-Length", "0")], method: .POST)
        #expect(emptyPost == .init(stopsDecoder: true, offered: true))
        let post = try upgrade(websocket + [("Content-Length", "3")], method: .POST)
        #expect(post == .init(stopsDecoder: true, offered: false))
        #expect(try upgrade(websocket + [("Transfer-Encoding", "chunked")], method: .POST).offered == false)
        #expect(try upgrade(websocket, version: .http1_0) == .init(stopsDecoder: true, offered: false))
        #expect(try upgrade([("Upgrade", "h2c"), ("Connection", "Upgrade, HTTP2-Settings")]).offered == false)
        #expect(try upgrade([("Upgrade", "websocket")]) == .init())
        #expect(try upgrade([("Connection", "upgrade")]) == .init())
        #expect(try upgrade([("Upgrade", "websocket"), ("Connection", "upgrades")]) == .init())
        // RFC 6455 §4.1: a WebSocket handshake carries its key.
        let keyless = try upgrade([("Upgrade", "WebSocket"), ("Connection", "Upgrade")])
        #expect(keyless == .init(stopsDecoder: true, offered: true, lacksWebSocketKey: true))
        #expect(try upgrade([("Upgrade", "foo/2"), ("Connection", "Upgrade")]).lacksWebSocketKey == false)
        // llhttp stops on `upgrade` in Proxy-Connection too; the upgrade is not offered for it.
        #expect(
            try upgrade([("Upgrade", "websocket"), ("Proxy-Connection", "upgrade"), ("Sec-WebSocket-Key", "k")])
                == .init(stopsDecoder: true, offered: false))
        // A tab beside the token: llhttp and a comma split disagree; refused.
        #expect(try upgrade([("Upgrade", "websocket"), ("Connection", "upgrade\t")]) == .init(ambiguous: true))
        #expect(try upgrade([("Upgrade", "x"), ("Proxy-Connection", "\tupgrade")]).ambiguous)
        #expect(try upgrade([("Connection", "keep-alive\t")]) == .init())
    }

    @Test("a 101 starts a tunnel only with Upgrade, Connection: upgrade and, for WebSocket, Sec-WebSocket-Accept")
    func switchingProtocols() {
        var answer = HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade")])
        #expect(!HTTPMessageRules.switchesProtocols(answer))
        answer.add(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(HTTPMessageRules.switchesProtocols(answer))
        #expect(HTTPMessageRules.switchesProtocols(HTTPHeaders([("Upgrade", "foo"), ("Connection", "Upgrade")])))
        // RFC 9110 §7.8: both fields; NIO's decoder reads on as HTTP behind a 101 without them.
        #expect(!HTTPMessageRules.switchesProtocols(HTTPHeaders([("Upgrade", "foo")])))
        #expect(!HTTPMessageRules.switchesProtocols(HTTPHeaders([("Connection", "upgrade")])))
        #expect(!HTTPMessageRules.switchesProtocols(HTTPHeaders([("Upgrade", "foo"), ("Connection", "upgrade\t")])))
    }

    @Test("a response head read in one pass: framing, hop-by-hop, and the fields its Connection names")
    func responseFields() {
        let named = HTTPMessageRules.responseFields(
            HTTPHeaders([
                ("Server", "nginx"), ("Connection", "keep-alive, X-Session"), ("connection", "Close, X-Trace"),
                ("Content-Length", "12"), ("Content-Length", "13"),
            ]))
        #expect(named.hasHopByHop)
        #expect(named.namedByConnection == ["x-session", "x-trace"])
        #expect(named.contentLength == "12")
        #expect(!named.chunked)

        let usual = HTTPMessageRules.responseFields(
            HTTPHeaders([("Connection", "keep-alive"), ("Transfer-Encoding", "gzip, Chunked")]))
        #expect(usual.hasHopByHop)
        #expect(usual.namedByConnection.isEmpty)
        #expect(usual.chunked)

        let plain = HTTPMessageRules.responseFields(HTTPHeaders([("Content-Type", "text/plain")]))
        #expect(!plain.hasHopByHop)
        #expect(plain.contentLength == nil)
    }
}
