/// An IPv4 address as VRRP carries it: four bytes in network order. KeepalivedConfig's model uses this type
/// too, so a parsed VIP goes into an advert without conversion.
///
/// Ordering is numeric (as an unsigned 32-bit number), which is what RFC 5798 §6.4.3 means by
/// "the primary IPvX address of the sender is greater than the local primary IPvX address".
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a host-order number: `192.168.10.11` is `0xC0A8_0A0B`.
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text (`"192.168.10.100"`); `nil` for anything else, including leading zeros
    /// that `inet_aton` would read as octal.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part.count == 1 || part.first != "0", let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] {
        [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    /// 224.0.0.0/4: adverts to such a destination must arrive with TTL 255 (RFC 5798 §7.1).
    public var isMulticast: Bool { value >> 28 == 0xE }

    /// 224.0.0.18, the IPv4 multicast group VRRP uses (RFC 5798 §5.1.1.2).
    public static let vrrpMulticastGroup = IPv4Address(224, 0, 0, 18)

    public var description: String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs.value < rhs.value
    }
}
