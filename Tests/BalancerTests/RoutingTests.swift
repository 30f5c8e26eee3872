import Balancer
import Foundation
import HAProxyConfig
import NIOCore
import NIOHTTP1
import Testing

/// `acl` and `use_backend ... if`: each request goes to the backend its rules pick, on loopback, through the
/// real parser, with the operator's view (httplog lines, `show stat`) following each request's backend.
@Suite("Routing with ACLs and use_backend on loopback")
struct RoutingTests {
    /// web01 behind `web`, api01 behind `api`, static01 behind `static`; `frontendLines` (the rules) before
    /// `default_backend web`.
    func withRoutedBalancer(
        frontendLines: [String], backendOptions: [String: [String]] = [:], defaultsLines: [String] = [],
        _ body: (_ port: Int, _ socketPath: String, _ syslog: SyslogCollector) async throws -> Void
    ) async throws {
        try await withBackends(["web01", "api01", "static01"], group: testGroup) { servers in
            try await withSyslogAndSocket { syslog, socketPath in
                let port = freePort()
                var lines = [
                    "global", "    log 127.0.0.1:\(syslog.port) local2", "    stats socket \(socketPath) level admin",
                    "defaults", "    mode http", "    log global", "    option httplog", "    timeout connect 3s",
                    "    timeout client 30s", "    timeout server 30s",
                ]
                lines += defaultsLines.map { "    " + $0 }
                lines += ["frontend web_entry", "    bind 127.0.0.1:\(port)"] + frontendLines.map { "    " + $0 }
                lines.append("    default_backend web")
                for (name, server) in [("web", servers[0]), ("api", servers[1]), ("static", servers[2])] {
                    lines.append("backend \(name)")
                    lines += (backendOptions[name] ?? []).map { "    " + $0 }
                    lines.append("    server \(server.name) 127.0.0.1:\(server.port)")
                }
                try await withConfigText(lines.joined(separator: "\n") + "\n") {
                    try await body(port, socketPath, syslog)
                }
            }
        }
    }

    static let rules = [
        "acl is_api path_beg -i /api", "acl is_static path_end .css .js",
        "use_backend api if is_api", "use_backend static if is_static !is_api",
    ]

    @Test("path rules: /api and static files go to their backends, the rest to default_backend; first match wins")
    func pathRules() async throws {
        try await withRoutedBalancer(frontendLines: Self.rules) { port, _, _ in
            for (path, expected) in [
                ("/", "web01"), ("/API/users?x=1", "api01"), ("/site.css", "static01"), ("/api/app.js", "api01"),
                ("/index.html", "web01"), ("/app.js?v=2", "static01"),
            ] {
                let response = try await HTTPTestClient.get(port: port, path, group: testGroup)
                #expect(response.status == 200)
                #expect(response.body == expected, "\(path)")
            }
        }
    }

    @Test("one kept-alive client connection: each request is routed on its own; httplog and show stat follow it")
    func keepAliveRequestsRouteOneByOne() async throws {
        try await withRoutedBalancer(frontendLines: Self.rules) { port, socketPath, syslog in
            let client = try await HTTPTestClient.connect(port: port, group: testGroup)
            var bodies: [String] = []
            for path in ["/api/a", "/", "/x.css", "/api/b"] {
                bodies.append(try await client.request(.GET, path).body)
            }
            await client.close()
            #expect(bodies == ["api01", "web01", "static01", "api01"])
            #expect(await eventually { syslog.lines.count >= 4 })
            let logged = syslog.lines.map { line in
                ["api/api01", "web/web01", "static/static01"].first { line.contains(" web_entry \($0) ") } ?? line
            }
            #expect(logged == ["api/api01", "web/web01", "static/static01", "api/api01"])
            let stat = try await runtimeCommand(socketPath, "show stat")
            #expect(csvValue(stat, "api", "BACKEND", "req_tot") == "2")
            #expect(csvValue(stat, "web", "BACKEND", "req_tot") == "1")
            #expect(csvValue(stat, "static", "api01", "stot") == nil)
            #expect(csvValue(stat, "static", "static01", "stot") == "1")
        }
    }

    @Test("header, method and anonymous conditions; unless; or")
    func headerMethodAndAnonymous() async throws {
        let lines = [
            "acl tenant_b hdr(x-tenant) -i beta", "use_backend static if METH_POST",
            "use_backend api if tenant_b or { path /v2 }", "use_backend static unless { path_beg /keep }",
        ]
        try await withRoutedBalancer(frontendLines: lines) { port, _, _ in
            var answers: [String] = []
            for (method, path, headers) in [
                (HTTPMethod.POST, "/keep/x", [(String, String)]()), (.GET, "/keep/x", [("x-tenant", "alpha, BETA")]),
                (.GET, "/v2", []), (.GET, "/keep/x", []), (.GET, "/other", []),
            ] {
                answers.append(
                    try await HTTPTestClient.get(port: port, path, group: testGroup, method: method, headers: headers)
                        .body)
            }
            #expect(answers == ["static01", "api01", "api01", "web01", "static01"])
        }
    }

    @Test("a backend's option httpclose applies to the requests routed to it only")
    func connectionOptionsFollowTheBackend() async throws {
        try await withRoutedBalancer(frontendLines: Self.rules, backendOptions: ["api": ["option httpclose"]]) {
            port, _, _ in
            let kept = try await rawExchange(
                port: port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", group: testGroup, timeout: .milliseconds(500))
            #expect(!kept.lowercased().contains("connection: close"), "\(kept)")
            let closed = try await rawExchange(
                port: port, "GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n", group: testGroup, timeout: .seconds(10))
            #expect(closed.hasSuffix("api01"))
            #expect(closed.lowercased().contains("connection: close"), "\(closed)")
        }
    }
}
