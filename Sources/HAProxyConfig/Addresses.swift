/// The host part of an address as written in the configuration, classified but not resolved
/// (name resolution is I/O and belongs to the balancer).
public enum Host: Sendable, Hashable, CustomStringConvertible {
    /// `*`, an empty host (`:80`) or `0.0.0.0`: every IPv4 address.
    case anyIPv4
    /// `::`: every IPv6 address (and IPv4 too unless `v6only`).
    case anyIPv6
    /// A dotted-quad IPv4 address, validated.
    case ipv4(String)
    /// An IPv6 address without brackets, validated.
    case ipv6(String)
    /// A DNS name, syntax-checked only.
    case name(String)

    /// The host as a socket API expects it (`0.0.0.0` and `::` for the wildcards).
    public var description: String {
        switch self {
        case .anyIPv4: return "0.0.0.0"
        case .anyIPv6: return "::"
        case .ipv4(let text), .ipv6(let text), .name(let text): return text
        }
    }

    public var isIPv6: Bool {
        switch self {
        case .anyIPv6, .ipv6: return true
        default: return false
        }
    }
}

/// A `bind` address: `*:80`, `:80`, `0.0.0.0:80`, `192.168.10.100:80`, `:::80`, `[::1]:80`, `ipv4@...`, `ipv6@...`.
public struct BindAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: Host
    public var port: Int

    public init(host: Host, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A `server` address: `192.168.10.21:80`, `[2001:db8::1]:80`, `web01.example:80`.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: Host
    public var port: Int

    public init(host: Host, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An IPv4 or IPv6 network such as `127.0.0.0/8` (from `option forwardfor except`). A bare address is a /32 or /128.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, already masked to `prefixLength`.
    public var address: [UInt8]
    public var prefixLength: Int

    public init(address: [UInt8], prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public var isIPv6: Bool { address.count == 16 }

    /// Whether `bytes` (4 or 16 bytes of a peer address) is inside this network. IPv4-mapped IPv6 peers
    /// (`::ffff:a.b.c.d`) match IPv4 networks, since a dual-stack listener reports IPv4 clients that way.
    public func contains(_ bytes: [UInt8]) -> Bool {
        var candidate = bytes
        if address.count == 4, bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff,
            bytes[11] == 0xff
        {
            candidate = Array(bytes[12..<16])
        }
        guard candidate.count == address.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if candidate[index] & mask != address[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let text: String
        if address.count == 4 {
            text = address.map(String.init).joined(separator: ".")
        } else {
            text = stride(from: 0, to: 16, by: 2)
                .map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
        return "\(text)/\(prefixLength)"
    }
}
