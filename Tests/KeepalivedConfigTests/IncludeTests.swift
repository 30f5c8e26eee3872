import Testing

@testable import KeepalivedConfig

@Suite struct IncludeTests {
    static let scripts = """
        vrrp_script chk_haproxy {
            script "/etc/keepalived/check_haproxy.sh"
            weight -30
        }
        """

    @Test func includeIsRelativeToTheIncludingFileAndKeepsItsLines() throws {
        let source = ConfigSource.inMemory([
            "/etc/keepalived/keepalived.conf": "include conf.d/*.conf\ninclude instances/vi_1.inc\n",
            "/etc/keepalived/conf.d/10-scripts.conf": Self.scripts,
            "/etc/keepalived/conf.d/README": "this is not a config file",
            "/etc/keepalived/instances/vi_1.inc": "include ../vip.inc\n",
            "/etc/keepalived/vip.inc": instance("    track_script {\n        chk_haproxy\n    }"),
        ])
        let result = KeepalivedConfigParser.parse(file: "/etc/keepalived/keepalived.conf", source: source)
        #expect(result.diagnostics == [])
        let script = try #require(result.config.scripts.first)
        #expect(script.location == ConfigLocation(file: "/etc/keepalived/conf.d/10-scripts.conf", line: 1))
        #expect(
            script.location(of: "weight") == ConfigLocation(file: "/etc/keepalived/conf.d/10-scripts.conf", line: 3))
        let vi = try #require(result.config.instances.first)
        #expect(vi.location == ConfigLocation(file: "/etc/keepalived/vip.inc", line: 1))
        #expect(vi.trackScripts.first?.weight == -30)
        #expect(vi.trackScripts.first?.location == ConfigLocation(file: "/etc/keepalived/vip.inc", line: 6))
    }

    @Test func wildcardIncludesAreReadInSortedOrder() throws {
        let source = ConfigSource.inMemory([
            "/k/keepalived.conf": "include /k/i/*.conf\n",
            "/k/i/b.conf": instance("", name: "VI_B", vrid: 52),
            "/k/i/a.conf": instance("", name: "VI_A"),
            "/k/i/c.conf.disabled": instance("", name: "VI_C"),
        ])
        let result = KeepalivedConfigParser.parse(file: "/k/keepalived.conf", source: source)
        #expect(result.diagnostics == [])
        #expect(result.config.instances.map(\.name) == ["VI_A", "VI_B"])
    }

    @Test func includeInsideABlock() throws {
        let source = ConfigSource.inMemory([
            "/k/keepalived.conf": "vrrp_instance VI_1 {\n    include vi_1.body\n}\n",
            "/k/vi_1.body": "interface eth0\nvirtual_router_id 51\nvirtual_ipaddress {\n    192.168.10.100/24\n}\n",
        ])
        let result = KeepalivedConfigParser.parse(file: "/k/keepalived.conf", source: source)
        #expect(result.diagnostics == [])
        let vi = try #require(result.config.instances.first)
        #expect(vi.location(of: "virtual_router_id") == ConfigLocation(file: "/k/vi_1.body", line: 2))
    }

    @Test func diagnosticsNameTheIncludedFile() {
        let source = ConfigSource.inMemory([
            "/k/keepalived.conf": "include inst.conf\nvrrp_instanc X {\n}\n",
            "/k/inst.conf": instance("    priorty 120"),
        ])
        let result = KeepalivedConfigParser.parse(file: "/k/keepalived.conf", source: source)
        #expect(
            result.diagnostics.map(\.description) == [
                "(/k/keepalived.conf: Line 2) Unknown keyword 'vrrp_instanc' - did you mean 'vrrp_instance'?",
                "(/k/inst.conf: Line 5) Unknown keyword 'priorty' - did you mean 'priority'?",
            ])
    }

    @Test func missingIncludesAndLoops() {
        let source = ConfigSource.inMemory([
            "/k/keepalived.conf": "include missing.conf\ninclude nothing/*.conf\ninclude loop.conf\n" + instance(""),
            "/k/loop.conf": "include loop.conf\n",
        ])
        let result = KeepalivedConfigParser.parse(file: "/k/keepalived.conf", source: source)
        #expect(
            result.diagnostics.map(\.description) == [
                "(/k/keepalived.conf: Line 1) Could not open included file '/k/missing.conf'",
                "(/k/keepalived.conf: Line 2) include 'nothing/*.conf' matches no file",
                "(/k/loop.conf: Line 1) include 'loop.conf' nested too deeply (include loop?)",
            ])
    }

    @Test func patternMatching() {
        #expect(IncludePattern.matches("10-vi.conf", pattern: "*.conf"))
        #expect(!IncludePattern.matches("vi.conf.bak", pattern: "*.conf"))
        #expect(IncludePattern.matches("a1.conf", pattern: "a?.conf"))
        #expect(IncludePattern.matches("b.conf", pattern: "[a-c].conf"))
        #expect(!IncludePattern.matches("d.conf", pattern: "[a-c].conf"))
        #expect(IncludePattern.matches("d.conf", pattern: "[!a-c].conf"))
        #expect(ConfigPath.resolve("../x/y.conf", relativeTo: "/etc/keepalived/conf.d") == "/etc/keepalived/x/y.conf")
    }
}
