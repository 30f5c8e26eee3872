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

/// The runtime API socket (`stats socket PATH [mode M] [level L]` in global): HAProxy's
/// non-interactive protocol, one command line in (commands may be chained with `;`), the reply out,
/// then the connection closes, so `socat`, `nc -U` and `portico lb ctl` all work.
enum ControlSocket {
    /// Binds every configured socket; a socket that cannot be bound is reported and skipped.
    static func open(
        _ sockets: [StatsSocket], group: EventLoopGroup, control: RuntimeControl, logger: Logger
    ) async -> [(path: String, channel: Channel)] {
        var channels: [(path: String, channel: Channel)] = []
        for socket in sockets {
            let level: RuntimeAPI.Level
            switch socket.level {
            case .user: level = .user
            case .operator: level = .operator
            case .admin: level = .admin
            }
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ControlSessionHandler(control: control, level: level))
                    }
                }
            do {
                let channel: Channel
                if let (host, port) = Self.tcpAddress(socket.path) {
                    channel = try await bootstrap.bind(host: host, port: port).get()
                } else {
                    channel = try await bootstrap.bind(
                        unixDomainSocketPath: socket.path, cleanupExistingSocketFile: true
                    )
                    .get()
                    if let mode = socket.mode { chmod(socket.path, mode_t(mode)) }
                }
                channels.append((socket.path, channel))
            } catch {
                logger.error("Starting runtime API socket \(socket.path): cannot bind socket (\(error)).")
            }
        }
        return channels
    }

    /// `ipv4@127.0.0.1:9999` or `127.0.0.1:9999`; nil for a UNIX socket path.
    static func tcpAddress(_ text: String) -> (String, Int)? {
        var address = text
        for prefix in ["ipv4@", "ipv6@", "tcp@"] where address.hasPrefix(prefix) {
            address = String(address.dropFirst(prefix.count))
        }
        guard !address.hasPrefix("/"), !address.hasPrefix("unix@"), let colon = address.lastIndex(of: ":"),
            let port = Int(address[address.index(after: colon)...])
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// One runtime API connection: reads up to the first newline, answers, closes.
final class ControlSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let control: RuntimeControl
    private let level: RuntimeAPI.Level
    private var line: [UInt8] = []
    private var answered = false

    init(control: RuntimeControl, level: RuntimeAPI.Level) {
        self.control = control
        self.level = level
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.answered else { return }
        var buffer = self.unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            self.line += bytes[..<newline]
            self.answer(context: context)
        } else {
            self.line += bytes
            // A line longer than HAProxy's buffer is refused rather than buffered without bound.
            if self.line.count > 16384 { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A client that half-closes without a newline (`printf 'show info' | nc -U`) still gets its answer.
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, !self.answered, !self.line.isEmpty {
            self.answer(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func answer(context: ChannelHandlerContext) {
        self.answered = true
        var text = String(decoding: self.line, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        let reply = self.control.execute(line: text, level: self.level)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: reply))).whenComplete {
            _ in
            channel.close(promise: nil)
        }
    }
}
