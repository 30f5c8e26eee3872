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
