import Foundation
import Testing

@testable import HAProxyConfig

@Suite struct DefaultsTests {
    @Test func eachDefaultsSectionAppliesToTheSectionsAfterIt() throws {
        let result = BalancerConfig.parse(
            """
            global
                log 127.0.0.1 local2
            defaults
                mode http
                log global
                option httplog
                option forwardfor
                option redispatch
                retries 5
                maxconn 3000
                timeout connect 3s
                timeout client 30s
                timeout server 30s
                default-server inter 5s fall 2
                option httpchk GET /health
                http-check expect status 200
            backend first
                server a 10.0.0.1:80 check
            backend overridden
                retries 1
                no option redispatch
                timeout server 2m
                default-server rise 7
                option httpchk HEAD /ping
                server a 10.0.0.1:80 check fall 9
            frontend early
                bind :81
                default_backend first
            defaults
                timeout connect 1s
                timeout client 10s
                timeout server 10s
            backend second
                server a 10.0.0.1:80 check
            frontend f
                bind :80
                default_backend second
            """, fileName: "d.cfg")
        #expect(result.diagnostics == [])
        let config = result.config

        let first = try #require(config.backend(named: "first"))
        #expect(first.retries == 5)
        #expect(first.redispatch == .on(interval: -1))
        #expect(first.timeouts == Timeouts(connect: .seconds(3), client: .seconds(30), server: .seconds(30)))
        #expect(first.logging.httpLog)
        #expect(first.logging.targets.map(\.facility) == [.local2])
        #expect(first.forwardFor == ForwardFor())
        #expect(first.httpCheck?.uri == "/health")
        #expect(first.httpCheck?.expect == HTTPCheckExpectation(match: .status([200...200])))
        #expect(first.servers[0].checkInterval == .seconds(5))
        #expect(first.servers[0].fall == 2)
        #expect(first.servers[0].rise == 2)

        let overridden = try #require(config.backend(named: "overridden"))
        #expect(overridden.retries == 1)
        #expect(overridden.redispatch == .off)
        #expect(overridden.timeouts.server == .seconds(120))
        #expect(overridden.timeouts.connect == .seconds(3))
        #expect(overridden.httpCheck?.method == "HEAD")
        #expect(overridden.httpCheck?.uri == "/ping")
        // `option httpchk` in the proxy keeps the inherited expect rule.
        #expect(overridden.httpCheck?.expect == HTTPCheckExpectation(match: .status([200...200])))
        #expect(overridden.servers[0].checkInterval == .seconds(5))
        #expect(overridden.servers[0].fall == 9)
        #expect(overridden.servers[0].rise == 7)

        // A new defaults section resets everything to HAProxy's documented values.
        let second = try #require(config.backend(named: "second"))
        #expect(second.retries == 3)
        #expect(second.redispatch == .unset)
        #expect(second.timeouts == Timeouts(connect: .seconds(1), client: .seconds(10), server: .seconds(10)))
        #expect(second.logging == ProxyLogging())
        #expect(second.forwardFor == nil)
        #expect(second.httpCheck == nil)
        #expect(second.servers[0].checkInterval == .seconds(2))
        #expect(second.servers[0].fall == 3)
        let early = try #require(config.frontend(named: "early"))
        #expect(early.maxConn == 3000)
        #expect(early.logging.httpLog)
        #expect(early.forwardFor == ForwardFor())
        #expect(early.timeouts.client == .seconds(30))
        let frontend = try #require(config.frontend(named: "f"))
        #expect(frontend.maxConn == nil)
        #expect(frontend.timeouts.client == .seconds(10))
    }

    @Test func namedDefaultsAndFrom() throws {
        let result = BalancerConfig.parse(
            """
            defaults base
                timeout connect 3s
                timeout client 30s
                timeout server 30s
                retries 2
            defaults slow from base
                timeout server 5m
            defaults
                timeout connect 1s
                timeout client 1s
                timeout server 1s
            backend implicit
                server a 10.0.0.1:80
            backend explicit from base
                server a 10.0.0.1:80
            backend layered from slow
                server a 10.0.0.1:80
            """, fileName: "d.cfg")
        #expect(result.diagnostics == [])
        let config = result.config
        #expect(config.backend(named: "implicit")?.timeouts.server == .seconds(1))
        #expect(config.backend(named: "implicit")?.retries == 3)
        #expect(config.backend(named: "explicit")?.timeouts.server == .seconds(30))
        #expect(config.backend(named: "explicit")?.retries == 2)
        #expect(config.backend(named: "layered")?.timeouts.server == .seconds(300))
        #expect(config.backend(named: "layered")?.timeouts.connect == .seconds(3))
        #expect(config.backend(named: "layered")?.retries == 2)
    }

    @Test func ownHTTPCheckRulesReplaceInheritedOnes() throws {
        let result = parse(
            """
            defaults
                timeout connect 3s
                timeout client 30s
                timeout server 30s
                option httpchk GET /health
                http-check send hdr Host example.com
                http-check expect status 200
            backend inherits
                server a 10.0.0.1:80 check
            backend replaces
                http-check expect string ok
                server a 10.0.0.1:80 check
            """, quiet: false)
        #expect(result.diagnostics == [])
        let inherits = try #require(result.config.backend(named: "inherits")?.httpCheck)
        #expect(inherits.headers == [HTTPCheckHeader(name: "Host", value: "example.com")])
        #expect(inherits.expect?.match == .status([200...200]))
        let replaces = try #require(result.config.backend(named: "replaces")?.httpCheck)
        #expect(replaces.headers == [])
        #expect(replaces.expect?.match == .bodyContains("ok"))
        #expect(replaces.uri == "/health")
    }

    @Test func defaultsCarryAcrossFilesAndSectionsEndWithTheirFile() throws {
        let result = BalancerConfig.parse([
            ConfigFile(name: "00-defaults.cfg", text: quietDefaults + "    retries 7\n"),
            ConfigFile(name: "10-backends.cfg", text: "backend b\n    server a 10.0.0.1:80\n"),
            ConfigFile(name: "20-orphan.cfg", text: "    server z 10.0.0.9:80\n"),
        ])
        #expect(result.config.backend(named: "b")?.retries == 7)
        #expect(result.config.backend(named: "b")?.servers.map(\.name) == ["a"])
        #expect(
            result.diagnostics.map(\.description) == [
                "[ALERT] parsing [20-orphan.cfg:1] : unknown keyword 'server' out of section."
            ])
    }
}

@Suite struct WholeRunTests {
    @Test func everyErrorOfEveryFileInOneRun() {
        let result = BalancerConfig.parse([
            ConfigFile(
                name: "a.cfg",
                text: """
                    global
                        maxconn lots
                        nbthreads 4
                    defaults
                        mode http
                        timeout connect 3s
                        timeout client 30s
                        timeout server 30s
                    frontend web_entry
                        bind *:80
                        default_backend web_backend
                    """),
            ConfigFile(
                name: "b.cfg",
                text: """
                    backend web_backend
                        balance roundrobin
                        option httpchk GET /health
                        http-check expect status 200
                        server web01 192.168.10.21:80 check inter 2s fall 3 rise 2
                        server web02 192.168.10.22:80 chek inter 2s fall 3 rise 2
                        server web01 192.168.10.23:80 check
                        timeout sever 30s
                    """),
        ])
        #expect(
            result.report == [
                "[ALERT] parsing [a.cfg:2] : 'maxconn' expects an integer argument (got 'lots').",
                "[ALERT] parsing [a.cfg:3] : unknown keyword 'nbthreads' in 'global' section; did you mean 'nbthread'?",
                "[ALERT] parsing [b.cfg:6] : 'server web_backend/web02' : unknown keyword 'chek'; "
                    + "did you mean 'check'?",
                "[ALERT] parsing [b.cfg:7] : backend 'web_backend', another server named 'web01' was already defined "
                    + "at line 5, please use distinct names.",
                "[ALERT] parsing [b.cfg:8] : 'timeout' supports 'client', 'server', 'connect', 'check', 'queue', "
                    + "'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' "
                    + "(got 'sever'); did you mean 'timeout server'?",
                "[ALERT] config : Fatal errors found in configuration.",
            ])
        #expect(result.alerts.count == 5)
        #expect(result.warnings.isEmpty)
    }

    @Test func loadReadsFilesAndDirectoriesAndReportsMissingOnes() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("portico-haproxy-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let confd = directory.appendingPathComponent("conf.d")
        try FileManager.default.createDirectory(at: confd, withIntermediateDirectories: true)
        try (quietDefaults + "frontend f\n    bind :80\n    default_backend b\n")
            .write(to: directory.appendingPathComponent("main.cfg"), atomically: true, encoding: .utf8)
        try "backend b\n    server a 10.0.0.1:80\n"
            .write(to: confd.appendingPathComponent("20-b.cfg"), atomically: true, encoding: .utf8)
        try "backend c\n    balanse first\n    server a 10.0.0.1:80\n"
            .write(to: confd.appendingPathComponent("10-c.cfg"), atomically: true, encoding: .utf8)
        try "ignored, not a .cfg".write(to: confd.appendingPathComponent("README"), atomically: true, encoding: .utf8)
        let missing = directory.appendingPathComponent("missing.cfg").path

        let result = BalancerConfig.load(paths: [
            directory.appendingPathComponent("main.cfg").path, confd.path, missing,
        ])
        #expect(result.config.backends.map(\.name) == ["c", "b"])
        #expect(
            result.diagnostics.map(\.description) == [
                "[ALERT] config : Could not open configuration file \(missing) : No such file or directory",
                "[ALERT] parsing [\(confd.path)/10-c.cfg:2] : unknown keyword 'balanse' in 'backend' section; "
                    + "did you mean 'balance'?",
            ])
    }

    @Test func keywordLocationsSayWhichLineAndWhetherItCameFromDefaults() throws {
        let result = BalancerConfig.parse(
            """
            defaults base
                mode http
                retries 5
                option redispatch
                timeout connect 3s
                timeout client 30s
                timeout server 30s
                option httpchk GET /health
                http-check expect status 200
                stats auth admin:first-secret-value
            defaults tuned from base
                timeout server 1m
            backend inherits
                server a 10.0.0.1:80 check
            backend own
                retries 2
                retries 4
                no option redispatch
                http-check send meth HEAD
                stats auth ops:second-secret-value
                server a 10.0.0.1:80 check
            backend bad
                balance roundrobin
                balance nonsense
                server a 10.0.0.1:80
            """, fileName: "l.cfg")
        #expect(result.diagnostics.count == 1)
        func at(_ line: Int) -> HAProxyConfig.SourceLocation { SourceLocation(file: "l.cfg", line: line) }

        let inherits = try #require(result.config.backend(named: "inherits"))
        // `defaults tuned from base` keeps base's lines, marked as coming from base; its own from tuned.
        #expect(inherits.keywordLocations["retries"] == KeywordLocation(line: at(3), defaultsSection: at(1)))
        #expect(inherits.keywordLocations["timeout server"] == KeywordLocation(line: at(12), defaultsSection: at(11)))
        #expect(inherits.keywordLocations["option redispatch"]?.line == at(4))
        #expect(inherits.redispatch == .on(interval: -1))
        #expect(inherits.keywordLocations["http-check expect"] == KeywordLocation(line: at(9), defaultsSection: at(1)))
        #expect(inherits.stats?.credentials.map(\.location) == [at(10)])

        let own = try #require(result.config.backend(named: "own"))
        // The last line of a repeated keyword is the one that counts.
        #expect(own.retries == 4)
        #expect(own.keywordLocations["retries"] == KeywordLocation(line: at(17)))
        // `no option redispatch` is where the value comes from.
        #expect(own.redispatch == .off)
        #expect(own.keywordLocations["option redispatch"] == KeywordLocation(line: at(18)))
        // A proxy's own http-check rule drops the inherited rules, and their lines with them.
        #expect(own.keywordLocations["http-check send"] == KeywordLocation(line: at(19)))
        #expect(own.keywordLocations["http-check expect"] == nil)
        #expect(own.httpCheck?.expect == nil)
        #expect(own.stats?.credentials.map(\.location) == [at(10), at(20)])
        #expect(own.location(of: "timeout connect") == at(5))

        // A refused line does not count as the one that set the value.
        let bad = try #require(result.config.backend(named: "bad"))
        #expect(bad.location(of: "balance") == at(23))
    }
}
