import Testing
@testable import KeepalivedConfig

@Suite struct ModelTests {
    @Test func diagnosticUsesKeepalivedShape() {
        let diagnostic = Diagnostic.error(ConfigLocation(file: "keepalived.conf", line: 12), "Unknown keyword 'priorty'")
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
        #expect(Authentication(location: location, password: "1234567890", passwordLocation: location).wirePassword
            == Array("12345678".utf8))
        #expect(Authentication(location: location, password: "ab", passwordLocation: location).wirePassword
            == [97, 98, 0, 0, 0, 0, 0, 0])
    }
}
