import Testing

@testable import VRRPCore

@Suite struct VRRPAdvertCodecTests {
    let lb01 = IPv4Address(192, 168, 10, 11)
    let lb02 = IPv4Address(192, 168, 10, 12)
    let vip = IPv4Address(192, 168, 10, 100)
    let group = IPv4Address.vrrpMulticastGroup

    // The seed's advert from lb01: VRRPv2, VRID 51, priority 120, one address, PASS "12345678", 1 s.
    // Checksum by hand over 16-bit words (checksum field zero):
    //   2133 + 7801 + 0101 + 0000 + c0a8 + 0a64 + 3132 + 3334 + 3536 + 3738 = 0x23615
    //   fold: 0x3615 + 0x2 = 0x3617; complement: 0xc9e8
    let seedV2: [UInt8] = [
        0x21, 0x33, 0x78, 0x01, 0x01, 0x01, 0xC9, 0xE8,
        0xC0, 0xA8, 0x0A, 0x64,
        0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
    ]

    // VRRPv3 from lb02, priority 100, advert_int 0.1 (10 centiseconds), to 224.0.0.18.
    // Pseudo-header: c0a8 0a0c e000 0012 0070 000c; message: 3133 6401 000a 0000 c0a8 0a64.
    //   sum = 0x30b8c; fold: 0x0b8c + 0x3 = 0x0b8f; complement: 0xf470
    // Without the pseudo-header: 3133 + 6401 + 000a + c0a8 + 0a64 = 0x1604a -> 0x604b -> 0x9fb4
    let seedV3: [UInt8] = [0x31, 0x33, 0x64, 0x01, 0x00, 0x0A, 0xF4, 0x70, 0xC0, 0xA8, 0x0A, 0x64]

    @Test func encodesTheSeedV2AdvertWithPassword() throws {
        let advert = VRRPAdvert(
            version: .v2, virtualRouterID: 51, priority: 120, intervalCentiseconds: 100, addresses: [vip],
            authentication: .password("12345678"))
        #expect(try advert.encode(source: lb01, destination: group) == seedV2)
    }

    @Test func decodesTheSeedV2Advert() throws {
        let advert = try VRRPAdvert.decode(seedV2, source: lb01, destination: group)
        #expect(advert.version == .v2)
        #expect(advert.virtualRouterID == 51)
        #expect(advert.priority == 120)
        #expect(advert.interval == .seconds(1))
        #expect(advert.addresses == [vip])
        #expect(advert.authentication == .password(Array("12345678".utf8)))
    }

    @Test func passwordLongerThanEightBytesIsTruncatedAsKeepalivedDoes() throws {
        let long = VRRPAdvert(
            version: .v2, virtualRouterID: 51, priority: 120, intervalCentiseconds: 100, addresses: [vip],
            authentication: .password("1234567890"))
        #expect(try long.encode(source: lb01, destination: group) == seedV2)
    }

    @Test func encodesAndDecodesV3WithPseudoHeaderChecksum() throws {
        let advert = VRRPAdvert(
            version: .v3, virtualRouterID: 51, priority: 100, intervalCentiseconds: 10, addresses: [vip])
        #expect(try advert.encode(source: lb02, destination: group) == seedV3)
        let decoded = try VRRPAdvert.decode(seedV3, source: lb02, destination: group)
        #expect(decoded == advert)
        #expect(decoded.interval == .milliseconds(100))
    }

    @Test func v3ChecksumDependsOnTheAddressesInThePseudoHeader() throws {
        // The same bytes from another source do not verify: the pseudo-header is part of the sum.
        #expect(throws: VRRPPacketError.badChecksum(received: 0xF470, computed: 0xF471)) {
            try VRRPAdvert.decode(seedV3, source: IPv4Address(192, 168, 10, 11), destination: group)
        }
    }

    @Test func v3WithoutPseudoHeaderVariant() throws {
        let advert = VRRPAdvert(
            version: .v3, virtualRouterID: 51, priority: 100, intervalCentiseconds: 10, addresses: [vip])
        let bytes = try advert.encode(source: lb02, destination: group, v3Checksum: .withoutPseudoHeader)
        #expect(bytes[6] == 0x9F && bytes[7] == 0xB4)
        #expect(
            try VRRPAdvert.decode(bytes, source: lb01, destination: lb02, v3Checksum: .withoutPseudoHeader) == advert)
        #expect(throws: VRRPPacketError.self) {
            try VRRPAdvert.decode(bytes, source: lb02, destination: group, v3Checksum: .withPseudoHeader)
        }
    }

    // Captured packets from other projects' test suites, as cross-checks of the hand computation:
    // gopacket layers/vrrp_test.go, tcpdump "IP 192.168.0.30 > 224.0.0.18: VRRPv2, Advertisement, vrid 1,
    // prio 100, authtype none, intvl 1s, length 20" (VRRP payload below, checksum 0xba52).
    @Test func decodesACapturedV2Advert() throws {
        let captured: [UInt8] = [
            0x21, 0x01, 0x64, 0x01, 0x00, 0x01, 0xBA, 0x52, 0xC0, 0xA8, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        let source = IPv4Address(192, 168, 0, 30)
        let advert = try VRRPAdvert.decode(captured, source: source, destination: group)
        #expect(advert.virtualRouterID == 1 && advert.priority == 100 && advert.authentication == .none)
        #expect(advert.addresses == [IPv4Address(192, 168, 0, 1)])
        #expect(try advert.encode(source: source, destination: group) == captured)
    }

    // PcapPlusPlus Tests/Packet++Test/PacketExamples/VRRP-V3-IPv4.dat: 192.168.0.30 > 224.0.0.18, VRRPv3,
    // vrid 1, prio 100, two addresses, max adver int 1 cs, checksum 0x484d computed with the pseudo-header.
    @Test func decodesACapturedV3AdvertWithPseudoHeaderChecksum() throws {
        let captured: [UInt8] = [
            0x31, 0x01, 0x64, 0x02, 0x00, 0x01, 0x48, 0x4D, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0x02,
        ]
        let source = IPv4Address(192, 168, 0, 30)
        let advert = try VRRPAdvert.decode(captured, source: source, destination: group)
        #expect(advert.version == .v3 && advert.virtualRouterID == 1 && advert.priority == 100)
        #expect(advert.intervalCentiseconds == 1)
        #expect(advert.addresses == [IPv4Address(192, 168, 0, 1), IPv4Address(192, 168, 0, 2)])
        #expect(try advert.encode(source: source, destination: group) == captured)
    }

    @Test func v3ReservedBitsAreIgnoredOnReceive() throws {
        var bytes = seedV3
        bytes[4] |= 0xF0
        // Fix the checksum for the changed word: the reserved bits are covered by it.
        bytes[6] = 0
        bytes[7] = 0
        let sum = VRRPAdvert.checksum(
            of: bytes, version: .v3, source: lb02, destination: group, v3Checksum: .withPseudoHeader)
        bytes[6] = UInt8(sum >> 8)
        bytes[7] = UInt8(sum & 0xFF)
        #expect(try VRRPAdvert.decode(bytes, source: lb02, destination: group).intervalCentiseconds == 10)
    }

    @Test func rejectsTruncatedPackets() {
        #expect(throws: VRRPPacketError.tooShort(length: 7)) {
            try VRRPAdvert.decode(seedV2.prefix(7), source: lb01, destination: group)
        }
        // The count says one address but the auth data is cut off.
        #expect(throws: VRRPPacketError.countMismatch(count: 1, length: 16)) {
            try VRRPAdvert.decode(seedV2.prefix(16), source: lb01, destination: group)
        }
        // A v2 header without even its auth data.
        #expect(throws: VRRPPacketError.tooShort(length: 12)) {
            try VRRPAdvert.decode(seedV2.prefix(12), source: lb01, destination: group)
        }
    }

    @Test func rejectsBadVersionAndType() {
        var version4 = seedV2
        version4[0] = 0x41
        #expect(throws: VRRPPacketError.badVersion(4)) {
            try VRRPAdvert.decode(version4, source: lb01, destination: group)
        }
        var type2 = seedV2
        type2[0] = 0x22
        #expect(throws: VRRPPacketError.badType(2)) {
            try VRRPAdvert.decode(type2, source: lb01, destination: group)
        }
    }

    @Test func rejectsCorruptedChecksum() {
        var corrupted = seedV2
        corrupted[2] = 121  // priority changed in flight: word 0x7801 becomes 0x7901, the sum grows by 0x100
        #expect(throws: VRRPPacketError.badChecksum(received: 0xC9E8, computed: 0xC8E8)) {
            try VRRPAdvert.decode(corrupted, source: lb01, destination: group)
        }
    }

    @Test func rejectsCountThatDisagreesWithLength() {
        var twoAddresses = seedV2
        twoAddresses[3] = 2
        #expect(throws: VRRPPacketError.countMismatch(count: 2, length: 20)) {
            try VRRPAdvert.decode(twoAddresses, source: lb01, destination: group)
        }
        #expect(throws: VRRPPacketError.countMismatch(count: 1, length: 21)) {
            try VRRPAdvert.decode(seedV2 + [0], source: lb01, destination: group)
        }
    }

    @Test func errorsMapToDropReasons() {
        #expect(VRRPPacketError.tooShort(length: 1).dropReason == .tooShort)
        #expect(VRRPPacketError.badChecksum(received: 1, computed: 2).dropReason == .badChecksum)
        #expect(VRRPPacketError.countMismatch(count: 1, length: 2).dropReason == .countMismatch)
    }

    @Test func refusesToEncodeWhatTheWireCannotCarry() {
        let halfSecondV2 = VRRPAdvert(
            version: .v2, virtualRouterID: 1, priority: 100, intervalCentiseconds: 50, addresses: [vip])
        #expect(throws: VRRPEncodeError.intervalNotRepresentable(version: .v2, centiseconds: 50)) {
            try halfSecondV2.encode(source: lb01, destination: group)
        }
        let tooSlowV3 = VRRPAdvert(
            version: .v3, virtualRouterID: 1, priority: 100, intervalCentiseconds: 4096, addresses: [vip])
        #expect(throws: VRRPEncodeError.intervalNotRepresentable(version: .v3, centiseconds: 4096)) {
            try tooSlowV3.encode(source: lb01, destination: group)
        }
        let noAddresses = VRRPAdvert(
            version: .v2, virtualRouterID: 1, priority: 100, intervalCentiseconds: 100, addresses: [])
        #expect(throws: VRRPEncodeError.addressCount(0)) {
            try noAddresses.encode(source: lb01, destination: group)
        }
        let authV3 = VRRPAdvert(
            version: .v3, virtualRouterID: 1, priority: 100, intervalCentiseconds: 100, addresses: [vip],
            authentication: .password("secret"))
        #expect(throws: VRRPEncodeError.authenticationInVersion3) {
            try authV3.encode(source: lb01, destination: group)
        }
    }

    @Test func peeksTheVirtualRouterID() {
        #expect(VRRPAdvert.peekVirtualRouterID(seedV2) == 51)
        // A slice keeps its parent's indices: the peek must still read the second byte of the message.
        #expect(VRRPAdvert.peekVirtualRouterID(([0xFF] + seedV2).dropFirst()) == 51)
        #expect(VRRPAdvert.peekVirtualRouterID([0x21]) == nil)
    }
}
