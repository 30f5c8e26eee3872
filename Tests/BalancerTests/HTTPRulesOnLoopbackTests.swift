import Balancer
import Foundation
import HAProxyConfig
import NIOCore
import NIOHTTP1
import Testing

/// `http-request` and `http-response` rules on loopback, with what HAProxy 2.6.12 sends byte for byte where
/// Portico answers itself (captured from haproxy on loopback), and the operator's view (httplog, `show stat`).
@Suite("http-request and http-response rules on loopback")
struct HTTPRulesTests {
    /// web01 behind `web`, api01 behind `api` (`/api` routes there); extra lines for the frontend and each backend.
    func withRules(
        frontend: [String], web: [String] = [], api: [String] = [], stats: [String]? = nil,
        _ body: (_ port: Int, _ statsPort: Int, _ socketPath: String, _ syslog: SyslogCollector) async throws -> Void
    ) async throws {
        try await withBackends(["web01", "api01"], group: testGroup) { servers in
            try await withSyslogAndSocket { syslog, socketPath in
                let port = freePort()
                let statsPort = freePort()
                var lines = [
                    "global", "    log 127.0.0.1:\(syslog.port) local2", "    stats socket \(socketPath) level admin",
                    "defaults", "    mode http", "    log global", "    option httplog", "    timeout connect 3s",
                    "    timeout client 30s", "    timeout server 30s",
                    "frontend web_entry", "    bind 127.0.0.1:\(port)", "    use_backend api if { path_beg /api }",
                ]
                lines += frontend.map { "    " + $0 } + ["    default_backend web", "backend web"]
                lines += web.map { "    " + $0 } + ["    server web01 127.0.0.1:\(servers[0].port)", "backend api"]
                lines += api.map { "    " + $0 } + ["    server api01 127.0.0.1:\(servers[1].port)"]
                if let stats {
                    lines += ["listen stats", "    bind 127.0.0.1:\(statsPort)", "    stats enable"]
                    lines.append("    stats uri /stats")
                    lines += stats.map { "    " + $0 }
                }
                try await withConfigText(lines.joined(separator: "\n") + "\n") {
                    try await body(port, statsPort, socketPath, syslog)
                }
            }
        }
    }

    @Test("deny: HAProxy's 403 page byte for byte, the connection stays open; deny_status 429; HEAD; PR-- and dreq")
    func deny() async throws {
        let rules = ["http-request deny if { path /private }", "http-request deny deny_status 429 if { path /busy }"]
        try await withRules(frontend: rules) { port, _, socketPath, syslog in
            let exchange = try await rawExchange(
                port: port,
                "GET /private HTTP/1.1\r\nHost: x\r\n\r\nGET /busy HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                group: testGroup, timeout: .seconds(2))
            let forbidden =
                "HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\n"
                + "content-type: text/html\r\n\r\n"
                + "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n"
            let tooMany =
                "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\n"
                + "content-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\n"
                + "You have sent too many requests in a given amount of time.\n</body></html>\n"
            // Both answers, then the third request on the same connection reached the server.
            #expect(exchange.hasPrefix(forbidden + tooMany), "\(exchange)")
            #expect(exchange.hasSuffix("web01"), "\(exchange)")
            #expect(await eventually { syslog.lines.count >= 3 })
            #expect(
                syslog.lines.contains {
                    $0.contains(" web_entry web_entry/<NOSRV> ") && $0.contains(" 403 ") && $0.contains(" PR-- ")
                })
            #expect(syslog.lines.contains { $0.contains(" 429 ") && $0.contains(" PR-- ") })
            // A HEAD gets the head only, Content-Length as for GET.
            let head = try await rawExchange(
                port: port, "HEAD /private HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", group: testGroup,
                timeout: .seconds(5))
            #expect(head.hasPrefix("HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\n"), "\(head)")
            #expect(head.hasSuffix("connection: close\r\n\r\n"), "\(head)")
            let stat = try await runtimeCommand(socketPath, "show stat")
            #expect(csvValue(stat, "web_entry", "FRONTEND", "dreq") == "3")
        }
    }

    @Test("deny with an errorfile for its status: the operator's page byte for byte, then the connection closes")
    func denyWithErrorFile() async throws {
        let path = NSTemporaryDirectory() + "portico-deny-\(UInt32.random(in: 0...UInt32.max)).http"
        let page = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\ngo away\n"
        try page.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        var topology = TestTopology(servers: [])
        topology.frontend = ["errorfile 403 \(path)", "http-request deny if { path /private }"]
        try await withBalancer(topology) { port, _ in
            let answer = try await rawExchange(
                port: port, "GET /private HTTP/1.1\r\nHost: x\r\n\r\n", group: testGroup, timeout: .seconds(5))
            #expect(answer == page)
        }
    }

    @Test("redirects: status, Location and cache-control as HAProxy 2.6 sends them; an HTTP/1.0 client is closed")
    func redirects() async throws {
        let rules = [
            "http-request redirect location /new code 301 if { path /old }",
            "http-request redirect prefix /pre if { path_beg /p/ }",
            "http-request redirect prefix / drop-query if { path_beg /q/ }",
            "http-request redirect scheme https if { path_beg /s/ }",
            "http-request redirect prefix /x append-slash if { path_beg /a }",
            "http-request redirect location /n307 code 307 if { path /307 }",
        ]
        try await withRules(frontend: rules) { port, _, _, syslog in
            func answer(_ target: String, host: String = "h.example:8080") async throws -> String {
                try await rawExchange(
                    port: port, "GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n", group: testGroup,
                    timeout: .milliseconds(700))
            }
            var answers: [String] = []
            for target in ["/old?z=1", "/p/x?y=1", "/q/x?y=1", "/s/x?y=1", "/ab?k=1", "/307"] {
                answers.append(try await answer(target))
            }
            #expect(answers[0] == "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n\r\n")
            #expect(
                answers[1]
                    == "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pre/p/x?y=1\r\n"
                    + "cache-control: no-cache\r\n\r\n")
            #expect(answers[2].contains("location: /q/x\r\n"))
            #expect(answers[3].contains("location: https://h.example:8080/s/x?y=1\r\n"))
            // HAProxy 2.6 would send /x/ab?k=1/ (the slash after the query); Portico ends the path with it.
            #expect(answers[4].contains("location: /x/ab/?k=1\r\n"))
            #expect(answers[5].hasPrefix("HTTP/1.1 307 Temporary Redirect\r\n") && answers[5].contains("cache-control"))
            let old = try await rawExchange(
                port: port, "GET /old HTTP/1.0\r\n\r\n", group: testGroup, timeout: .seconds(5))
            #expect(
                old
                    == "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n"
                    + "connection: close\r\n\r\n")
            #expect(await eventually { syslog.lines.filter { $0.contains(" LR-- ") }.count >= 7 })
        }
    }

    @Test("header rules change what the server gets, and what later conditions and routing see")
    func headerRules() async throws {
        let rules = [
            "http-request set-header X-Forwarded-Proto https", "http-request add-header X-Seen one",
            "http-request add-header X-Seen two", "http-request del-header X-Secret",
            "http-request set-header X-Route api if { path /switch }",
            "use_backend api if { hdr(x-route) api }",
            "http-request set-header X-Real-IP %[src]", "http-request set-header X-Host-Copy %[req.hdr(host)]",
            "http-request add-header X-Where \"path=%[path];seen=%[hdr_cnt(x-seen)]\"",
            "http-response set-header X-Client %ci",
        ]
        try await withRules(frontend: rules) { port, _, _, _ in
            let echoed = try await HTTPTestClient.get(
                port: port, "/headers", group: testGroup,
                headers: [("X-Secret", "token"), ("X-Forwarded-Proto", "http")]).body
            #expect(echoed.contains("x-forwarded-proto: https\n"), "\(echoed)")
            #expect(!echoed.contains("x-forwarded-proto: http\n"), "\(echoed)")
            #expect(echoed.contains("x-seen: one\nx-seen: two\n"), "\(echoed)")
            #expect(!echoed.contains("x-secret"), "\(echoed)")
            // Log-format values, rendered per request from the head as the earlier rules left it.
            #expect(echoed.contains("x-real-ip: 127.0.0.1\n"), "\(echoed)")
            #expect(echoed.contains("x-host-copy: test\n"), "\(echoed)")
            #expect(echoed.contains("x-where: path=/headers;seen=2\n"), "\(echoed)")
            let response = try await HTTPTestClient.get(port: port, "/", group: testGroup)
            #expect(response.headers["x-client"] == ["127.0.0.1"])
            // The rule's header routes the request: evaluated after the http-request rules, as in HAProxy.
            #expect(try await HTTPTestClient.get(port: port, "/switch", group: testGroup).body == "api01")
        }
    }

    @Test("backend rules run once routed there; http-response rules: the backend's, then the frontend's")
    func backendAndResponseRules() async throws {
        try await withRules(
            frontend: ["http-response set-header X-Via frontend", "http-response add-header X-Order frontend"],
            web: ["http-response del-header Content-Type", "http-response add-header X-Order backend"],
            api: ["http-request deny deny_status 404"]
        ) { port, _, socketPath, syslog in
            let web = try await HTTPTestClient.get(port: port, "/", group: testGroup)
            #expect(web.body == "web01")
            #expect(web.headers["x-via"] == ["frontend"])
            #expect(web.headers["x-order"] == ["backend", "frontend"])
            #expect(web.headers["content-type"].isEmpty)
            let api = try await HTTPTestClient.get(port: port, "/api/x", group: testGroup)
            #expect(api.status == 404)
            #expect(api.body.contains("The resource could not be found."))
            #expect(await eventually { syslog.lines.contains { $0.contains(" web_entry api/<NOSRV> ") } })
            let stat = try await runtimeCommand(socketPath, "show stat")
            #expect(csvValue(stat, "api", "BACKEND", "dreq") == "1")
            #expect(csvValue(stat, "web_entry", "FRONTEND", "dreq") == "0")
        }
    }

    @Test("a listen section's rules guard its stats page: denied for other sources, served to the allowed one")
    func statsGuard() async throws {
        let admin = basicAuthorization("admin", "pw")
        let allowed = ["stats auth admin:pw", "http-request deny unless { src 127.0.0.1 }"]
        try await withRules(frontend: [], stats: allowed) {
            _, statsPort, _, _ in
            let page = try await HTTPTestClient.get(port: statsPort, "/stats", group: testGroup, headers: [admin])
            #expect(page.status == 200)
        }
        try await withRules(frontend: [], stats: ["stats auth admin:pw", "http-request deny if { src 127.0.0.0/8 }"]) {
            _, statsPort, _, _ in
            let page = try await HTTPTestClient.get(port: statsPort, "/stats", group: testGroup, headers: [admin])
            #expect(page.status == 403)
        }
    }
}
