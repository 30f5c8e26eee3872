import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A small server on 127.0.0.1 that speaks just enough HTTP/1.1 to accept protocol upgrades, written on raw
/// bytes so it can switch a connection to a tunnel at the exact byte the 101 ends, like a WebSocket server.
///
/// Requests (keep-alive, a Content-Length body is skipped):
/// - `/ws` with an `Upgrade` field → `101 Switching Protocols` (`Upgrade: websocket`), then every byte is
///   echoed; on the client's FIN it sends `eof-seen` and closes. Without `Upgrade` → `200` `no upgrade`.
/// - `/ws-bye` with `Upgrade` → 101, then `bye` and a close.
/// - `/ws-flood` with `Upgrade` → 101, then `floodSize` bytes, written only while its socket takes them
///   (`flooded` counts them): how far it gets shows whether the path to the client applies backpressure.
/// - `/ws-stall` with `Upgrade` → 101, then it stops reading.
/// - `/ws-linger` with `Upgrade` → 101, echoes like `/ws` but leaves the client's FIN unanswered (half-closed).
/// - `/ws-no-accept` with `Upgrade` → a WebSocket 101 without `Sec-WebSocket-Accept`.
/// - `/ws-reset` with `Upgrade` → 101, then a reset (RST) 200 ms later.
/// - `/ws-bare` with `Upgrade` → a 101 without `Connection: upgrade`, HTTP-looking bytes right behind it.
/// - `/unsolicited` → a 101 whatever the request said.
/// - `/extra` → its answer, and a second, unrequested response (`stray`) right behind it.
/// - anything else → `200` with the path as body. A query does not change the path's meaning.
/// Every request head received is kept (`heads`).
final class UpgradeBackend: @unchecked Sendable {
    private let group: EventLoopGroup
    private var channel: Channel?
    private let lock = TestLock()
    private var _heads: [String] = []
    private var _tunnelEOFs = 0
    private var _flooded = 0
    /// What `/ws-flood` sends.
    let floodSize = 64 * 1024 * 1024
    private var children: [Channel] = []
    private(set) var port = 0

    /// The request heads received, in order (request line and fields, without the blank line).
    var heads: [String] { self.lock.withLock { self._heads } }
    /// Bytes `/ws-flood` handed to its socket so far.
    var flooded: Int { self.lock.withLock { self._flooded } }
    /// Connections accepted so far.
    var connections: Int { self.lock.withLock { self.children.count } }
    /// Tunnels in which the backend saw the client's end of stream (FIN or close).
    var tunnelEOFs: Int { self.lock.withLock { self._tunnelEOFs } }

    init(group: EventLoopGroup) {
        self.group = group
    }

    func start() async throws {
        let channel = try await bindRawServer(group: self.group) { channel in
            self.lock.withLock { self.children.append(channel) }
            return UpgradeBackendHandler(backend: self)
        }
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    func stop() async {
        try? await self.channel?.close()
        let children = self.lock.withLock { () -> [Channel] in
            defer { self.children = [] }
            return self.children
        }
        for child in children { try? await child.close() }
    }

    fileprivate func received(head: String) {
        self.lock.withLock { self._heads.append(head) }
    }

    fileprivate func addFlooded(_ count: Int) {
        self.lock.withLock { self._flooded += count }
    }

    fileprivate func sawTunnelEOF() {
        self.lock.withLock { self._tunnelEOFs += 1 }
    }
}

private final class UpgradeBackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let backend: UpgradeBackend
    private var pending: [UInt8] = []
    private var bodyToSkip = 0
    private var tunnel = false
    private var closing = false
    /// `/ws-linger`: the client's FIN is left unanswered; the connection stays half-closed.
    private var lingers = false
    private var floodLeft = 0

    init(backend: UpgradeBackend) {
        self.backend = backend
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        if self.tunnel {
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            return
        }
        self.pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        self.process(context)
    }

    private func process(_ context: ChannelHandlerContext) {
        while !self.tunnel, !self.closing {
            if self.bodyToSkip > 0 {
                let skipped = min(self.bodyToSkip, self.pending.count)
                self.pending.removeFirst(skipped)
                self.bodyToSkip -= skipped
                if self.bodyToSkip > 0 { return }
            }
            guard let end = self.headEnd() else { return }
            let head = String(decoding: self.pending[..<end], as: UTF8.self)
            self.pending.removeFirst(end + 4)
            self.backend.received(head: head)
            self.answer(head, context)
        }
    }

    private func headEnd() -> Int? {
        guard self.pending.count >= 4 else { return nil }
        for index in 0...(self.pending.count - 4)
        where self.pending[index] == 13 && self.pending[index + 1] == 10 && self.pending[index + 2] == 13
            && self.pending[index + 3] == 10
        {
            return index
        }
        return nil
    }

    private func answer(_ head: String, _ context: ChannelHandlerContext) {
        let lines = head.split(separator: "\r\n").map(String.init)
        let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        // The query only tells requests apart in the tests' logs.
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        var asksUpgrade = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("upgrade:") { asksUpgrade = true }
            if lower.hasPrefix("content-length:") {
                self.bodyToSkip = Int(String(lower.dropFirst(15).filter { $0 != " " })) ?? 0
            }
        }
        // The accept value is RFC 6455's example (for the tests' key): HAProxy and Portico only check it is there.
        let switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        switch path {
        case "/ws" where asksUpgrade:
            self.tunnel = true
            self.write(switching, context)
            // Bytes that came with the request head belong to the tunnel: echoed like the rest.
            if !self.pending.isEmpty {
                self.write(String(decoding: self.pending, as: UTF8.self), context)
                self.pending = []
            }
        case "/ws-bye" where asksUpgrade:
            self.closing = true
            self.write(switching + "bye", context)
            context.close(promise: nil)
        case "/ws-flood" where asksUpgrade:
            self.tunnel = true
            self.write(switching, context)
            self.floodLeft = self.backend.floodSize
            self.flood(context)
        case "/ws-linger" where asksUpgrade:
            self.tunnel = true
            self.lingers = true
            self.write(switching, context)
        case "/ws-stall" where asksUpgrade:
            self.tunnel = true
            self.write(switching, context)
            context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
        case "/ws-no-accept" where asksUpgrade:
            self.tunnel = true
            self.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", context)
        case "/ws-reset" where asksUpgrade:
            self.tunnel = true
            self.write(switching, context)
            let channel = context.channel
            context.eventLoop.scheduleTask(in: .milliseconds(200)) {
                // SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
                guard let provider = channel as? SocketOptionProvider else {
                    channel.close(promise: nil)
                    return
                }
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
            }
        case "/ws-bare" where asksUpgrade:
            // A 101 without Connection: upgrade, with tunnel bytes behind it in the same write.
            self.tunnel = true
            self.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\n\r\nGET / HTTP/1.1\r\n\r\n", context)
        case "/extra":
            // A whole second response behind the first, in the same write: a server out of step.
            self.write(
                "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n/extraHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray",
                context)
        case "/unsolicited":
            self.tunnel = true
            self.write(switching, context)
        case "/ws":
            self.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nno upgrade", context)
        default:
            self.write("HTTP/1.1 200 OK\r\nContent-Length: \(path.utf8.count)\r\n\r\n\(path)", context)
        }
    }

    /// Writes flood bytes while the channel is writable; the rest when it becomes writable again.
    private func flood(_ context: ChannelHandlerContext) {
        let chunk = context.channel.allocator.buffer(repeating: UInt8(ascii: "f"), count: 65536)
        while self.floodLeft > 0, context.channel.isWritable {
            let piece = chunk.getSlice(at: 0, length: min(self.floodLeft, 65536)) ?? chunk
            self.floodLeft -= piece.readableBytes
            self.backend.addFlooded(piece.readableBytes)
            context.writeAndFlush(self.wrapOutboundOut(piece), promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, self.floodLeft > 0 { self.flood(context) }
    }

    private func write(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else { return }
        if self.tunnel {
            self.backend.sawTunnelEOF()
            if self.lingers { return }
            // Still able to send after the client's FIN: proves the FIN was relayed as a half-close.
            let written = context.writeAndFlush(
                self.wrapOutboundOut(context.channel.allocator.buffer(string: "eof-seen")))
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.tunnel, !self.closing {
            self.closing = true
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// A listener on 127.0.0.1 (a free port) for the raw-byte test servers: half-closure allowed (they see a
/// FIN as an event, not a close), one handler per accepted connection from `handler`.
func bindRawServer(
    group: EventLoopGroup, _ handler: @escaping @Sendable (Channel) -> any ChannelHandler
) async throws -> Channel {
    try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelInitializer { channel in
            let made = handler(channel)
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(made)
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
}

/// A raw client connection for tunnel tests: sends bytes, collects what arrives, sees the end of stream.
final class RawClient: @unchecked Sendable {
    let channel: Channel
    private let collector: RawCollector

    private init(channel: Channel, collector: RawCollector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(port: Int, group: EventLoopGroup, autoRead: Bool = true) async throws -> RawClient {
        let collector = RawCollector()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: autoRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawClient(channel: channel, collector: collector)
    }

    /// Everything received so far.
    var received: String { self.collector.text }
    /// How many bytes were received (the text keeps only the first 8 MiB).
    var receivedCount: Int { self.collector.count }
    /// The peer ended its side (FIN or close).
    var sawEOF: Bool { self.collector.eof }

    func send(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Waits until what was received contains `text` (bounded).
    func receive(_ text: String, timeout: Duration = .seconds(5)) async -> Bool {
        await eventually(timeout: timeout) { self.received.contains(text) }
    }

    func waitForEOF(timeout: Duration = .seconds(5)) async -> Bool {
        await eventually(timeout: timeout) { self.sawEOF }
    }

    /// Sends a FIN (half-close): the connection can still receive.
    func finishSending() async throws {
        try await self.channel.close(mode: .output)
    }

    func close() async {
        try? await self.channel.close()
    }

    /// Starts reading (for a client connected with `autoRead: false`).
    func startReading() async throws {
        try await self.channel.setOption(.autoRead, value: true).get()
    }
}

private final class RawCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let lock = TestLock()
    private var _text = ""
    private var _count = 0
    private var _eof = false

    var text: String { self.lock.withLock { self._text } }
    var count: Int { self.lock.withLock { self._count } }
    var eof: Bool { self.lock.withLock { self._eof } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.lock.withLock {
            self._count += buffer.readableBytes
            if self._text.utf8.count < 8 * 1024 * 1024 { self._text += String(buffer: buffer) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.lock.withLock { self._eof = true }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.lock.withLock { self._eof = true }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
