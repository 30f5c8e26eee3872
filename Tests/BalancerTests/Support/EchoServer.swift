import NIOCore
import NIOPosix

/// A raw TCP server for `mode tcp` tests. Like a database server it speaks first: each connection gets
/// `hello from NAME\n`, then every byte received is echoed back. A line `bye\n` makes it close the
/// connection; a FIN from the peer is answered by a FIN once the echo is out. It records how many
/// connections it accepted and how many ended with the peer's FIN.
final class EchoServer: @unchecked Sendable {
    let name: String
    private let group: EventLoopGroup
    private var channel: Channel?
    private let lock = TestLock()
    private var _accepted = 0
    private var _peerFINs = 0
    private(set) var port = 0

    init(name: String, group: EventLoopGroup) {
        self.name = name
        self.group = group
    }

    var accepted: Int { self.lock.withLock { self._accepted } }
    var peerFINs: Int { self.lock.withLock { self._peerFINs } }

    func start() async throws {
        let channel = try await bindRawServer(group: self.group) { _ in EchoHandler(server: self) }
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    /// Stops listening (new connections are refused); open connections stay.
    func stop() async {
        try? await self.channel?.close()
    }

    fileprivate func connectionAccepted() { self.lock.withLock { self._accepted += 1 } }
    fileprivate func peerFinished() { self.lock.withLock { self._peerFINs += 1 } }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let server: EchoServer
    private var tail = ""

    init(server: EchoServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        self.server.connectionAccepted()
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: "hello from \(self.server.name)\n")), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        // Only the last few bytes matter for spotting "bye\n" across reads.
        self.tail = String((self.tail + String(buffer: buffer)).suffix(8))
        if self.tail.hasSuffix("bye\n") {
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer()), promise: nil)
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.server.peerFinished()
            context.close(mode: .output, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
