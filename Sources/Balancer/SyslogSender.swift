import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Sends log lines to haproxy.cfg's `log` targets: RFC 3164 datagrams over UDP (`log 127.0.0.1 local2`,
/// framed by BalancerCore's `SyslogMessage` exactly as HAProxy frames them) and lines on stdout/stderr
/// (`log stdout format raw local0`, for containers). One non-blocking UDP socket per destination, opened
/// at start; each line is one `sendto` on the calling thread, as HAProxy does. Going
/// through a NIO datagram channel instead cost a cross-thread hop (task, eventfd wake-up) for every request
/// served by another event loop than the channel's. A full socket buffer drops the line, as syslog over
/// UDP is meant to.
final class SyslogSender: Sendable {
    private struct UDPKey: Hashable, Sendable {
        let host: Host
        let port: Int
    }

    /// Socket descriptors keyed by destination; immutable once built.
    private let udp: [UDPKey: UDPDestination]
    private let pid: Int

    private init(udp: [UDPKey: UDPDestination]) {
        self.udp = udp
        self.pid = Int(getpid())
    }

    /// An empty sender (no UDP target), for tests and configurations without `log` lines.
    static let none = SyslogSender(udp: [:])

    /// Opens one UDP socket per distinct UDP destination among `targets`. Blocking (name resolution):
    /// call it off the event loops.
    static func open(targets: [LogTarget], logger: Logger) -> SyslogSender {
        var udp: [UDPKey: UDPDestination] = [:]
        for target in targets {
            guard case .udp(let host, let port) = target.destination else {
                if case .unixSocket(let path) = target.destination {
                    logger.warning("log target '\(path)': UNIX socket log targets are not supported yet; ignored.")
                }
                continue
            }
            let key = UDPKey(host: host, port: port)
            guard udp[key] == nil else { continue }
            do {
                let address = try SocketAddress.makeAddressResolvingHost(host.description, port: port)
                udp[key] = try Self.destination(address)
            } catch {
                logger.warning("log target \(host):\(port): cannot open a UDP socket (\(error)); its lines are dropped.")
            }
        }
        return SyslogSender(udp: udp)
    }

    private struct SocketFailure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// Where one destination's datagrams go: an unconnected non-blocking UDP socket and the address for
    /// `sendto` (unconnected, as HAProxy's: an ICMP port unreachable never turns into an error that would
    /// drop the next line while the syslog daemon restarts).
    fileprivate struct UDPDestination: Sendable {
        let descriptor: Int32
        let address: sockaddr_storage
        let length: socklen_t
    }

    private static func destination(_ address: SocketAddress) throws -> UDPDestination {
        var storage = sockaddr_storage()
        let family: Int32
        let length: Int
        switch address {
        case .v4(let v4):
            family = AF_INET
            length = MemoryLayout<sockaddr_in>.size
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: v4.address) { raw.copyMemory(from: $0) }
            }
        case .v6(let v6):
            family = AF_INET6
            length = MemoryLayout<sockaddr_in6>.size
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: v6.address) { raw.copyMemory(from: $0) }
            }
        default:
            throw SocketFailure(call: "socket (not an IP address)", code: EAFNOSUPPORT)
        }
        let descriptor = socket(
            family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(call: "socket", code: errno) }
        return UDPDestination(descriptor: descriptor, address: storage, length: socklen_t(length))
    }

    func close() {
        for destination in self.udp.values {
            closeSocket(destination.descriptor)
        }
    }

    /// Sends `message` at `level` to each target whose level filter lets it through.
    func send(_ level: LogLevel, _ message: String, to targets: [LogTarget]) {
        self.send(level, to: targets, raw: message) { $0.append(message) }
    }

    /// Sends the line `body` writes (an httplog line, written straight behind the syslog header without
    /// an intermediate string) at `level` to each target whose level filter lets it through.
    /// `raw`: the line as text for `format raw` targets (stdout/stderr), built only when one exists.
    func send(
        _ level: LogLevel, to targets: [LogTarget], raw: @autoclosure () -> String,
        body: (inout LogBytes) -> Void
    ) {
        guard !targets.isEmpty else { return }
        let now = Self.now()
        var datagram = LogBytes(capacity: 320)
        for target in targets {
            if let limit = target.level, level.rawValue > limit.rawValue { continue }
            var effective = level
            if let minimum = target.minLevel, effective.rawValue > minimum.rawValue {
                effective = LogLevel(rawValue: minimum.rawValue) ?? level
            }
            let facility = BalancerCore.SyslogFacility(rawValue: target.facility.rawValue) ?? .local0
            func frame(_ datagram: inout LogBytes) {
                SyslogMessage.frame(
                    into: &datagram, facility: facility, level: effective, timestamp: now, pid: self.pid,
                    maxLength: target.maxLength, body: body)
            }
            switch target.destination {
            case .udp(let host, let port):
                guard let destination = self.udp[UDPKey(host: host, port: port)] else { continue }
                frame(&datagram)
                // Errors (a full buffer, ECONNREFUSED reported from an earlier datagram) drop this line only.
                sendDatagram(destination, datagram.bytes)
            case .stdout, .stderr:
                if target.format == .raw {
                    datagram.removeAll()
                    datagram.append(raw())
                    datagram.append(byte: UInt8(ascii: "\n"))
                } else {
                    frame(&datagram)
                }
                let descriptor: Int32 = target.destination == .stdout ? 1 : 2
                datagram.bytes.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            case .unixSocket:
                continue
            }
        }
    }

    /// Local wall-clock time, as HAProxy stamps its lines.
    static func now(minusMilliseconds ago: Int64 = 0) -> LogTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let milliseconds = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec / 1_000_000) - ago
        var seconds = time_t(milliseconds / 1000)
        var local = tm()
        localtime_r(&seconds, &local)
        return LogTimestamp(unixMilliseconds: milliseconds, utcOffsetSeconds: Int(local.tm_gmtoff))
    }
}

// File-scope wrappers: inside `SyslogSender` its own `close()` and `send(_:_:to:)` hide the C functions.
private func closeSocket(_ descriptor: Int32) {
    _ = close(descriptor)
}

private func sendDatagram(_ destination: SyslogSender.UDPDestination, _ bytes: [UInt8]) {
    var address = destination.address
    withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bytes.withUnsafeBytes {
                _ = sendto(
                    destination.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT), socketAddress,
                    destination.length)
            }
        }
    }
}
