/// The VRRP protocol version of an advert or an instance.
public enum VRRPVersion: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// RFC 3768: interval in whole seconds, optional simple-password authentication.
    case v2 = 2
    /// RFC 5798 / RFC 9568: interval in centiseconds, no authentication.
    case v3 = 3

    public var description: String { "VRRPv\(rawValue)" }
}

/// The authentication an advert carries. Only VRRPv2 has the field (RFC 3768 §5.3.6); VRRPv3 removed it.
public enum VRRPAuthentication: Hashable, Sendable {
    /// Auth type 0.
    case none
    /// Auth type 1 (`auth_type PASS`): up to 8 bytes of clear text, zero-padded on the wire.
    case password([UInt8])
    /// Any other auth type (2 is IPsec AH), kept so it can be reported; Portico does not implement AH.
    case other(type: UInt8, data: [UInt8])

    /// `auth_pass` as keepalived.conf gives it: truncated to the 8 bytes that fit on the wire, as Keepalived does.
    public static func password(_ text: String) -> VRRPAuthentication {
        .password(Array(Array(text.utf8).prefix(8)))
    }

    /// The value of the auth type field.
    public var typeCode: UInt8 {
        switch self {
        case .none: return 0
        case .password: return 1
        case .other(let type, _): return type
        }
    }

    /// The 8 bytes of the Authentication Data field.
    public var wireData: [UInt8] {
        switch self {
        case .none:
            return [UInt8](repeating: 0, count: 8)
        case .password(let bytes), .other(_, let bytes):
            let head = Array(bytes.prefix(8))
            return head + [UInt8](repeating: 0, count: 8 - head.count)
        }
    }

    /// Two values that put the same bytes on the wire are the same authentication: `"1234"` and
    /// `"1234\0\0\0\0"` match, as they do for Keepalived.
    func matchesOnWire(_ other: VRRPAuthentication) -> Bool {
        typeCode == other.typeCode && (typeCode == 0 || wireData == other.wireData)
    }
}

/// How a VRRPv3 checksum over IPv4 is computed.
public enum VRRPv3Checksum: Sendable, Hashable {
    /// RFC 5798 §5.2.8: the sum includes the IPv4 pseudo-header (source, destination, zero, protocol 112,
    /// VRRP length). Keepalived's default, and what the RFC requires.
    case withPseudoHeader
    /// The VRRP message alone, as some older implementations (and Keepalived's `old_unicast_checksum`) do.
    case withoutPseudoHeader
}

/// The IP-level facts a receiver needs to check an advert: the kernel gives them with each packet.
public struct ReceivedIPHeader: Hashable, Sendable {
    /// The sender's address: its primary address, used for the tie-break (RFC 5798 §6.4.3).
    public var source: IPv4Address
    /// 224.0.0.18 for multicast, this node's address for unicast.
    public var destination: IPv4Address
    /// RFC 5798 §7.1: a multicast advert must arrive with TTL (hop limit) 255, proving it was not routed.
    public var ttl: UInt8

    public init(source: IPv4Address, destination: IPv4Address = .vrrpMulticastGroup, ttl: UInt8 = 255) {
        self.source = source
        self.destination = destination
        self.ttl = ttl
    }
}

/// One VRRP advertisement: the fields of the packet (RFC 3768 §5.1, RFC 5798 §5.1), independent of version.
public struct VRRPAdvert: Hashable, Sendable {
    /// IP protocol number VRRP is carried in.
    public static let ipProtocol: UInt8 = 112
    /// The only packet type defined: ADVERTISEMENT.
    public static let advertisementType: UInt8 = 1
    /// The priority a master sends when it stops being master, so backups take over after Skew_Time.
    public static let resignPriority: UInt8 = 0
    /// The priority of the router that owns the virtual addresses.
    public static let ownerPriority: UInt8 = 255

    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    /// 0 = the master is resigning, 1...254 = a router that may back up, 255 = the address owner.
    public var priority: UInt8
    /// The advertisement interval in centiseconds. VRRPv2 carries whole seconds (so a multiple of 100 here),
    /// VRRPv3 12 bits of centiseconds (1...4095).
    public var intervalCentiseconds: UInt16
    /// The virtual addresses the sender protects.
    public var addresses: [IPv4Address]
    /// VRRPv2 only; always `.none` for VRRPv3.
    public var authentication: VRRPAuthentication

    public init(
        version: VRRPVersion, virtualRouterID: UInt8, priority: UInt8, intervalCentiseconds: UInt16,
        addresses: [IPv4Address], authentication: VRRPAuthentication = .none
    ) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.intervalCentiseconds = intervalCentiseconds
        self.addresses = addresses
        self.authentication = authentication
    }

    /// The advertisement interval as a duration.
    public var interval: Duration { .milliseconds(Int(intervalCentiseconds) * 10) }

    /// The VRRP message length for this version and address count.
    public var encodedLength: Int { Self.length(version: version, addressCount: addresses.count) }

    static func length(version: VRRPVersion, addressCount: Int) -> Int {
        8 + 4 * addressCount + (version == .v2 ? 8 : 0)
    }
}

/// Why an advert cannot be encoded.
public enum VRRPEncodeError: Error, Hashable, Sendable {
    /// VRRPv2 carries whole seconds 1...255, VRRPv3 centiseconds 1...4095.
    case intervalNotRepresentable(version: VRRPVersion, centiseconds: UInt16)
    /// The count field is one byte; RFC 5798 also requires at least one address.
    case addressCount(Int)
    /// VRRPv3 has no authentication field.
    case authenticationInVersion3
}

/// Why received bytes are not a VRRP advert. Each case names a drop reason the daemon counts.
public enum VRRPPacketError: Error, Hashable, Sendable {
    /// Shorter than the fixed header (or than its address list and auth data).
    case tooShort(length: Int)
    /// The version nibble is neither 2 nor 3.
    case badVersion(UInt8)
    /// The type nibble is not 1 (ADVERTISEMENT).
    case badType(UInt8)
    /// The checksum does not verify; `computed` is what the packet should have carried.
    case badChecksum(received: UInt16, computed: UInt16)
    /// The count of addresses does not agree with the message length.
    case countMismatch(count: Int, length: Int)

    /// The counter this error is counted under.
    public var dropReason: VRRPDropReason {
        switch self {
        case .tooShort: return .tooShort
        case .badVersion: return .badVersion
        case .badType: return .badType
        case .badChecksum: return .badChecksum
        case .countMismatch: return .countMismatch
        }
    }
}

extension VRRPAdvert {
    /// Encodes the advert. For VRRPv3 the pseudo-header needs the IP source and destination the packet
    /// will be sent with, so a unicast master encodes once per peer.
    public func encode(
        source: IPv4Address, destination: IPv4Address, v3Checksum: VRRPv3Checksum = .withPseudoHeader
    ) throws(VRRPEncodeError) -> [UInt8] {
        guard (1...255).contains(addresses.count) else { throw .addressCount(addresses.count) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedLength)
        bytes.append(version.rawValue << 4 | Self.advertisementType)
        bytes.append(virtualRouterID)
        bytes.append(priority)
        bytes.append(UInt8(addresses.count))
        switch version {
        case .v2:
            guard intervalCentiseconds % 100 == 0, (1...255).contains(intervalCentiseconds / 100) else {
                throw .intervalNotRepresentable(version: .v2, centiseconds: intervalCentiseconds)
            }
            bytes.append(authentication.typeCode)
            bytes.append(UInt8(intervalCentiseconds / 100))
        case .v3:
            guard (1...0x0FFF).contains(intervalCentiseconds) else {
                throw .intervalNotRepresentable(version: .v3, centiseconds: intervalCentiseconds)
            }
            guard authentication == .none else { throw .authenticationInVersion3 }
            // The top 4 bits are reserved and sent as zero (RFC 5798 §5.2.5).
            bytes.append(UInt8(intervalCentiseconds >> 8))
            bytes.append(UInt8(intervalCentiseconds & 0xFF))
        }
        bytes.append(0)
        bytes.append(0)
        for address in addresses {
            bytes.append(contentsOf: address.bytes)
        }
        if version == .v2 {
            bytes.append(contentsOf: authentication.wireData)
        }
        let checksum = Self.checksum(
            of: bytes, version: version, source: source, destination: destination, v3Checksum: v3Checksum)
        bytes[6] = UInt8(checksum >> 8)
        bytes[7] = UInt8(checksum & 0xFF)
        return bytes
    }

    /// Decodes the VRRP message (the IP payload) and verifies its checksum. The IP header facts are needed
    /// for the VRRPv3 pseudo-header.
    public static func decode(
        _ bytes: some Collection<UInt8>, source: IPv4Address, destination: IPv4Address,
        v3Checksum: VRRPv3Checksum = .withPseudoHeader
    ) throws(VRRPPacketError) -> VRRPAdvert {
        let bytes = Array(bytes)
        guard bytes.count >= 8 else { throw .tooShort(length: bytes.count) }
        let versionCode = bytes[0] >> 4
        guard let version = VRRPVersion(rawValue: versionCode) else { throw .badVersion(versionCode) }
        let type = bytes[0] & 0x0F
        guard type == advertisementType else { throw .badType(type) }
        let count = Int(bytes[3])
        let expected = length(version: version, addressCount: count)
        if bytes.count < expected {
            // A count that promises more than arrived: short if even the minimum is missing.
            if bytes.count < length(version: version, addressCount: 0) { throw .tooShort(length: bytes.count) }
            throw .countMismatch(count: count, length: bytes.count)
        }
        guard bytes.count == expected else { throw .countMismatch(count: count, length: bytes.count) }
        let received = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
        var zeroed = bytes
        zeroed[6] = 0
        zeroed[7] = 0
        let computed = checksum(
            of: zeroed, version: version, source: source, destination: destination, v3Checksum: v3Checksum)
        guard received == computed else { throw .badChecksum(received: received, computed: computed) }

        var addresses: [IPv4Address] = []
        addresses.reserveCapacity(count)
        for index in 0..<count {
            let at = 8 + 4 * index
            addresses.append(IPv4Address(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]))
        }
        switch version {
        case .v2:
            let authType = bytes[4]
            let data = Array(bytes[(8 + 4 * count)...])
            let authentication: VRRPAuthentication
            switch authType {
            case 0: authentication = .none
            case 1: authentication = .password(data)
            default: authentication = .other(type: authType, data: data)
            }
            return VRRPAdvert(
                version: .v2, virtualRouterID: bytes[1], priority: bytes[2],
                intervalCentiseconds: UInt16(bytes[5]) * 100, addresses: addresses, authentication: authentication)
        case .v3:
            let interval = (UInt16(bytes[4]) << 8 | UInt16(bytes[5])) & 0x0FFF
            return VRRPAdvert(
                version: .v3, virtualRouterID: bytes[1], priority: bytes[2], intervalCentiseconds: interval,
                addresses: addresses)
        }
    }

    /// The Virtual Router ID of a message without decoding it, so a daemon with several instances on one
    /// socket can hand the bytes to the right one (which then decodes and counts errors itself).
    public static func peekVirtualRouterID(_ bytes: some Collection<UInt8>) -> UInt8? {
        bytes.count >= 2 ? bytes[bytes.index(after: bytes.startIndex)] : nil
    }

    /// The checksum field's value for `message` (whose checksum field must be zero).
    static func checksum(
        of message: [UInt8], version: VRRPVersion, source: IPv4Address, destination: IPv4Address,
        v3Checksum: VRRPv3Checksum
    ) -> UInt16 {
        var sum: UInt32 = 0
        if version == .v3, v3Checksum == .withPseudoHeader {
            // RFC 5798 §5.2.8 and RFC 2460 §8.1's IPv4 counterpart (RFC 768 style): src, dst, zero, protocol, length.
            sum = InternetChecksum.add(source.bytes, to: sum)
            sum = InternetChecksum.add(destination.bytes, to: sum)
            sum = InternetChecksum.add(
                [0, ipProtocol, UInt8(message.count >> 8), UInt8(message.count & 0xFF)], to: sum)
        }
        sum = InternetChecksum.add(message, to: sum)
        return InternetChecksum.finish(sum)
    }
}

/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit words.
enum InternetChecksum {
    /// Adds `bytes` (an even-length chunk unless it is the last) to a running 32-bit sum.
    static func add(_ bytes: [UInt8], to sum: UInt32) -> UInt32 {
        var sum = sum
        var index = 0
        while index + 1 < bytes.count {
            sum &+= UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count {
            // An odd trailing byte is padded with a zero byte on the right.
            sum &+= UInt32(bytes[index]) << 8
        }
        return sum
    }

    static func finish(_ sum: UInt32) -> UInt16 {
        var sum = sum
        while sum >> 16 != 0 {
            sum = (sum & 0xFFFF) + (sum >> 16)
        }
        return ~UInt16(sum)
    }
}
