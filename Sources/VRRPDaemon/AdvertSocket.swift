import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#endif

/// A VRRP packet as it came off the wire, with the IP header fields the RFC checks (§7.1: TTL must be 255).
public struct ReceivedAdvert: Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var ttl: UInt8
    /// The VRRP message, after the IP header.
    public var payload: [UInt8]
}

/// The raw IP socket (protocol 112) of one VRRP instance, bound to its interface.
///
/// Not NIORawSocketBootstrap: SwiftNIO's datagram channel cannot set the source address per packet, and the
/// daemon needs SO_BINDTODEVICE, the multicast join by interface index and the TTL of each received packet;
/// a raw socket with its own reader thread gives all of that with a few system calls and no event loop.
/// IPv4 raw sockets receive the IP header, so TTL, source and destination are read from it directly.
public final class AdvertSocket: @unchecked Sendable {
    public static let vrrpProtocol: Int32 = 112
    public static let multicastGroup = IPv4Address(224, 0, 0, 18)  // 224.0.0.18

    public let interfaceName: String
    public let interfaceIndex: Int32
    private let fd: Int32
    private var reader: ReadinessThread?

    /// - Parameter joinMulticast: false in unicast mode, where adverts go to each peer directly.
    /// - Parameter ttl: always 255 in the daemon (RFC 5798 §5.1.1.3); tests send other values to check the drop.
    public init(interfaceName: String, interfaceIndex: Int32, joinMulticast: Bool, ttl: Int32 = 255) throws {
        self.interfaceName = interfaceName
        self.interfaceIndex = interfaceIndex
        fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Self.vrrpProtocol)
        guard fd >= 0 else { throw SystemError.last("socket(AF_INET, SOCK_RAW, 112)") }
        do {
            try configure(joinMulticast: joinMulticast, ttl: ttl)
        } catch {
            close(fd)
            throw error
        }
    }

    private func configure(joinMulticast: Bool, ttl: Int32) throws {
        var name = Array(interfaceName.utf8) + [0]
        guard setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count)) == 0 else {
            throw SystemError.last("SO_BINDTODEVICE \(interfaceName)")
        }
        var ttl = ttl
        try option(Int32(IPPROTO_IP), IP_TTL, &ttl, "IP_TTL")
        try option(Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, "IP_MULTICAST_TTL")
        // Our own adverts must not come back to us as if another router sent them.
        var loop: Int32 = 0
        try option(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, "IP_MULTICAST_LOOP")
        var mreq = ip_mreqn(
            imr_multiaddr: Self.multicastGroup.inAddr, imr_address: in_addr(s_addr: 0), imr_ifindex: interfaceIndex
        )
        try option(Int32(IPPROTO_IP), IP_MULTICAST_IF, &mreq, "IP_MULTICAST_IF")
        if joinMulticast { try joinMulticastGroup() }
    }

    /// True once the socket is a member of 224.0.0.18 on its interface.
    public private(set) var joinedMulticast = false

    /// Joins 224.0.0.18 on the interface (at init, or when a reload adds a multicast instance to an interface
    /// that had only unicast ones).
    public func joinMulticastGroup() throws {
        guard !joinedMulticast else { return }
        var mreq = ip_mreqn(
            imr_multiaddr: Self.multicastGroup.inAddr, imr_address: in_addr(s_addr: 0), imr_ifindex: interfaceIndex
        )
        try option(Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &mreq, "IP_ADD_MEMBERSHIP 224.0.0.18 on \(interfaceName)")
        joinedMulticast = true
    }

    private func option<T>(_ level: Int32, _ name: Int32, _ value: inout T, _ what: String) throws {
        let rc = withUnsafePointer(to: &value) { setsockopt(fd, level, name, $0, socklen_t(MemoryLayout<T>.size)) }
        guard rc == 0 else {
            throw SystemError.last("setsockopt \(what)")
        }
    }

    /// Starts the reader thread; `onAdvert` runs on it for every packet received on the interface.
    public func start(onAdvert: @escaping @Sendable (ReceivedAdvert) -> Void) throws {
        let fd = self.fd
        reader = try ReadinessThread(fd: fd, name: "vrrp-\(interfaceName)") {
            var buffer = [UInt8](repeating: 0, count: 2048)
            for _ in 0..<256 {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard n > 0 else { return }
                if let advert = Self.parse(buffer[0..<n]) { onAdvert(advert) }
            }
        }
        reader?.start()
    }

    /// Splits an IPv4 datagram into the header fields we check and the VRRP payload.
    static func parse(_ datagram: ArraySlice<UInt8>) -> ReceivedAdvert? {
        let s = datagram.startIndex
        guard datagram.count >= 20, datagram[s] >> 4 == 4 else { return nil }
        let headerLength = Int(datagram[s] & 0x0F) * 4
        guard headerLength >= 20, datagram.count >= headerLength else { return nil }
        return ReceivedAdvert(
            source: IPv4Address(bytes: datagram[(s + 12)..<(s + 16)]),
            destination: IPv4Address(bytes: datagram[(s + 16)..<(s + 20)]),
            ttl: datagram[s + 8],
            payload: Array(datagram[(s + headerLength)...])
        )
    }

    /// Sends one VRRP message from `source` (set per packet with IP_PKTINFO, so adding a VIP never changes
    /// the source of our adverts) to `destination` (224.0.0.18 or a unicast peer). The kernel adds the IP header.
    public func send(_ payload: [UInt8], from source: IPv4Address, to destination: IPv4Address) throws {
        var dst = sockaddr_in()
        dst.sin_family = sa_family_t(AF_INET)
        dst.sin_addr = destination.inAddr
        var info = in_pktinfo(ipi_ifindex: interfaceIndex, ipi_spec_dst: source.inAddr, ipi_addr: in_addr(s_addr: 0))
        // struct cmsghdr { size_t len; int level; int type; } then the aligned payload.
        let headerSize = MemoryLayout<Int>.size + 8
        let dataSize = MemoryLayout<in_pktinfo>.size
        let space = headerSize + ((dataSize + 7) & ~7)
        var control = [UInt8](repeating: 0, count: space)
        control.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: headerSize + dataSize, toByteOffset: 0, as: Int.self)
            raw.storeBytes(of: Int32(IPPROTO_IP), toByteOffset: MemoryLayout<Int>.size, as: Int32.self)
            raw.storeBytes(of: Int32(IP_PKTINFO), toByteOffset: MemoryLayout<Int>.size + 4, as: Int32.self)
            withUnsafeBytes(of: &info) { src in
                for i in 0..<dataSize { raw[headerSize + i] = src[i] }
            }
        }
        var bytes = payload
        let sent = bytes.withUnsafeMutableBytes { buf in
            control.withUnsafeMutableBytes { ctl in
                withUnsafeMutablePointer(to: &dst) { dstPtr in
                    var iov = iovec(iov_base: buf.baseAddress, iov_len: buf.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPtr in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(dstPtr)
                        msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                        msg.msg_iov = iovPtr
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        return sendmsg(fd, &msg, 0)
                    }
                }
            }
        }
        guard sent == payload.count else { throw SystemError.last("sendmsg advert \(source) -> \(destination)") }
    }

    public func stop() {
        reader?.stop()
        reader = nil
    }

    deinit {
        reader?.stop()
        close(fd)
    }
}
