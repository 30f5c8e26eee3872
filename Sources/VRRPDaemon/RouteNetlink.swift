import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#endif

extension IPv4Address {
    init(bytes: some Collection<UInt8>) {
        self.init(bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) })
    }

    /// The address as `in_addr` (network byte order).
    var inAddr: in_addr { in_addr(s_addr: value.bigEndian) }
}

/// One IPv4 address as configured on an interface (what `ip -4 addr` shows).
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: UInt8
    public var interfaceIndex: Int32
    public var label: String?
    public var broadcast: IPv4Address?
    /// RT_SCOPE_*: 0 universe (global), 200 site, 253 link, 254 host.
    public var scope: UInt8

    public init(
        address: IPv4Address, prefixLength: UInt8, interfaceIndex: Int32, label: String? = nil,
        broadcast: IPv4Address? = nil,
        scope: UInt8 = 0
    ) {
        self.address = address
        self.prefixLength = prefixLength
        self.interfaceIndex = interfaceIndex
        self.label = label
        self.broadcast = broadcast
        self.scope = scope
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// An interface as rtnetlink reports it.
public struct NetworkLink: Hashable, Sendable {
    public var index: Int32
    public var name: String
    public var flags: UInt32
    /// The MAC address (IFLA_ADDRESS); empty for links without one.
    public var hardwareAddress: [UInt8] = []

    /// Keepalived treats an interface as usable when it is administratively up and has carrier.
    public var isUp: Bool { flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0 }
}

/// What an address change did, so callers can log "already present" instead of failing.
public enum AddressChange: Equatable, Sendable {
    case done
    case alreadyPresent
    case notPresent
}

/// Constants from linux/netlink.h and linux/rtnetlink.h, which Swift's Glibc module does not import.
enum Netlink {
    static let route: Int32 = 0  // NETLINK_ROUTE
    static let solNetlink: Int32 = 270
    static let headerSize = 16

    static let done: UInt16 = 3
    static let error: UInt16 = 2
    static let newLink: UInt16 = 16
    static let delLink: UInt16 = 17
    static let getLink: UInt16 = 18
    static let newAddr: UInt16 = 20
    static let delAddr: UInt16 = 21
    static let getAddr: UInt16 = 22

    static let request: UInt16 = 0x1
    static let multi: UInt16 = 0x2
    static let ack: UInt16 = 0x4
    static let dump: UInt16 = 0x300
    static let excl: UInt16 = 0x200
    static let create: UInt16 = 0x400

    static let ifaAddress: UInt16 = 1
    static let ifaLocal: UInt16 = 2
    static let ifaLabel: UInt16 = 3
    static let ifaBroadcast: UInt16 = 4
    static let iflaAddress: UInt16 = 1
    static let iflaIfname: UInt16 = 3

    /// RTMGRP_LINK: the multicast group for link changes (RTNLGRP_LINK = 1).
    static let groupLink: UInt32 = 0x1

    static func align(_ n: Int) -> Int { (n + 3) & ~3 }
}

/// Builds one netlink message: header, fixed family struct, attributes.
struct NetlinkMessage {
    private(set) var bytes: [UInt8]

    init(type: UInt16, flags: UInt16, sequence: UInt32) {
        bytes = []
        append32(0)  // length, patched in `finished`
        append16(type)
        append16(flags)
        append32(sequence)
        append32(0)  // port id: the kernel
    }

    mutating func append8(_ v: UInt8) { bytes.append(v) }
    mutating func append16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    mutating func attribute(_ type: UInt16, _ payload: [UInt8]) {
        append16(UInt16(4 + payload.count))
        append16(type)
        bytes.append(contentsOf: payload)
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    func finished() -> [UInt8] {
        var out = bytes
        let len = UInt32(out.count).littleEndian
        withUnsafeBytes(of: len) { raw in
            for i in 0..<4 { out[i] = raw[i] }
        }
        return out
    }
}

/// A received netlink message, parsed just enough for addresses and links.
struct NetlinkReply {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var body: ArraySlice<UInt8>

    /// Splits a datagram into messages.
    static func parse(_ data: ArraySlice<UInt8>) -> [NetlinkReply] {
        var out: [NetlinkReply] = []
        var offset = data.startIndex
        while data.endIndex - offset >= Netlink.headerSize {
            let len = Int(data.le32(at: offset))
            guard len >= Netlink.headerSize, offset + len <= data.endIndex else { break }
            out.append(
                NetlinkReply(
                    type: data.le16(at: offset + 4),
                    flags: data.le16(at: offset + 6),
                    sequence: data.le32(at: offset + 8),
                    body: data[(offset + Netlink.headerSize)..<(offset + len)]
                )
            )
            offset += Netlink.align(len)
        }
        return out
    }

    /// Attributes after a fixed header of `fixedSize` bytes.
    func attributes(after fixedSize: Int) -> [UInt16: ArraySlice<UInt8>] {
        var attrs: [UInt16: ArraySlice<UInt8>] = [:]
        var offset = body.startIndex + fixedSize
        while body.endIndex - offset >= 4 {
            let len = Int(body.le16(at: offset))
            let type = body.le16(at: offset + 2) & 0x3FFF
            guard len >= 4, offset + len <= body.endIndex else { break }
            attrs[type] = body[(offset + 4)..<(offset + len)]
            offset += Netlink.align(len)
        }
        return attrs
    }
}

extension ArraySlice<UInt8> {
    func le16(at i: Int) -> UInt16 { UInt16(self[i]) | UInt16(self[i + 1]) << 8 }
    func le32(at i: Int) -> UInt32 {
        UInt32(self[i]) | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2]) << 16 | UInt32(self[i + 3]) << 24
    }
    var cString: String {
        String(decoding: prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Socket address for AF_NETLINK (struct sockaddr_nl).
private struct NetlinkAddress {
    var family: UInt16 = UInt16(AF_NETLINK)
    var pad: UInt16 = 0
    var portID: UInt32 = 0
    var groups: UInt32 = 0
}

/// Opens a NETLINK_ROUTE socket, optionally subscribed to multicast groups.
func openRouteSocket(groups: UInt32 = 0) throws -> Int32 {
    let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Netlink.route)
    guard fd >= 0 else { throw SystemError.last("socket(AF_NETLINK)") }
    var addr = NetlinkAddress(groups: groups)
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<NetlinkAddress>.size))
        }
    }
    guard rc == 0 else {
        let err = SystemError.last("bind(AF_NETLINK)")
        close(fd)
        throw err
    }
    return fd
}

/// Requests to the kernel's routing subsystem over rtnetlink: interface addresses and links.
/// Each call is a synchronous request/acknowledge exchange (bounded by a receive timeout), serialized by a lock.
public final class RouteNetlink: @unchecked Sendable {
    private let fd: Int32
    private var sequence: UInt32 = 1
    private var lock = pthread_mutex_t()

    public init() throws {
        fd = try openRouteSocket()
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        pthread_mutex_init(&lock, nil)
    }

    deinit {
        close(fd)
        pthread_mutex_destroy(&lock)
    }

    /// Adds an address (`ip addr add A/P brd B scope S label L dev IF`). An address that is already there
    /// is not an error: a VIP left behind by a crashed daemon is simply adopted.
    @discardableResult
    public func addAddress(_ a: InterfaceAddress) throws -> AddressChange {
        let errno = try exchange(addressMessage(Netlink.newAddr, flags: Netlink.create | Netlink.excl, a))
        switch errno {
        case 0: return .done
        case EEXIST: return .alreadyPresent
        default: throw SystemError("add \(a) on interface \(a.interfaceIndex)", errno: errno)
        }
    }

    /// Removes an address; one that is not there (removed by hand, or never added) is reported, not thrown.
    @discardableResult
    public func removeAddress(_ a: InterfaceAddress) throws -> AddressChange {
        let errno = try exchange(addressMessage(Netlink.delAddr, flags: 0, a))
        switch errno {
        case 0: return .done
        case EADDRNOTAVAIL, ENOENT, ESRCH: return .notPresent
        default: throw SystemError("remove \(a) from interface \(a.interfaceIndex)", errno: errno)
        }
    }

    /// All IPv4 addresses, optionally only those of one interface, in the kernel's order (primary first).
    public func addresses(interfaceIndex: Int32? = nil) throws -> [InterfaceAddress] {
        var msg = NetlinkMessage(type: Netlink.getAddr, flags: Netlink.request | Netlink.dump, sequence: 0)
        msg.append8(UInt8(AF_INET))
        msg.append8(0)
        msg.append8(0)
        msg.append8(0)
        msg.append32(0)
        var out: [InterfaceAddress] = []
        try dump(msg) { reply in
            guard reply.type == Netlink.newAddr, reply.body.count >= 8 else { return }
            let b = reply.body
            let s = b.startIndex
            guard b[s] == UInt8(AF_INET) else { return }
            let index = Int32(bitPattern: b.le32(at: s + 4))
            if let interfaceIndex, interfaceIndex != index { return }
            let attrs = reply.attributes(after: 8)
            guard let local = attrs[Netlink.ifaLocal] ?? attrs[Netlink.ifaAddress], local.count == 4 else { return }
            out.append(
                InterfaceAddress(
                    address: IPv4Address(bytes: local), prefixLength: b[s + 1], interfaceIndex: index,
                    label: attrs[Netlink.ifaLabel]?.cString,
                    broadcast: attrs[Netlink.ifaBroadcast].map { IPv4Address(bytes: $0) }, scope: b[s + 3]
                )
            )
        }
        return out
    }

    /// All interfaces with their flags.
    public func links() throws -> [NetworkLink] {
        var msg = NetlinkMessage(type: Netlink.getLink, flags: Netlink.request | Netlink.dump, sequence: 0)
        for _ in 0..<16 { msg.append8(0) }
        var out: [NetworkLink] = []
        try dump(msg) { reply in
            if let link = NetworkLink(reply) { out.append(link) }
        }
        return out
    }

    public func link(named name: String) throws -> NetworkLink? {
        try links().first { $0.name == name }
    }

    public func interfaceIndex(named name: String) throws -> Int32? {
        try link(named: name)?.index
    }

    private func addressMessage(_ type: UInt16, flags: UInt16, _ a: InterfaceAddress) -> NetlinkMessage {
        var msg = NetlinkMessage(type: type, flags: Netlink.request | Netlink.ack | flags, sequence: 0)
        msg.append8(UInt8(AF_INET))
        msg.append8(a.prefixLength)
        msg.append8(0)
        msg.append8(a.scope)
        msg.append32(UInt32(bitPattern: a.interfaceIndex))
        msg.attribute(Netlink.ifaLocal, a.address.bytes)
        msg.attribute(Netlink.ifaAddress, a.address.bytes)
        if let broadcast = a.broadcast { msg.attribute(Netlink.ifaBroadcast, broadcast.bytes) }
        // The kernel matches a label on delete too; an adopted VIP may carry another one, so only add sets it.
        if let label = a.label, type == Netlink.newAddr {
            msg.attribute(Netlink.ifaLabel, Array(label.utf8.prefix(15)) + [0])
        }
        return msg
    }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return try body()
    }

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    private func send(_ msg: NetlinkMessage, sequence: UInt32) throws {
        var bytes = msg.finished()
        withUnsafeBytes(of: sequence.littleEndian) { raw in
            for i in 0..<4 { bytes[8 + i] = raw[i] }
        }
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw SystemError.last("send(netlink)") }
    }

    private func receive() throws -> [NetlinkReply] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError.last("recv(netlink)")
            }
            return NetlinkReply.parse(buffer[0..<n])
        }
    }

    /// Sends a request with NLM_F_ACK and returns the kernel's errno (0 on success).
    private func exchange(_ msg: NetlinkMessage) throws -> Int32 {
        try withLock {
            let seq = nextSequence()
            try send(msg, sequence: seq)
            for _ in 0..<64 {
                for reply in try receive() where reply.sequence == seq && reply.type == Netlink.error {
                    guard reply.body.count >= 4 else { return EIO }
                    return -Int32(bitPattern: reply.body.le32(at: reply.body.startIndex))
                }
            }
            throw SystemError("netlink: no acknowledgement", errno: ETIMEDOUT)
        }
    }

    private func dump(_ msg: NetlinkMessage, _ each: (NetlinkReply) -> Void) throws {
        try withLock {
            let seq = nextSequence()
            try send(msg, sequence: seq)
            for _ in 0..<10_000 {
                for reply in try receive() where reply.sequence == seq {
                    if reply.type == Netlink.done { return }
                    if reply.type == Netlink.error {
                        let err =
                            reply.body.count >= 4 ? -Int32(bitPattern: reply.body.le32(at: reply.body.startIndex)) : EIO
                        throw SystemError("netlink dump", errno: err)
                    }
                    each(reply)
                }
            }
            throw SystemError("netlink dump did not finish", errno: EOVERFLOW)
        }
    }
}

extension NetworkLink {
    /// Parses an RTM_NEWLINK message (struct ifinfomsg + attributes).
    init?(_ reply: NetlinkReply) {
        guard reply.type == Netlink.newLink || reply.type == Netlink.delLink, reply.body.count >= 16 else { return nil }
        let s = reply.body.startIndex
        let attrs = reply.attributes(after: 16)
        index = Int32(bitPattern: reply.body.le32(at: s + 4))
        // A deleted link is gone: report it down whatever its last flags were.
        flags = reply.type == Netlink.delLink ? 0 : reply.body.le32(at: s + 8)
        name = attrs[Netlink.iflaIfname]?.cString ?? ""
        hardwareAddress = attrs[Netlink.iflaAddress].map(Array.init) ?? []
    }
}

/// Watches link changes (RTNLGRP_LINK) and reports each interface's up/down state as it changes.
public final class LinkWatch: @unchecked Sendable {
    private let fd: Int32
    private var thread: ReadinessThread?

    /// - Parameter onChange: called on the watch's own thread for every link message (repeats included).
    public init(onChange: @escaping @Sendable (NetworkLink) -> Void) throws {
        let fd = try openRouteSocket(groups: Netlink.groupLink)
        self.fd = fd
        thread = try ReadinessThread(fd: fd, name: "vrrp-linkwatch") {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 && Glibc.errno == ENOBUFS {
                // The kernel dropped notifications (a burst of link changes): read the whole state again.
                let links = (try? RouteNetlink().links()) ?? []
                links.forEach(onChange)
                return
            }
            guard n > 0 else { return }
            for reply in NetlinkReply.parse(buffer[0..<n]) {
                if let link = NetworkLink(reply) { onChange(link) }
            }
        }
        thread?.start()
    }

    public func stop() {
        thread?.stop()
        thread = nil
    }

    deinit {
        thread?.stop()
        close(fd)
    }
}
