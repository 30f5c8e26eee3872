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

/// Sends log lines to haproxy.cfg's `log` targets: RFC 3164 datagrams over UDP (`log 127.0.0.1 local2`) or
/// over a UNIX datagram socket (`log /dev/log local0`, `log unix@/dev/log local0`), framed by BalancerCore's
/// `SyslogMessage` exactly as HAProxy frames them, and lines on stdout/stderr (`log stdout format raw local0`,
/// for containers). One non-blocking datagram socket per destination, opened at start; each line is one
/// `sendto` on the calling thread, as HAProxy does. Going through a NIO datagram channel instead cost a
/// cross-thread hop (task, eventfd wake-up) for every request served by another event loop than the
/// channel's. A full socket buffer or a missing syslog daemon drops the line, as syslog over datagrams is
/// meant to; the sockets are never connected, so a daemon that comes back (rsyslog restarted, `/dev/log`
/// created again) gets the next line without a reload.
final class SyslogSender: Sendable {
    /// A distinct datagram destination: lines for two `log` lines naming the same one share its socket.
    private enum DestinationKey: Hashable, Sendable, CustomStringConvertible {
        case udp(host: Host, port: Int)
        case unix(path: String)

        var description: String {
            switch self {
            case .udp(let host, let port): return "\(host):\(port)"
            case .unix(let path): return "'\(path)'"
            }
        }
    }

    /// A `log` target resolved against this sender's sockets once, when a configuration is applied: sending
    /// a line through it touches no string, hash table or shared reference count (it runs for every logged
    /// request, from every event loop at once).
    struct Route: Sendable {
        enum Sink: Sendable {
            /// Index into the sender's datagram destinations (UDP or UNIX).
            case datagram(Int)
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

    /// Socket descriptors in the order `Route.Sink.datagram` counts them; immutable once built. Plain values
    /// (no reference counting when one is taken for a line); their names are kept apart, for failure reports.
    private let destinations: [DatagramDestination]
    private let destinationNames: [String]
    private let destinationIndex: [DestinationKey: Int]
    private let pid: Int
    private let logger: Logger
    /// Set by the first send that fails for another reason than a full buffer: as HAProxy, that is
    /// reported once (per configuration here), not for every dropped line.
    private let reportedFailure = Atomic<Bool>(false)

    private init(destinations byKey: [DestinationKey: DatagramDestination], logger: Logger) {
        var destinations: [DatagramDestination] = []
        var destinationNames: [String] = []
        var destinationIndex: [DestinationKey: Int] = [:]
        for (key, destination) in byKey {
            destinationIndex[key] = destinations.count
            destinations.append(destination)
            destinationNames.append(key.description)
        }
        self.destinations = destinations
        self.destinationNames = destinationNames
        self.destinationIndex = destinationIndex
        self.pid = Int(getpid())
        self.logger = logger
    }

    /// An empty sender (no datagram target), for tests and configurations without `log` lines.
    static let none = SyslogSender(destinations: [:], logger: Logger(label: "portico.syslog"))

    /// Opens one socket per distinct UDP or UNIX destination among `targets`. Blocking (name resolution):
    /// call it off the event loops. A UNIX socket path need not exist yet: lines sent before it does are
    /// dropped.
    static func open(targets: [LogTarget], logger: Logger) -> SyslogSender {
        var opened: [DestinationKey: DatagramDestination] = [:]
        for target in targets {
            let key: DestinationKey
            switch target.destination {
            case .udp(let host, let port): key = .udp(host: host, port: port)
            case .unixSocket(let path): key = .unix(path: path)
            case .stdout, .stderr: continue
            }
            guard opened[key] == nil else { continue }
            do {
                switch key {
                case .udp(let host, let port):
                    let address = try SocketAddress.makeAddressResolvingHost(host.description, port: port)
                    opened[key] = try Self.destination(address)
                case .unix(let path):
                    opened[key] = try Self.destination(unixPath: path)
                }
            } catch {
                logger.warning("log target \(key): cannot open a datagram socket (\(error)); its lines are dropped.")
            }
        }
        return SyslogSender(destinations: opened, logger: logger)
    }

    /// The routes of `targets` through this sender. A target it has no socket for (a destination that could
    /// not be opened) gets none: its lines are dropped, as `open` warned.
    func routes(_ targets: [LogTarget]) -> [Route] {
        targets.compactMap { target in
            let sink: Route.Sink
            switch target.destination {
            case .udp(let host, let port):
                guard let index = self.destinationIndex[.udp(host: host, port: port)] else { return nil }
                sink = .datagram(index)
            case .unixSocket(let path):
                guard let index = self.destinationIndex[.unix(path: path)] else { return nil }
                sink = .datagram(index)
            case .stdout: sink = .stdout
            case .stderr: sink = .stderr
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

    /// Where one destination's datagrams go: an unconnected non-blocking datagram socket and the address for
    /// `sendto` (unconnected, as HAProxy's: an ICMP port unreachable never turns into an error that would
    /// drop the next line while the syslog daemon restarts, and a UNIX socket path is looked up again for
    /// every line, so a re-created `/dev/log` is found).
    fileprivate struct DatagramDestination: Sendable {
        let descriptor: Int32
        let address: sockaddr_storage
        let length: socklen_t
    }

    private static func destination(_ address: SocketAddress) throws -> DatagramDestination {
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
        return DatagramDestination(
            descriptor: try Self.datagramSocket(family), address: storage, length: socklen_t(length))
    }

    private static func destination(unixPath path: String) throws -> DatagramDestination {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // The parser refuses longer paths (HAProxy's limit is 97 bytes); this guards the copy below.
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw SocketFailure(call: "socket path", code: bytes.isEmpty ? ENOENT : ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
        }
        // sun_family, the path and its terminating NUL, as the kernel expects for a pathname socket.
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path).map { $0 + bytes.count + 1 }
            ?? MemoryLayout<sockaddr_un>.size
        return DatagramDestination(
            descriptor: try Self.datagramSocket(AF_UNIX), address: storage, length: socklen_t(length))
    }

    private static func datagramSocket(_ family: Int32) throws -> Int32 {
        let descriptor = socket(
            family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(call: "socket", code: errno) }
        return descriptor
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
            if case .datagram(let index) = route.sink {
                // A route of another sender (never made so) has no socket here: the line is dropped.
                guard self.destinations.indices.contains(index) else { continue }
                // Errors (a full buffer, no syslog daemon listening) drop this line only.
                let failure = sendDatagram(self.destinations[index], datagram.bytes)
                if failure != 0, failure != EAGAIN, failure != EWOULDBLOCK { self.reportOnce(failure, index) }
            } else if let descriptor = route.sink.streamDescriptor {
                datagram.bytes.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            }
        }
    }

    /// HAProxy reports the first failed send (other than a full buffer) once and then drops lines silently:
    /// a stopped syslog daemon must not turn every request into a log line about logging.
    private func reportOnce(_ code: Int32, _ index: Int) {
        guard !self.reportedFailure.exchange(true, ordering: .relaxed) else { return }
        let reason = String(cString: strerror(code))
        let message =
            "log target \(self.destinationNames[index]): sendto failed (\(reason)); "
            + "lines are dropped while it fails (reported once)."
        self.logger.warning("\(message)")
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
    /// The descriptor of stdout or stderr; nil for a datagram destination.
    fileprivate var streamDescriptor: Int32? {
        switch self {
        case .stdout: return 1
        case .stderr: return 2
        case .datagram: return nil
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

/// One datagram, never blocking; 0 when it was sent, else the errno.
private func sendDatagram(_ destination: SyslogSender.DatagramDestination, _ bytes: [UInt8]) -> Int32 {
    var address = destination.address
    let sent = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bytes.withUnsafeBytes {
                sendto(
                    destination.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL),
                    socketAddress, destination.length)
            }
        }
    }
    return sent < 0 ? errno : 0
}
