import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#endif

/// struct sockaddr_ll from linux/if_packet.h (not imported by Swift's Glibc module).
struct LinkLayerAddress {
    var family: UInt16 = UInt16(AF_PACKET)
    var protocolBE: UInt16 = 0
    var ifindex: Int32 = 0
    var hatype: UInt16 = 0
    var pkttype: UInt8 = 0
    var halen: UInt8 = 0
    var addr: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
}

/// Sends gratuitous ARPs for VIPs over an AF_PACKET socket on one interface, so switches and neighbours
/// learn the VIP's new MAC at once (RFC 5798 §6.4.2: "broadcast a gratuitous ARP request").
public final class GratuitousARP: @unchecked Sendable {
    static let ethertypeARP: UInt16 = 0x0806

    public let interfaceIndex: Int32
    public let hardwareAddress: [UInt8]
    private let fd: Int32

    /// - Parameter hardwareAddress: the interface's MAC, from `RouteNetlink.links()` (sysfs would show the
    ///   namespace sysfs was mounted in, not necessarily ours).
    public init(interfaceName: String, interfaceIndex: Int32, hardwareAddress: [UInt8]) throws {
        guard hardwareAddress.count == 6 else {
            throw SystemError("interface \(interfaceName) has no Ethernet address", errno: EINVAL)
        }
        self.interfaceIndex = interfaceIndex
        self.hardwareAddress = hardwareAddress
        fd = socket(
            AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(Self.ethertypeARP.bigEndian))
        guard fd >= 0 else { throw SystemError.last("socket(AF_PACKET) on \(interfaceName)") }
    }

    deinit { close(fd) }

    /// The Ethernet frame of a gratuitous ARP request: sender = target = the VIP, to the broadcast address.
    public static func frame(vip: IPv4Address, mac: [UInt8]) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        var f: [UInt8] = []
        f += broadcast + mac + [0x08, 0x06]  // Ethernet: dst, src, type ARP
        f += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // htype Ethernet, ptype IPv4, hlen, plen, op request
        f += mac + vip.bytes  // sender
        f += broadcast + vip.bytes  // target: the VIP again, hardware address broadcast
        f += [UInt8](repeating: 0, count: 60 - f.count)  // pad to the Ethernet minimum
        return f
    }

    public func send(vip: IPv4Address) throws {
        let f = Self.frame(vip: vip, mac: hardwareAddress)
        var addr = LinkLayerAddress(protocolBE: Self.ethertypeARP.bigEndian, ifindex: interfaceIndex, halen: 6)
        addr.addr = (0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0)
        let n = f.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<LinkLayerAddress>.size))
                }
            }
        }
        guard n == f.count else { throw SystemError.last("sendto(AF_PACKET) gratuitous ARP for \(vip)") }
    }
}

/// Reads a small text file (procfs, sysfs) without Foundation.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && Glibc.errno == EINTR { continue }
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

extension String {
    func trimmed(of set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
