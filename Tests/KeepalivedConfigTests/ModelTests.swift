import Testing

@testable import KeepalivedConfig

@Suite struct ModelTests {
    @Test func diagnosticUsesKeepalivedShape() {
        let diagnostic = Diagnostic.error(
            ConfigLocation(file: "keepalived.conf", line: 12), "Unknown keyword 'priorty'")
        #expect(diagnostic.description == "(keepalived.conf: Line 12) Unknown keyword 'priorty'")
    }

    @Test func ipv4AddressParsesDottedQuadOnly() {
        #expect(IPv4Address("192.168.10.100")?.value == 0xC0A8_0A64)
        #expect(IPv4Address("192.168.10.100")?.description == "192.168.10.100")
        #expect(IPv4Address("192.168.10") == nil)
        #expect(IPv4Address("192.168.010.1") == nil)
        #expect(IPv4Address("256.1.1.1") == nil)
    }

    @Test func wirePasswordIsTruncatedAndPadded() {
        let location = ConfigLocation(file: "k", line: 1)
        #expect(
            Authentication(location: location, password: "1234567890", passwordLocation: location).wirePassword
                == Array("12345678".utf8))
        #expect(
            Authentication(location: location, password: "ab", passwordLocation: location).wirePassword
                == [97, 98, 0, 0, 0, 0, 0, 0])
    }
}

@Suite struct SmallBehaviourTests {
    @Test func aConfigWithoutInstancesIsWarnedAbout() {
        let result = parse("global_defs {\n    router_id lb01\n}\n")
        #expect(result.diagnostics.map(\.description) == ["No vrrp_instance defined"])
        #expect(!result.diagnostics.hasErrors)
    }

    @Test func scriptTimeoutDefaultsToTheInterval() throws {
        let config = try parse("vrrp_script chk {\n    script /bin/true\n    interval 3\n}\n" + instance("")).get()
        #expect(config.scripts.first?.effectiveTimeout == .seconds(3))
    }

    @Test func anUnreadableMainFileIsOneError() {
        let result = KeepalivedConfigParser.parse(file: "/k/keepalived.conf", source: .inMemory([:]))
        #expect(
            result.diagnostics.map(\.description) == [
                "Configuration file '/k/keepalived.conf' could not be read: no such file"
            ])
    }

    @Test func relativeMainFileAndIncludes() throws {
        let source = ConfigSource.inMemory(["keepalived.conf": "include vi.conf\n", "vi.conf": instance("")])
        let result = KeepalivedConfigParser.parse(file: "keepalived.conf", source: source)
        #expect(result.diagnostics == [])
        #expect(result.config.instances.first?.location == ConfigLocation(file: "vi.conf", line: 1))
    }

    @Test func subnetContainment() {
        let vip = VirtualIPAddress(
            location: ConfigLocation(file: "k", line: 1), address: IPv4Address(192, 168, 10, 100),
            prefixLength: 24)
        #expect(vip.subnetContains(IPv4Address(192, 168, 10, 11)))
        #expect(!vip.subnetContains(IPv4Address(192, 168, 11, 11)))
        #expect(vip.description == "192.168.10.100/24")
    }
}
