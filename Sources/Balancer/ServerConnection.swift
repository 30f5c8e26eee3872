import NIOCore
import NIOHTTP1

/// The proxy's end of one keep-alive connection to a server. It serves one client exchange at a
/// time (`exchange`), then goes back to its loop's pool. Everything runs on the channel's loop.
///
/// Its pipeline is NIO's response decoder and this handler. Requests are bytes written by
/// `ServerRequestWriter`, sent from the decoder's socket side (`socketSide`) so they do not cross the
/// decoder, which is told each request's method directly instead (it needs it: a response to HEAD has
/// no body).
final class ServerConnection: ChannelDuplexHandler, TunnelEnd {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The response decoder and its handler, to add to a new server connection's pipeline before this one.
    static func responseDecoder() -> (HTTPResponseDecoder, ByteToMessageHandler<HTTPResponseDecoder>) {
        // Interim responses (100 Continue) come through: the client connection relays them. After a 101 the
        // decoder stops parsing and is removed; the bytes it holds behind the 101 belong to the tunnel
        // (`startTunnel`). Bytes are only forwarded on such a deliberate removal, never when the channel closes.
        let decoder = HTTPResponseDecoder(
            leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)
        return (decoder, ByteToMessageHandler(decoder))
    }

    let server: ServerRuntime
    /// nil for a `mode tcp` connection, which carries raw bytes from the start.
    private let decoder: HTTPResponseDecoder?
    private var context: ChannelHandlerContext?
    /// The response decoder's context: writes from it go straight to the socket.
    private var socketSide: ChannelHandlerContext?
    /// The current request's body is chunked; `chunkOpen`: a chunk's data went out without its CRLF,
    /// which the next chunk line or the last chunk carries (one write per chunk instead of two).
    private var chunkedRequest = false
    private var chunkOpen = false
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
    /// Inside `channelRead`: the response decoder may still hold bytes of the same read.
    private(set) var isReading = false
    /// Reads are held while the client cannot take more data (backpressure).
    private var holdReads = false
    private var readPending = false
    /// The server switched protocols (101): raw bytes both ways until the connection closes.
    private(set) var isTunnel = false
    /// Holds the server's FIN back until the response decoder handed on the bytes it read before it.
    private var gate: TunnelGate?

    init(server: ServerRuntime, decoder: HTTPResponseDecoder) {
        self.server = server
        self.decoder = decoder
    }

    /// A `mode tcp` server connection: raw bytes both ways from the start (a `TunnelReader` sits in front of
    /// it instead of a decoder, the channel allows half-closure), never pooled.
    init(rawServer server: ServerRuntime) {
        self.server = server
        self.decoder = nil
        self.isReusable = false
        self.isTunnel = true
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Without a decoder (mode tcp) writes go out from this handler's own context.
        self.socketSide =
            self.decoder == nil
            ? context
            : try? context.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.socketSide = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        if self.isTunnel {
            // The decoder's `.end` behind the 101: the last HTTP part, the decoder can go now.
            if case .end = part { self.replaceDecoder(context) }
            return
        }
        guard let exchange = self.exchange else {
            // A server must not send anything between exchanges: the connection cannot be trusted.
            self.close()
            return
        }
        self.flushTarget = exchange
        self.isReading = true
        exchange.serverRead(part, from: self)
        self.isReading = false
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Only a tunnel allows half-closure: the server's FIN arrives here instead of closing the channel.
        if self.isTunnel, let event = event as? ChannelEvent, event == .inputClosed {
            self.exchange?.serverInputClosed(self)
        }
        context.fireUserInboundEventTriggered(event)
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

    // MARK: - Tunnel

    /// The server answered 101 to an upgrade the client asked for: from now on the connection carries raw
    /// bytes both ways, and never goes back to a pool. A `TunnelReader` takes the response decoder's place
    /// once the decoder delivered the 101's `.end`; the bytes it read behind the 101 reach the reader when
    /// the decoder is removed.
    func startTunnel() throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        self.isReusable = false
        self.isTunnel = true
        // A FIN from the server is relayed as a FIN to the client, not as a close (see `serverInputClosed`).
        self.gate = try TunnelSwitch.armGate(context)
    }

    private func replaceDecoder(_ context: ChannelHandlerContext) {
        guard let gate = self.gate else { return }
        self.gate = nil
        do {
            // Writes go on from the decoder's context until it is gone (it must not see them: it would take
            // them for request parts), then from this handler's.
            try TunnelSwitch.replaceDecoder(HTTPResponseDecoder.self, context: context, end: self, gate: gate) {
                [self] in self.socketSide = self.context
            }
        } catch {
            self.errorCaught(context: context, error: error)
        }
    }

    /// Raw bytes the server sent through the tunnel.
    func tunnelRead(_ buffer: ByteBuffer) {
        guard let exchange = self.exchange else {
            self.close()
            return
        }
        exchange.serverTunnelRead(buffer, from: self)
    }

    /// Raw bytes for the server, sent at once.
    func sendTunnelBytes(_ buffer: ByteBuffer) {
        self.socketSide?.writeAndFlush(NIOAny(IOData.byteBuffer(buffer)), promise: nil)
    }

    /// The client finished sending: the server gets a FIN once what was written before is out.
    func closeOutput() {
        self.context?.close(mode: .output, promise: nil)
    }

    // MARK: - Sending a request

    /// A request head written by `ServerRequestWriter`. `request` is the client's head: the decoder
    /// learns the method from it.
    func sendHead(_ bytes: ByteBuffer, of request: HTTPRequestHead, chunked: Bool) {
        self.decoder?.write(data: .head(request))
        self.chunkedRequest = chunked
        self.chunkOpen = false
        self.send(bytes)
    }

    /// A piece of the request body, re-chunked when the body is chunked.
    func sendBody(_ buffer: ByteBuffer) {
        guard self.chunkedRequest else {
            self.send(buffer)
            return
        }
        // An empty chunk would end the body.
        guard buffer.readableBytes > 0, let allocator = self.context?.channel.allocator else { return }
        self.send(ServerRequestWriter.chunkLine(
            size: buffer.readableBytes, closingPrevious: self.chunkOpen, allocator: allocator))
        self.send(buffer)
        self.chunkOpen = true
    }

    /// The end of the request: the last chunk and the trailers when the body is chunked.
    func sendEnd(_ trailers: HTTPHeaders?) {
        guard self.chunkedRequest, let allocator = self.context?.channel.allocator else { return }
        self.send(ServerRequestWriter.lastChunk(trailers: trailers, closingPrevious: self.chunkOpen, allocator: allocator))
        self.chunkedRequest = false
        self.chunkOpen = false
    }

    private func send(_ bytes: ByteBuffer) {
        self.socketSide?.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
    }

    func flush() {
        self.socketSide?.flush()
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
