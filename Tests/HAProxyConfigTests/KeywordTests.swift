import Testing

@testable import HAProxyConfig

@Suite struct GlobalKeywordTests {
    @Test func everyGlobalKeyword() throws {
        let result = parse(
            """
            global
                log 127.0.0.1:1514 len 2048 format rfc5424 local0 info notice
                log /dev/log daemon
                log stdout format raw local1
                log stderr format short local2 err
                log [::1]:514 local3
                log ::1 local4
                log udp@10.0.0.1 local5
                maxconn 4096
                daemon
                pidfile /run/portico.pid
                nbthread 2
                user haproxy
                group haproxy
                stats socket /run/portico.sock mode 660 level admin expose-fd listeners
                stats socket ipv4@127.0.0.1:9999 level user
                stats timeout 30s
                tune.bufsize 32k
            """, quiet: false)
        #expect(result.diagnostics == [])
        let global = result.config.global
        #expect(global.logTargets.count == 7)
        let first = global.logTargets[0]
        #expect(first.destination == .udp(host: .ipv4("127.0.0.1"), port: 1514))
        #expect(first.maxLength == 2048)
        #expect(first.format == .rfc5424)
        #expect(first.facility == .local0)
        #expect(first.level == .info)
        #expect(first.minLevel == .notice)
        #expect(global.logTargets[1].destination == .unixSocket(path: "/dev/log"))
        #expect(global.logTargets[1].facility == .daemon)
        #expect(global.logTargets[2].destination == .stdout)
        #expect(global.logTargets[2].format == .raw)
        #expect(global.logTargets[3].destination == .stderr)
        #expect(global.logTargets[3].level == .err)
        #expect(global.logTargets[4].destination == .udp(host: .ipv6("::1"), port: 514))
        #expect(global.logTargets[5].destination == .udp(host: .ipv6("::1"), port: 514))
        #expect(global.logTargets[6].destination == .udp(host: .ipv4("10.0.0.1"), port: 514))
        #expect(global.maxConn == 4096)
        #expect(global.daemon)
        #expect(global.pidFile == "/run/portico.pid")
        #expect(global.threadCount == 2)
        #expect(global.user == "haproxy")
        #expect(global.group == "haproxy")
        #expect(global.statsSockets.count == 2)
        let socket = global.statsSockets[0]
        #expect(socket.path == "/run/portico.sock")
        #expect(socket.mode == 0o660)
        #expect(socket.level == .admin)
        #expect(socket.exposesListeners)
        #expect(global.statsSockets[1].path == "ipv4@127.0.0.1:9999")
        #expect(global.statsSockets[1].level == .user)
        #expect(global.statsSockets[1].mode == nil)
        #expect(global.statsTimeout == .seconds(30))
        #expect(global.bufferSize == 32 * 1024)
    }

    @Test func globalDefaults() {
        let global = parse("global\n    daemon\n", quiet: false).config.global
        #expect(global.bufferSize == 16384)
        #expect(global.maxConn == nil)
        #expect(global.statsSockets == [])
        #expect(global.statsTimeout == .seconds(10))
        #expect(StatsSocket(path: "/x", location: SourceLocation(file: "f", line: 1)).level == .operator)
    }
}

@Suite struct ProxyKeywordTests {
    @Test func serverOptionsAndDefaultServer() throws {
        let result = parse(
            """
            backend app
                default-server inter 3s fall 5 rise 4 weight 20 maxconn 100
                server a 10.0.0.1:8080 check
                server b 10.0.0.2:8080 check inter 500 fastinter 250ms downinter 10s fall 1 rise 1 weight 0 backup
                server c [2001:db8::7]:80 disabled maxconn 0 port 8081 addr 10.0.0.9 slowstart 1m
                server d web03.example.internal:80 no-check weight 256
            """)
        #expect(result.diagnostics == [])
        let servers = try #require(result.config.backend(named: "app")).servers
        #expect(servers.map(\.name) == ["a", "b", "c", "d"])

        let a = servers[0]
        #expect(a.address == ServerAddress(host: .ipv4("10.0.0.1"), port: 8080))
        #expect(a.checkEnabled)
        #expect(a.checkInterval == .seconds(3))
        #expect(a.fastInterval == .seconds(3))
        #expect(a.downInterval == .seconds(3))
        #expect(a.fall == 5)
        #expect(a.rise == 4)
        #expect(a.weight == 20)
        #expect(a.maxConn == 100)

        let b = servers[1]
        #expect(b.checkInterval == .milliseconds(500))
        #expect(b.fastInterval == .milliseconds(250))
        #expect(b.downInterval == .seconds(10))
        #expect(b.fall == 1)
        #expect(b.rise == 1)
        #expect(b.weight == 0)
        #expect(b.isBackup)

        let c = servers[2]
        #expect(c.address == ServerAddress(host: .ipv6("2001:db8::7"), port: 80))
        #expect(c.address.description == "[2001:db8::7]:80")
        #expect(c.isDisabled)
        #expect(!c.checkEnabled)
        #expect(c.maxConn == nil)
        #expect(c.checkPort == 8081)
        #expect(c.checkAddress == .ipv4("10.0.0.9"))
        #expect(c.slowStart == .seconds(60))

        let d = servers[3]
        #expect(d.address == ServerAddress(host: .name("web03.example.internal"), port: 80))
        #expect(!d.checkEnabled)
        #expect(d.weight == 256)
    }

    @Test func balanceAlgorithms() throws {
        let names = ["roundrobin", "static-rr", "leastconn", "source", "first", "random", "random(3)"]
        let expected: [BalanceAlgorithm] = [
            .roundRobin, .staticRoundRobin, .leastConn, .source, .first, .random(draws: 2), .random(draws: 3),
        ]
        for (name, algorithm) in zip(names, expected) {
            let result = parse("backend b\n    balance \(name)\n    server s 10.0.0.1:80\n")
            #expect(result.diagnostics == [])
            #expect(result.config.backends.first?.balance == algorithm)
            #expect(algorithm.description == name)
        }
        #expect(parse("backend b\n    server s 10.0.0.1:80\n").config.backends.first?.balance == .roundRobin)
    }

    @Test func httpChecks() throws {
        let result = parse(
            """
            backend one
                option httpchk
                server s 10.0.0.1:80 check
            backend two
                option httpchk /ping
                server s 10.0.0.1:80 check
            backend three
                option httpchk HEAD /health HTTP/1.1
                http-check send hdr Host www.example.com hdr User-Agent "portico check" meth GET uri /h ver HTTP/1.1
                http-check expect ! status 500-599
                server s 10.0.0.1:80 check
            backend four
                option httpchk GET /
                http-check expect rstatus ^2[0-9]{2}$
                server s 10.0.0.1:80 check
            backend five
                option httpchk GET /
                http-check expect string "all good"
                server s 10.0.0.1:80 check
            backend six
                option httpchk GET /
                http-check expect status 200,204,300-399
                server s 10.0.0.1:80 check
            backend tcp_checks
                server s 10.0.0.1:80 check
            backend legacy
                option httpchk GET /health HTTP/1.1\\r\\nHost:\\ www.example.com
                http-check send hdr X-Probe 1
                server s 10.0.0.1:80 check
            """)
        #expect(result.diagnostics == [])
        let config = result.config
        let one = try #require(config.backend(named: "one")?.httpCheck)
        #expect(one == HTTPCheck(method: "OPTIONS", uri: "/", version: "HTTP/1.0"))
        #expect(one.passes(status: 302))
        #expect(!one.passes(status: 404))

        #expect(config.backend(named: "two")?.httpCheck?.uri == "/ping")
        #expect(config.backend(named: "two")?.httpCheck?.method == "OPTIONS")

        let three = try #require(config.backend(named: "three")?.httpCheck)
        #expect(three.method == "GET")
        #expect(three.uri == "/h")
        #expect(three.version == "HTTP/1.1")
        #expect(
            three.headers == [
                HTTPCheckHeader(name: "Host", value: "www.example.com"),
                HTTPCheckHeader(name: "User-Agent", value: "portico check"),
            ])
        #expect(three.expect == HTTPCheckExpectation(match: .status([500...599]), negated: true))
        #expect(three.passes(status: 404))
        #expect(!three.passes(status: 503))

        let four = try #require(config.backend(named: "four")?.httpCheck)
        #expect(four.passes(status: 204))
        #expect(!four.passes(status: 301))

        let five = try #require(config.backend(named: "five")?.httpCheck)
        #expect(five.passes(status: 500, body: "status: all good"))
        #expect(!five.passes(status: 200, body: "degraded"))

        let six = try #require(config.backend(named: "six")?.httpCheck)
        #expect(six.expect?.match == .status([200...200, 204...204, 300...399]))
        #expect(six.passes(status: 304))
        #expect(!six.passes(status: 201))

        #expect(config.backend(named: "tcp_checks")?.httpCheck == nil)

        let legacy = try #require(config.backend(named: "legacy")?.httpCheck)
        #expect(legacy.version == "HTTP/1.1")
        #expect(
            legacy.headers == [
                HTTPCheckHeader(name: "Host", value: "www.example.com"), HTTPCheckHeader(name: "X-Probe", value: "1"),
            ])
    }

    @Test func retriesRedispatchAndConnectionModes() throws {
        let result = parse(
            """
            backend a
                retries 5
                option redispatch
                server s 10.0.0.1:80
            backend b
                retries 0
                option redispatch 2
                option http-server-close
                server s 10.0.0.1:80
            backend c
                option redispatch -2
                option httpclose
                fullconn 500
                server s 10.0.0.1:80
            backend d
                option redispatch
                no option redispatch
                option httpclose
                option http-keep-alive
                server s 10.0.0.1:80
            """)
        #expect(result.diagnostics == [])
        let config = result.config
        #expect(config.backend(named: "a")?.retries == 5)
        #expect(config.backend(named: "a")?.redispatch == .on(interval: -1))
        #expect(config.backend(named: "b")?.retries == 0)
        #expect(config.backend(named: "b")?.redispatch == .on(interval: 2))
        #expect(config.backend(named: "b")?.httpConnectionMode == .serverClose)
        #expect(config.backend(named: "c")?.redispatch == .on(interval: -2))
        #expect(config.backend(named: "c")?.httpConnectionMode == .close)
        #expect(config.backend(named: "c")?.fullConn == 500)
        #expect(config.backend(named: "d")?.redispatch == .off)
        #expect(config.backend(named: "d")?.httpConnectionMode == .keepAlive)
    }

    @Test func everyTimeout() throws {
        let result = parse(
            """
            defaults
                timeout connect 1s
                timeout client 2m
                timeout server 3h
                timeout http-request 10s
                timeout http-keep-alive 1500
                timeout queue 30s
                timeout check 250ms
                timeout tunnel 1d
            listen l
                bind :8080
                server s 10.0.0.1:80
            """)
        #expect(result.diagnostics == [])
        let expected = Timeouts(
            connect: .seconds(1), client: .seconds(120), server: .seconds(3 * 3600), httpRequest: .seconds(10),
            httpKeepAlive: .milliseconds(1500), queue: .seconds(30), check: .milliseconds(250),
            tunnel: .seconds(86400))
        #expect(result.config.frontends.first?.timeouts == expected)
        #expect(result.config.backends.first?.timeouts == expected)
    }

    @Test("timeout client-fin on the client side and server-fin on the server side, inherited from defaults")
    func timeoutFin() {
        let result = parse(
            """
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
                timeout client-fin 30s
                timeout server-fin 1s
            frontend f
                bind :80
                timeout client-fin 10s
                default_backend b
            backend b
                timeout server-fin 0
                server s 10.0.0.1:80
            backend inherited
                server s 10.0.0.1:80
            backend wrong
                timeout client-fin 5s
                server s 10.0.0.1:80
            """, quiet: false)
        #expect(result.diagnostics.map(\.description) == [
            "[WARNING] parsing [t.cfg:18] : 'timeout client-fin' ignored because backend 'wrong' has no "
                + "frontend capability."
        ])
        #expect(result.config.frontend(named: "f")?.timeouts.clientFin == .seconds(10))
        #expect(result.config.backend(named: "b")?.timeouts.serverFin == nil)
        #expect(result.config.backend(named: "inherited")?.timeouts.serverFin == .seconds(1))
    }

    @Test("timeout tunnel: from defaults, per backend and listen, 0 for none; a frontend ignores it as HAProxy does")
    func timeoutTunnel() {
        let result = parse(
            """
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
                timeout tunnel 1h
            frontend f
                bind :80
                timeout tunnel 5m
                default_backend inherited
            backend inherited
                server s 10.0.0.1:80
            backend own
                timeout tunnel 300ms
                server s 10.0.0.1:80
            backend none
                timeout tunnel 0
                server s 10.0.0.1:80
            listen l
                bind :81
                timeout tunnel 2s
                server s 10.0.0.1:80
            """, quiet: false)
        #expect(result.diagnostics.map(\.description) == [
            "[WARNING] parsing [t.cfg:9] : 'timeout tunnel' ignored because frontend 'f' has no "
                + "backend capability."
        ])
        #expect(result.config.backend(named: "inherited")?.timeouts.tunnel == .seconds(3600))
        #expect(result.config.backend(named: "own")?.timeouts.tunnel == .milliseconds(300))
        #expect(result.config.backend(named: "none")?.timeouts.tunnel == nil)
        #expect(result.config.backend(named: "l")?.timeouts.tunnel == .seconds(2))
        #expect(report("backend b\n    timeout tunnel\n    server s 10.0.0.1:80\n").count == 1)
        #expect(report("backend b\n    timeout tunel 1s\n    server s 10.0.0.1:80\n").first?.contains(
            "did you mean 'timeout tunnel'?") == true)
    }

    @Test func timeoutFallbacks() {
        let timeouts = Timeouts(connect: .seconds(3), client: .seconds(30))
        #expect(timeouts.effectiveHTTPRequest == .seconds(30))
        #expect(timeouts.effectiveHTTPKeepAlive == .seconds(30))
        #expect(timeouts.effectiveQueue == .seconds(3))
        let explicit = Timeouts(client: .seconds(30), httpRequest: .seconds(5))
        #expect(explicit.effectiveHTTPKeepAlive == .seconds(5))
        let zero = parse("defaults\n    timeout queue 0\nbackend b\n    server s 10.0.0.1:80\n")
        #expect(zero.config.backends.first?.timeouts.queue == nil)
    }

    @Test func bindsAndMaxConn() throws {
        let result = parse(
            """
            frontend f
                bind *:80
                bind :81,127.0.0.1:82
                bind :::83 v6only
                bind [::1]:84 name local
                bind ipv6@:85 v4v6
                bind ipv4@0.0.0.0:86
                bind 192.168.10.100:87
                maxconn 2000
                default_backend b
            backend b
                server s 10.0.0.1:80
            """)
        #expect(result.diagnostics == [])
        let frontend = try #require(result.config.frontend(named: "f"))
        #expect(
            frontend.binds.map(\.address) == [
                BindAddress(host: .anyIPv4, port: 80), BindAddress(host: .anyIPv4, port: 81),
                BindAddress(host: .ipv4("127.0.0.1"), port: 82), BindAddress(host: .anyIPv6, port: 83),
                BindAddress(host: .ipv6("::1"), port: 84), BindAddress(host: .anyIPv6, port: 85),
                BindAddress(host: .anyIPv4, port: 86), BindAddress(host: .ipv4("192.168.10.100"), port: 87),
            ])
        #expect(frontend.binds.map(\.address.description)[3] == "[::]:83")
        #expect(frontend.binds[3].v6Only == true)
        #expect(frontend.binds[4].name == "local")
        #expect(frontend.binds[5].v6Only == false)
        #expect(frontend.binds[0].v6Only == nil)
        #expect(frontend.binds.map(\.location.line) == [2, 3, 3, 4, 5, 6, 7, 8].map { $0 + quietOffset })
        #expect(frontend.maxConn == 2000)
    }

    @Test func forwardForVariants() throws {
        let result = parse(
            """
            frontend f
                bind :80
                option forwardfor except 127.0.0.0/8 header X-Client-IP if-none
                default_backend b
            backend b
                option forwardfor
                server s 10.0.0.1:80
            """)
        #expect(result.diagnostics == [])
        let forwardFor = try #require(result.config.frontend(named: "f")?.forwardFor)
        #expect(forwardFor.header == "X-Client-IP")
        #expect(forwardFor.ifNone)
        #expect(forwardFor.except == IPNetwork(address: [127, 0, 0, 0], prefixLength: 8))
        #expect(forwardFor.except?.contains([127, 1, 2, 3]) == true)
        #expect(forwardFor.except?.contains([10, 0, 0, 1]) == false)
        #expect(result.config.backend(named: "b")?.forwardFor == ForwardFor())
    }

    @Test func loggingOptions() throws {
        let result = parse(
            """
            global
                log 10.0.0.5 local2
            frontend quiet
                bind :80
                default_backend b
            frontend loud
                bind :81
                log global
                log stdout format raw local0 info
                option httplog
                option dontlognull
                default_backend b
            backend b
                no log
                server s 10.0.0.1:80
            """)
        #expect(result.diagnostics == [])
        #expect(result.config.frontend(named: "quiet")?.logging == ProxyLogging())
        let loud = try #require(result.config.frontend(named: "loud")?.logging)
        #expect(loud.targets.map(\.destination) == [.udp(host: .ipv4("10.0.0.5"), port: 514), .stdout])
        #expect(loud.httpLog)
        #expect(loud.dontLogNull)
        #expect(result.config.backend(named: "b")?.logging.targets == [])
    }

    @Test func statsKeywordsAndPrometheus() throws {
        let result = parse(
            """
            listen stats
                bind 127.0.0.1:8404
                stats enable
                stats uri /admin?stats
                stats refresh 5s
                stats auth admin:secret
                stats auth ops:pa:ss
                stats realm "Portico\\ Statistics"
                stats hide-version
                stats admin if LOCALHOST
                http-request use-service prometheus-exporter if { path /metrics }
            frontend f
                bind :80
                stats admin if TRUE
                default_backend b
            backend b
                server s 10.0.0.1:80
            """)
        #expect(result.diagnostics == [])
        let listen = try #require(result.config.frontend(named: "stats"))
        let stats = try #require(listen.stats)
        #expect(stats.uri == "/admin?stats")
        #expect(stats.refresh == .seconds(5))
        #expect(
            stats.credentials.map { "\($0.user):\($0.password)" } == ["admin:secret", "ops:pa:ss"])
        #expect(stats.realm == "Portico Statistics")
        #expect(stats.hideVersion)
        #expect(stats.admin == .localhost)
        #expect(listen.prometheusExporterPath == "/metrics")
        // The listen's backend half does not serve the page a second time.
        #expect(result.config.backend(named: "stats")?.stats == nil)
        #expect(result.config.backend(named: "stats")?.prometheusExporterPath == nil)
        // Any stats keyword implies `stats enable` with HAProxy's defaults.
        let implied = try #require(result.config.frontend(named: "f")?.stats)
        #expect(implied.uri == "/haproxy?stats")
        #expect(implied.admin == .always)
    }

    @Test func listenIsAFrontendAndABackend() throws {
        let result = parse(
            """
            listen app
                bind :8080
                balance leastconn
                server s1 10.0.0.1:80 check
            listen only_backend
                server s1 10.0.0.2:80
            frontend f
                bind :80
                use_backend only_backend
                default_backend app
            """)
        #expect(result.diagnostics == [])
        let config = result.config
        #expect(config.frontends.map(\.name) == ["app", "f"])
        #expect(config.backends.map(\.name) == ["app", "only_backend"])
        #expect(config.frontend(named: "app")?.routedBackend == "app")
        #expect(config.frontend(named: "app")?.origin == .listen)
        #expect(config.backend(named: "app")?.origin == .listen)
        #expect(config.backend(named: "app")?.balance == .leastConn)
        #expect(config.frontend(named: "f")?.routedBackend == "only_backend")
        #expect(config.frontend(named: "f")?.useBackends.map(\.backend) == ["only_backend"])
    }
}
