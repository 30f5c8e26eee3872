import NIOCore

/// The side of a tunnel that takes the raw bytes one connection reads once it switched protocols.
protocol TunnelEnd: AnyObject {
    func tunnelRead(_ buffer: ByteBuffer)
}

/// Takes the place of an HTTP decoder once a connection became a tunnel (a `101 Switching Protocols`):
/// the raw bytes read go to the proxy handler behind it, which relays them to the other connection.
///
/// It is added right behind the decoder before the decoder is removed, so the bytes the decoder had
/// buffered past the last HTTP message (forwarded on removal, `leftOverBytesStrategy: .forwardBytes`)
/// come through here first, in order. Other events (read complete, input closed, inactive) pass on to the
/// proxy handler.
final class TunnelReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private weak var end: TunnelEnd?

    init(end: TunnelEnd) {
        self.end = end
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        guard buffer.readableBytes > 0 else { return }
        self.end?.tunnelRead(buffer)
    }
}

/// Put in front of a connection's HTTP decoder when the connection becomes a tunnel, until the decoder is
/// gone. NIO's decoder drops the bytes it holds when it sees the end of the input (`inputClosed`) before
/// its removal ran: a server that sends its 101, a few bytes and its FIN at once would lose the bytes. The
/// gate keeps that event back until the decoder handed its bytes on (`open`), then lets it through.
final class TunnelGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var isOpen = false
    private var heldInputClosed = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !self.isOpen, let event = event as? ChannelEvent, event == .inputClosed {
            self.heldInputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The decoder is gone: a held end of input goes on, and the gate leaves the pipeline.
    func open() {
        self.isOpen = true
        guard let context = self.context else { return }
        if self.heldInputClosed {
            self.heldInputClosed = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// How a connection's pipeline turns from HTTP into a tunnel, in two steps shared by both sides: the
/// client side takes both at once; the server side arms the gate when the 101 arrives and swaps the decoder
/// only once the decoder delivered the 101's `.end`.
enum TunnelSwitch {
    /// Step one: a FIN from the peer becomes a half-close to relay (not a close), and a `TunnelGate` in
    /// front of the decoder holds that FIN back until step two is done.
    static func armGate(_ context: ChannelHandlerContext) throws -> TunnelGate {
        try context.channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        let gate = TunnelGate()
        try context.pipeline.syncOperations.addHandler(gate, position: .first)
        return gate
    }

    /// Step two: a `TunnelReader` feeding `end` goes in right in front of `end`'s handler and the `Decoder`
    /// is removed, handing the bytes it buffered past the last HTTP message to the reader. Once it is gone
    /// the gate opens and `decoderRemoved` runs.
    static func replaceDecoder<Decoder: ByteToMessageDecoder, End: TunnelEnd & ChannelHandler>(
        _ decoder: Decoder.Type, context: ChannelHandlerContext, end: End, gate: TunnelGate,
        decoderRemoved: @escaping () -> Void = {}
    ) throws {
        let sync = context.pipeline.syncOperations
        let decoderHandler = try sync.handler(type: ByteToMessageHandler<Decoder>.self)
        try sync.addHandler(TunnelReader(end: end), position: .before(end))
        let removed = context.eventLoop.makePromise(of: Void.self)
        sync.removeHandler(decoderHandler, promise: removed)
        removed.futureResult.assumeIsolated().whenComplete { result in
            gate.open()
            if case .success = result { decoderRemoved() }
        }
    }
}
