import NIOCore
import NIOHTTP1

/// The proxy's end of one keep-alive connection to a server. It serves one client exchange at a
/// time (`exchange`), then goes back to its loop's pool. Everything runs on the channel's loop.
final class ServerConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let server: ServerRuntime
    private var context: ChannelHandlerContext?
    /// The client exchange this connection currently serves; nil while pooled.
    var exchange: ClientConnection?
    private var pool: ServerConnectionPool?
    /// When the connection went back to its pool (the pool's sweeper closes it after the idle timeout).
    private(set) var idleSince = NIODeadline.now()
    /// False once the connection saw an error, an unexpected byte, `Connection: close` or EOF.
    private(set) var isReusable = true
    /// Exchanges completed on this connection; > 0 means the next one is a reuse.
    var exchangesServed = 0
    /// The client written to during the current read batch, flushed at channelReadComplete.
    private var flushTarget: ClientConnection?
    /// Reads are held while the client cannot take more data (backpressure).
    private var holdReads = false
    private var readPending = false

    init(server: ServerRuntime) {
        self.server = server
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        guard let exchange = self.exchange else {
            // A server must not send anything between exchanges: the connection cannot be trusted.
            self.close()
            return
        }
        self.flushTarget = exchange
        exchange.serverRead(part, from: self)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let target = self.flushTarget {
            self.flushTarget = nil
            target.flushResponse()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isReusable = false
        self.pool?.remove(self)
        self.leavePool()
        self.exchange?.serverClosed(self, error: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.isReusable = false
        self.pool?.remove(self)
        self.leavePool()
        self.exchange?.serverClosed(self, error: error)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.exchange?.serverBecameWritable(self)
        }
    }

    func read(context: ChannelHandlerContext) {
        if self.holdReads {
            self.readPending = true
        } else {
            context.read()
        }
    }

    func pauseReads() {
        self.holdReads = true
    }

    func resumeReads() {
        self.holdReads = false
        if self.readPending, let context = self.context {
            self.readPending = false
            context.read()
        }
    }

    func write(_ part: HTTPClientRequestPart) {
        self.context?.write(self.wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        self.context?.flush()
    }

    /// The response said the server will close, or the exchange did not finish cleanly.
    func markNotReusable() {
        self.isReusable = false
    }

    func close() {
        self.isReusable = false
        self.exchange = nil
        self.context?.close(promise: nil)
    }

    func enterPool(_ pool: ServerConnectionPool) {
        self.pool = pool
        self.exchange = nil
        self.idleSince = .now()
        self.holdReads = false
        if self.readPending, let context = self.context {
            self.readPending = false
            context.read()
        }
    }

    func leavePool() {
        self.pool = nil
    }
}
