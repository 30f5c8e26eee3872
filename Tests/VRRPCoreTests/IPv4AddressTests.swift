import Testing

@testable import VRRPCore

@Suite struct IPv4AddressTests {
    @Test func parsesAndPrintsDottedQuad() throws {
        let address = try #require(IPv4Address("192.168.10.100"))
        #expect(address.value == 0xC0A8_0A64)
        #expect(address.bytes == [192, 168, 10, 100])
        #expect(address.description == "192.168.10.100")
    }

    @Test(arguments: ["192.168.10", "1.2.3.4.5", "256.1.1.1", "a.b.c.d", "1..2.3", "192.168.010.1", "", " 1.2.3.4", "+1.2.3.4"])
    func rejectsMalformedText(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func ordersNumerically() {
        #expect(IPv4Address(192, 168, 10, 12) > IPv4Address(192, 168, 10, 11))
        #expect(IPv4Address(10, 0, 0, 2) < IPv4Address(192, 168, 0, 1))
        #expect(IPv4Address.vrrpMulticastGroup.isMulticast)
        #expect(!IPv4Address(192, 168, 10, 11).isMulticast)
    }
}

@Suite struct VRRPInstantTests {
    @Test func convertsToAndFromContinuousClockWithAnOrigin() {
        let origin = ContinuousClock().now
        let later = origin.advanced(by: .milliseconds(3609))
        let instant = VRRPInstant(later, origin: origin)
        #expect(instant == VRRPInstant(.milliseconds(3609)))
        #expect(instant.continuousClockInstant(origin: origin) == later)
        #expect(instant + .seconds(1) - instant == .seconds(1))
        #expect(VRRPInstant.zero < instant)
    }
}
