import NIOCore
import NIOHTTP1

/// The bytes of the responses a client connection sends, built by the proxy handler itself instead of
/// NIO's `HTTPResponseEncoder`: the head and a small body are gathered in one buffer and leave in one
/// write (the encoder handed the socket three buffers per response, each through the pipeline), and
/// the byte count the logs and counters need is known here without a counting handler.
///
/// The framing is decided by the caller (`ClientConnection.clientResponseHead`): `chunked` re-frames the
/// body in chunks of the sizes received; otherwise body bytes go out as they are (Content-Length or
/// close-delimited).
struct ClientResponseWriter {
    /// Bodies up to this size are copied behind the head; larger ones go out as their own buffer.
    static let coalesceLimit = 4096

    private(set) var chunked = false
    /// Bytes gathered and not yet handed to the channel. Between responses this is `Self.noStorage`: an
    /// idle keep-alive connection holds no buffer (10,000 idle clients would otherwise hold 5 MB).
    private var pending = Self.noStorage
    private let allocator: ByteBufferAllocator
    private static let noStorage = ByteBufferAllocator().buffer(capacity: 0)

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
    }

    /// Storage for the bytes about to be written, taken at the first write of a response.
    private mutating func prepare() {
        if self.pending.capacity == 0 { self.pending = self.allocator.buffer(capacity: 512) }
    }

    var hasPending: Bool { self.pending.readableBytes > 0 }

    /// Storage is held (from a response's first write until `take()`).
    var holdsStorage: Bool { self.pending.capacity > 0 }

    /// Status line and header fields, as the encoder wrote them (`HTTP/1.1 200 OK`, `name: value`).
    mutating func head(_ head: HTTPResponseHead, chunked: Bool) {
        self.prepare()
        self.statusLine(head.version, head.status)
        for (name, value) in head.headers {
            self.field(name, value)
        }
        self.pending.writeStaticString("\r\n")
        self.chunked = chunked
    }

    /// What the proxy changes in a server's head on its way to the client (see `relayedHead`).
    struct Relay {
        /// The client's HTTP version, which the status line takes.
        var version: HTTPVersion
        /// The server's fields carry hop-by-hop ones: those (and the fields its Connection names) stay out.
        var dropsHopByHop: Bool
        /// Field names the server's Connection field lists, lower-cased.
        var namedByConnection: [String]
        /// The body is re-framed (chunked or close-delimited): the server's Content-Length stays out.
        var dropsContentLength: Bool
        var chunked: Bool
        /// `Connection` value Portico sends (`close`, `keep-alive`), if any.
        var connection: String?
        /// A 101 that switches protocols: its `Upgrade` and `Connection` fields reach the client as they are.
        var keepsUpgrade = false
    }

    /// A server's response head as the client gets it, written straight from the server's fields: no
    /// copy of the head is edited field by field on the way.
    mutating func relayedHead(_ head: HTTPResponseHead, _ relay: Relay) {
        self.prepare()
        self.statusLine(relay.version, head.status)
        for (name, value) in head.headers {
            let length = name.utf8.count
            if relay.dropsContentLength, length == 14, name.equalsIgnoringASCIICase("content-length") { continue }
            if relay.dropsHopByHop,
                HTTPMessageRules.staysOnHop(
                    name, namedByConnection: relay.namedByConnection, keepingUpgrade: relay.keepsUpgrade,
                    keepingConnection: relay.keepsUpgrade)
            {
                continue
            }
            self.field(name, value)
        }
        if relay.chunked { self.field("transfer-encoding", "chunked") }
        if let connection = relay.connection { self.field("connection", connection) }
        self.pending.writeStaticString("\r\n")
        self.chunked = relay.chunked
    }

    private mutating func statusLine(_ version: HTTPVersion, _ status: HTTPResponseStatus) {
        // The line of nearly every response, without number formatting.
        if version == .http1_1, status == .ok {
            self.pending.writeStaticString("HTTP/1.1 200 OK\r\n")
            return
        }
        self.pending.writeStaticString("HTTP/")
        self.pending.writeString(String(version.major))
        self.pending.writeStaticString(".")
        self.pending.writeString(String(version.minor))
        self.pending.writeStaticString(" ")
        self.pending.writeString(String(status.code))
        self.pending.writeStaticString(" ")
        // NIO's decoder keeps no reason phrase, and knows none for 103 (RFC 8297).
        let phrase = status.code == 103 && status.reasonPhrase.isEmpty ? "Early Hints" : status.reasonPhrase
        self.pending.writeString(phrase)
        self.pending.writeStaticString("\r\n")
    }

    private mutating func field(_ name: String, _ value: String) {
        self.pending.writeHTTPField(name, value)
    }

    /// A piece of the body. Returns a buffer to write after the pending bytes when it is too large to copy.
    mutating func body(_ buffer: ByteBuffer) -> ByteBuffer? {
        guard buffer.readableBytes > 0 else { return nil }
        self.prepare()
        if self.chunked { self.pending.writeChunkSize(buffer.readableBytes) }
        if buffer.readableBytes <= Self.coalesceLimit {
            var copy = buffer
            self.pending.writeBuffer(&copy)
            if self.chunked { self.pending.writeStaticString("\r\n") }
            return nil
        }
        // The chunk's CRLF follows the large buffer: it starts the next pending bytes.
        return buffer
    }

    /// Called after a large body buffer returned by `body(_:)` was written.
    mutating func bodyWrittenSeparately() {
        guard self.chunked else { return }
        self.prepare()
        self.pending.writeStaticString("\r\n")
    }

    /// The end of the body: the last chunk and the trailers when chunked, nothing otherwise (trailers
    /// cannot be sent without chunked framing).
    mutating func end(_ trailers: HTTPHeaders?) {
        guard self.chunked else { return }
        self.prepare()
        self.pending.writeLastChunk(trailers: trailers)
        self.chunked = false
    }

    /// The gathered bytes, handed over; the next write takes new storage.
    mutating func take() -> ByteBuffer {
        // The handed-over storage now belongs to the channel's write queue.
        let bytes = self.pending
        self.pending = Self.noStorage
        return bytes
    }
}

extension ClientResponseWriter.Relay {
    /// The server's head as it is, apart from the hop-by-hop fields `fields` found (and those its Connection
    /// names), unframed: the start of every relay (interim responses, a 101, `relay(for:)`'s final heads).
    init(
        version: HTTPVersion, fields: HTTPMessageRules.ResponseFields, dropsContentLength: Bool,
        keepsUpgrade: Bool = false
    ) {
        self.init(
            version: version, dropsHopByHop: fields.hasHopByHop, namedByConnection: fields.namedByConnection,
            dropsContentLength: dropsContentLength, chunked: false, connection: nil, keepsUpgrade: keepsUpgrade)
    }
}
