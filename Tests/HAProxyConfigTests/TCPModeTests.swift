import Testing

@testable import HAProxyConfig

@Suite("mode tcp sections")
struct TCPModeConfigTests {
    @Test("mode tcp in defaults, frontend, backend and listen: accepted, without warnings")
    func accepted() throws {
        let result = BalancerConfig.parse(
            """
            defaults
                mode tcp
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend mysql_in
                bind 127.0.0.1:3307
                option tcplog
                default_backend mysql
            backend mysql
                balance leastconn
                server db1 10.0.0.1:3306 check
                server db2 10.0.0.2:3306 check backup
            listen redis
                mode tcp
                bind 127.0.0.1:6380
                server r1 10.0.0.3:6379 check
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            backend web
                server w1 10.0.0.4:80
            """, fileName: "t.cfg")
        #expect(result.diagnostics.isEmpty, "\(result.report)")
        let modes = Dictionary(uniqueKeysWithValues: result.config.backends.map { ($0.name, $0.mode) })
        #expect(modes == ["mysql": .tcp, "redis": .tcp, "web": .http])
        #expect(result.config.frontends.map(\.mode) == [.tcp, .tcp])
        #expect(result.config.backends.first?.balance == .leastConn)
        #expect(result.config.backends.first?.httpCheck == nil)
    }

    @Test("a tcp proxy without timeouts gets HAProxy's missing-timeouts warning too")
    func missingTimeouts() {
        let result = BalancerConfig.parse(
            "defaults\n    mode tcp\nfrontend f\n    bind 127.0.0.1:3307\n    default_backend b\n"
                + "backend b\n    server s 127.0.0.1:1\n", fileName: "t.cfg")
        #expect(result.diagnostics.map(\.message).filter { $0.hasPrefix("missing timeouts for ") }.count == 2)
        #expect(!result.hasAlerts)
    }

    /// What `haproxy -c` (2.6.12) prints for these lines, checked by running it on the same file.
    @Test("HTTP-only keywords in a tcp proxy: HAProxy's warnings, and the keywords are ignored")
    func httpOnlyKeywords() throws {
        let text = """
            defaults
                mode tcp
                log 127.0.0.1 local0
                option httplog
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend f1
                bind 127.0.0.1:13307
                option forwardfor
                option http-server-close
                timeout http-request 5s
                http-request use-service prometheus-exporter if { path /metrics }
                default_backend b1
            backend b1
                option httpchk GET /
                http-check expect status 200
                stats enable
                stats uri /st
                server s1 127.0.0.1:1 check
            """
        let result = BalancerConfig.parse(text, fileName: "a.cfg")
        #expect(
            result.report == [
                "[WARNING] parsing [a.cfg:4] : 'option httplog' not usable with frontend 'f1' (needs 'mode http'). "
                    + "Falling back to 'option tcplog'.",
                "[WARNING] parsing [a.cfg:10] : 'option forwardfor' ignored for frontend 'f1' as it requires HTTP mode.",
                "[WARNING] parsing [a.cfg:13] : 'http-request' rules ignored for frontend 'f1' as they require HTTP "
                    + "mode.",
                "[WARNING] parsing [a.cfg:18] : 'stats' statement ignored for backend 'b1' as it requires HTTP mode.",
            ])
        let frontend = try #require(result.config.frontends.first)
        #expect(frontend.logging.httpLog == false)
        #expect(frontend.forwardFor == nil)
        #expect(frontend.prometheusExporterPath == nil)
        let backend = try #require(result.config.backends.first)
        #expect(backend.stats == nil)
        // HAProxy runs HTTP checks on a tcp backend too: `option httpchk` is kept.
        #expect(backend.httpCheck?.uri == "/")
    }
}
