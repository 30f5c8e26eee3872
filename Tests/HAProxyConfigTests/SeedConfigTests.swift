import Foundation
import Testing

@testable import HAProxyConfig

/// The seed's haproxy.cfg, read verbatim from the repository's fixtures.
enum SeedFixture {
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../fixtures/seed/haproxy.cfg").standardizedFileURL.path
    }

    static func text() throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }
}

@Suite struct SeedConfigTests {
    @Test func seedParsesWithoutAnyDiagnostic() throws {
        let result = BalancerConfig.parse(try SeedFixture.text(), fileName: "haproxy.cfg")
        #expect(result.diagnostics.map(\.description) == [])
        #expect(result.summaryLine == nil)
    }

    @Test func seedGlobal() throws {
        let config = BalancerConfig.parse(try SeedFixture.text()).config
        #expect(config.global.maxConn == 10000)
        #expect(config.global.maxConnLocation == SourceLocation(file: "haproxy.cfg", line: 3))
        #expect(config.global.daemon)
        #expect(config.global.logTargets.count == 1)
        let log = try #require(config.global.logTargets.first)
        #expect(log.destination == .udp(host: .ipv4("127.0.0.1"), port: 514))
        #expect(log.facility == .local2)
        #expect(log.level == nil)
    }

    @Test func seedFrontendAndStatsListen() throws {
        let config = BalancerConfig.parse(try SeedFixture.text()).config
        #expect(config.frontends.map(\.name) == ["web_entry", "stats"])

        let entry = try #require(config.frontend(named: "web_entry"))
        #expect(entry.origin == .frontend)
        #expect(entry.binds.map(\.address) == [BindAddress(host: .anyIPv4, port: 80)])
        #expect(entry.routedBackend == "web_backend")
        #expect(entry.mode == .http)
        #expect(entry.timeouts.client == .seconds(30))
        #expect(entry.logging.httpLog)
        #expect(entry.logging.dontLogNull)
        #expect(entry.logging.targets.map(\.facility) == [.local2])
        #expect(entry.forwardFor == ForwardFor(header: "X-Forwarded-For", except: nil, ifNone: false))
        #expect(entry.httpConnectionMode == .keepAlive)
        #expect(entry.stats == nil)

        let stats = try #require(config.frontend(named: "stats"))
        #expect(stats.origin == .listen)
        #expect(stats.binds.map(\.address) == [BindAddress(host: .anyIPv4, port: 8404)])
        #expect(stats.stats?.uri == "/stats")
        #expect(stats.stats?.refresh == .seconds(10))
        #expect(
            stats.stats?.credentials
                == [
                    StatsCredential(
                        user: "admin", password: "strong_password_here",
                        location: HAProxyConfig.SourceLocation(file: "haproxy.cfg", line: 33))
                ])
        #expect(stats.stats?.realm == "HAProxy Statistics")
        #expect(stats.defaultBackend == "stats")
    }

    @Test func seedKeywordLocations() throws {
        let config = BalancerConfig.parse(try SeedFixture.text()).config
        func at(_ line: Int) -> HAProxyConfig.SourceLocation { SourceLocation(file: "haproxy.cfg", line: line) }
        let defaults = at(6)

        let backend = try #require(config.backend(named: "web_backend"))
        #expect(backend.keywordLocations["balance"] == KeywordLocation(line: at(21)))
        #expect(backend.keywordLocations["option httpchk"] == KeywordLocation(line: at(22)))
        #expect(backend.keywordLocations["http-check expect"] == KeywordLocation(line: at(23)))
        #expect(backend.keywordLocations["timeout connect"] == KeywordLocation(line: at(12), defaultsSection: defaults))
        #expect(backend.keywordLocations["timeout server"] == KeywordLocation(line: at(14), defaultsSection: defaults))
        #expect(backend.keywordLocations["mode"]?.isInherited == true)
        // Not written anywhere: HAProxy's default, located at the section header.
        #expect(!backend.isSet("retries") && backend.location(of: "retries") == at(20))
        #expect(!backend.isSet("option redispatch") && backend.location(of: "option redispatch") == at(20))

        let entry = try #require(config.frontend(named: "web_entry"))
        #expect(entry.location(of: "option forwardfor") == at(11))
        #expect(entry.keywordLocations["option forwardfor"]?.isInherited == true)
        #expect(entry.location(of: "timeout client") == at(13))
        #expect(entry.location(of: "maxconn") == at(16))

        let stats = try #require(config.frontend(named: "stats"))
        #expect(stats.keywordLocations["mode"] == KeywordLocation(line: at(29)))
        #expect(stats.location(of: "stats auth") == at(33))
    }

    @Test func seedBackendServersAndChecks() throws {
        let config = BalancerConfig.parse(try SeedFixture.text()).config
        #expect(config.backends.map(\.name) == ["web_backend", "stats"])
        let backend = try #require(config.backend(named: "web_backend"))
        #expect(backend.balance == .roundRobin)
        #expect(backend.retries == 3)
        #expect(backend.redispatch == .unset)
        #expect(backend.timeouts.connect == .seconds(3))
        #expect(backend.timeouts.server == .seconds(30))
        #expect(backend.timeouts.client == .seconds(30))
        #expect(backend.timeouts.check == nil)
        #expect(
            backend.httpCheck
                == HTTPCheck(
                    method: "GET", uri: "/health", version: "HTTP/1.0",
                    expect: HTTPCheckExpectation(match: .status([200...200]))))
        #expect(backend.httpCheck?.passes(status: 200) == true)
        #expect(backend.httpCheck?.passes(status: 301) == false)

        #expect(backend.servers.map(\.name) == ["web01", "web02"])
        #expect(backend.servers.map(\.address.description) == ["192.168.10.21:80", "192.168.10.22:80"])
        for server in backend.servers {
            #expect(server.checkEnabled)
            #expect(server.checkInterval == .seconds(2))
            #expect(server.fastInterval == .seconds(2))
            #expect(server.downInterval == .seconds(2))
            #expect(server.fall == 3)
            #expect(server.rise == 2)
            #expect(server.weight == 1)
            #expect(!server.isBackup)
            #expect(!server.isDisabled)
            #expect(server.maxConn == nil)
        }
        #expect(backend.servers.map(\.location.line) == [24, 25])
    }
}
