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
/// (`log stdout format raw local0`, for containers). One UDP socket per destination, opened at start;
/// writes are fire-and-forget from any event loop, as syslog over UDP is meant to be.
final class SyslogSender: Sendable {
    private struct Destination: Sendable {
        let channel: Channel
        let address: SocketAddress
    }

    /// Keyed by `host:port`; immutable once built.
    private let udp: [String: Destination]
    private let pid: Int

    private init(udp: [String: Destination]) {
        self.udp = udp
        self.pid = Int(getpid())
    }

    /// An empty sender (no UDP target), for tests and configurations without `log` lines.
    static let none = SyslogSender(udp: [:])

    /// Opens one UDP socket per distinct UDP destination among `targets`. Blocking: call it off the event loops.
    static func open(targets: [LogTarget], group: EventLoopGroup, logger: Logger) -> SyslogSender {
        var udp: [String: Destination] = [:]
        for target in targets {
            guard case .udp(let host, let port) = target.destination else {
                if case .unixSocket(let path) = target.destination {
                    logger.warning("log target '\(path)': UNIX socket log targets are not supported yet; ignored.")
                }
                continue
            }
            let key = "\(host):\(port)"
            guard udp[key] == nil else { continue }
            do {
                let address = try SocketAddress.makeAddressResolvingHost(host.description, port: port)
                let local = address.protocol == .inet6 ? "::" : "0.0.0.0"
                let channel = try DatagramBootstrap(group: group).bind(host: local, port: 0).wait()
                udp[key] = Destination(channel: channel, address: address)
            } catch {
                logger.warning("log target \(key): cannot open a UDP socket (\(error)); its lines are dropped.")
            }
        }
        return SyslogSender(udp: udp)
    }

    func close() {
        for destination in self.udp.values {
            destination.channel.close(promise: nil)
        }
    }

    /// Sends `message` at `level` to each target whose level filter lets it through.
    func send(_ level: LogLevel, _ message: String, to targets: [LogTarget]) {
        guard !targets.isEmpty else { return }
        let now = Self.now()
        for target in targets {
            if let limit = target.level, level.rawValue > limit.rawValue { continue }
            var effective = level
            if let minimum = target.minLevel, effective.rawValue > minimum.rawValue {
                effective = LogLevel(rawValue: minimum.rawValue) ?? level
            }
            let facility = BalancerCore.SyslogFacility(rawValue: target.facility.rawValue) ?? .local0
            let framed = SyslogMessage(
                facility: facility, level: effective, timestamp: now, pid: self.pid, message: message)
            switch target.destination {
            case .udp(let host, let port):
                guard let destination = self.udp["\(host):\(port)"] else { continue }
                let bytes = framed.bytes(maxLength: target.maxLength)
                let buffer = destination.channel.allocator.buffer(bytes: bytes)
                destination.channel.writeAndFlush(
                    AddressedEnvelope(remoteAddress: destination.address, data: buffer), promise: nil)
            case .stdout, .stderr:
                let line: [UInt8]
                if target.format == .raw {
                    line = Array(message.utf8) + [UInt8(ascii: "\n")]
                } else {
                    line = framed.bytes(maxLength: target.maxLength)
                }
                let descriptor: Int32 = target.destination == .stdout ? 1 : 2
                line.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
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
