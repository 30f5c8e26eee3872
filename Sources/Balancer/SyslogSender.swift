import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import NIOPosix
import Synchronization

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

    /// A `log` target resolved against this sender's sockets once, when a configuration is applied: sending
    /// a line through it touches no string, hash table or shared reference count (it runs for every logged
    /// request, from every event loop at once).
    struct Route: Sendable {
        enum Sink: Sendable {
            /// Index into the sender's UDP destinations.
            case udp(Int)
            case stdout, stderr
        }

        fileprivate let sink: Sink
        fileprivate let facility: BalancerCore.SyslogFacility
        /// Lines less severe than this are not sent (raw `LogLevel` values); nil: all.
        fileprivate let mostVerbose: Int?
        /// Lines less severe than this are raised to it; nil: unchanged.
        fileprivate let leastSevere: Int?
        fileprivate let maxLength: Int
        /// `format raw` on stdout/stderr: the bare line, no syslog header.
        fileprivate let isRaw: Bool
    }

    /// Socket descriptors in the order `Route.Sink.udp` counts them; immutable once built.
    private let destinations: [UDPDestination]
    private let destinationIndex: [UDPKey: Int]
    private let pid: Int

    private init(udp: [UDPKey: UDPDestination]) {
        var destinations: [UDPDestination] = []
        var destinationIndex: [UDPKey: Int] = [:]
        for (key, destination) in udp {
            destinationIndex[key] = destinations.count
            destinations.append(destination)
        }
        self.destinations = destinations
        self.destinationIndex = destinationIndex
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
                logger.warning(
                    "log target \(host):\(port): cannot open a UDP socket (\(error)); its lines are dropped.")
            }
        }
        return SyslogSender(udp: udp)
    }

    /// The routes of `targets` through this sender. A target it has no socket for (a UNIX socket, a UDP
    /// destination that could not be opened) gets none: its lines are dropped, as `open` warned.
    func routes(_ targets: [LogTarget]) -> [Route] {
        targets.compactMap { target in
            let sink: Route.Sink
            switch target.destination {
            case .udp(let host, let port):
                guard let index = self.destinationIndex[UDPKey(host: host, port: port)] else { return nil }
                sink = .udp(index)
            case .stdout: sink = .stdout
            case .stderr: sink = .stderr
            case .unixSocket: return nil
            }
            return Route(
                sink: sink, facility: BalancerCore.SyslogFacility(rawValue: target.facility.rawValue) ?? .local0,
                mostVerbose: target.level?.rawValue, leastSevere: target.minLevel?.rawValue,
                maxLength: target.maxLength, isRaw: target.format == .raw && sink.streamDescriptor != nil)
        }
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
        for destination in self.destinations {
            closeSocket(destination.descriptor)
        }
    }

    /// Sends `message` at `level` to each target whose level filter lets it through.
    func send(_ level: LogLevel, _ message: String, to targets: [LogTarget]) {
        self.send(level, via: self.routes(targets), raw: message) { $0.append(message) }
    }

    /// Sends the line `body` writes (an httplog line, written straight behind the syslog header without
    /// an intermediate string) at `level` along each route whose level filter lets it through.
    /// `raw`: the line as text for `format raw` targets (stdout/stderr), built only when one exists.
    func send(
        _ level: LogLevel, via routes: [Route], raw: @autoclosure () -> String, body: (inout LogBytes) -> Void
    ) {
        guard !routes.isEmpty else { return }
        let now = Self.now()
        var datagram = LogBytes(capacity: 320)
        for route in routes {
            if let limit = route.mostVerbose, level.rawValue > limit { continue }
            var effective = level
            if let minimum = route.leastSevere, effective.rawValue > minimum {
                effective = LogLevel(rawValue: minimum) ?? level
            }
            if route.isRaw {
                datagram.removeAll()
                datagram.append(raw())
                datagram.append(byte: UInt8(ascii: "\n"))
            } else {
                SyslogMessage.frame(
                    into: &datagram, facility: route.facility, level: effective, timestamp: now, pid: self.pid,
                    maxLength: route.maxLength, body: body)
            }
            if case .udp(let index) = route.sink {
                // A route of another sender (never made so) has no socket here: the line is dropped.
                guard self.destinations.indices.contains(index) else { continue }
                // Errors (a full buffer, ECONNREFUSED reported from an earlier datagram) drop this line only.
                sendDatagram(self.destinations[index], datagram.bytes)
            } else if let descriptor = route.sink.streamDescriptor {
                datagram.bytes.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Local wall-clock time, as HAProxy stamps its lines.
    static func now(minusMilliseconds ago: Int64 = 0) -> LogTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let milliseconds = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec / 1_000_000) - ago
        return LogTimestamp(
            unixMilliseconds: milliseconds, utcOffsetSeconds: LocalOffset.seconds(at: milliseconds / 1000))
    }
}

extension SyslogSender.Route.Sink {
    /// The descriptor of stdout or stderr; nil for a UDP destination.
    fileprivate var streamDescriptor: Int32? {
        switch self {
        case .stdout: return 1
        case .stderr: return 2
        case .udp: return nil
        }
    }
}

/// The local time zone's UTC offset, looked up with `localtime_r` once per quarter hour rather than for
/// every log line: glibc's `localtime_r` takes a process-wide lock, which the event loops contended for
/// twice per logged request. Offsets change (daylight saving time) only at quarter-hour boundaries.
/// A change of the TZ environment variable while running is not seen, as with HAProxy.
private enum LocalOffset {
    private static let quarterHour: Int64 = 900
    /// The quarter hour (seconds since 1970 / 900) and its offset, packed as `quarter << 20 | offset + 2^19`
    /// so one atomic word holds both; 0: nothing cached yet.
    private static let cached = Atomic<Int64>(0)
    private static let offsetBias: Int64 = 1 << 19

    static func seconds(at unixSeconds: Int64) -> Int {
        let quarter = unixSeconds / Self.quarterHour
        let packed = Self.cached.load(ordering: .relaxed)
        if packed != 0, packed >> 20 == quarter {
            return Int((packed & (1 << 20 - 1)) - Self.offsetBias)
        }
        var seconds = time_t(unixSeconds)
        var local = tm()
        localtime_r(&seconds, &local)
        let offset = Int64(local.tm_gmtoff)
        Self.cached.store(quarter << 20 | (offset + Self.offsetBias), ordering: .relaxed)
        return Int(offset)
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
