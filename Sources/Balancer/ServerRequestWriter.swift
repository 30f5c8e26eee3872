import NIOCore
import NIOHTTP1

/// The bytes of the requests Portico sends to servers, written by the proxy itself instead of NIO's
/// `HTTPRequestEncoder` (the counterpart of `ClientResponseWriter`): the head is written once, straight
/// from the client's fields, leaving out the hop-by-hop ones, instead of a copy of the head being edited
/// and encoded by a pipeline handler. The written head is kept by the client connection, so a retry on
/// another server sends the same bytes again.
///
/// Framing is the one `HTTPMessageRules.requestFraming` validated: a Content-Length body goes out as it
/// came, a chunked body is re-chunked in the sizes received, and a body-less request carries no framing
/// field, except `content-length: 0` for POST, PUT and PATCH, which servers expect to have one.
enum ServerRequestWriter {
    /// The request head a server gets: `METHOD target HTTP/1.1` (`HTTP/1.0` for an HTTP/1.0 request, with
    /// `connection: keep-alive` so the server connection can be reused), the client's fields without the
    /// hop-by-hop ones (RFC 9110 §7.6.1) and without its framing fields, then the framing Portico sends
    /// and the X-Forwarded-For field, if any. The version is the client's, as HAProxy keeps it: an HTTP/1.0
    /// request may lack Host, which a server must refuse in HTTP/1.1 (RFC 9112 §3.2; nginx answers 400).
    /// `offersUpgrade`: the client's `Upgrade` fields stay and `connection: upgrade` is sent (RFC 9110 §7.8),
    /// so the server may switch protocols (WebSocket).
    static func head(
        _ head: HTTPRequestHead,
        framing: HTTPMessageRules.RequestFraming,
        forwardedFor: (name: String, value: String)?,
        offersUpgrade: Bool = false,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var bytes = allocator.buffer(capacity: 256)
        bytes.writeString(head.method.rawValue)
        bytes.writeStaticString(" ")
        bytes.writeString(head.uri)
        let http10 = head.version.major == 1 && head.version.minor == 0
        bytes.writeStaticString(http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n")
        let namedByConnection = HTTPMessageRules.namedByConnection(head.headers)
        // Several Host fields reach this point only as identical copies (`HTTPMessageRules.requestFraming`): the
        // server gets one, as HAProxy sends it (nginx refuses a request with two).
        var wroteHost = false
        for (name, value) in head.headers {
            let length = name.utf8.count
            if length == 14, name.equalsIgnoringASCIICase("content-length") { continue }
            if length == 4, name.equalsIgnoringASCIICase("host") {
                if wroteHost { continue }
                wroteHost = true
            }
            if HTTPMessageRules.staysOnHop(name, namedByConnection: namedByConnection, keepingUpgrade: offersUpgrade) {
                continue
            }
            bytes.writeHTTPField(name, value)
        }
        switch framing {
        case .contentLength(let length):
            bytes.writeStaticString("content-length: ")
            bytes.writeString(String(length))
            bytes.writeStaticString("\r\n")
        case .chunked:
            bytes.writeStaticString("transfer-encoding: chunked\r\n")
        case .none:
            switch head.method {
            case .POST, .PUT, .PATCH: bytes.writeStaticString("content-length: 0\r\n")
            default: break
            }
        }
        if offersUpgrade {
            bytes.writeStaticString("connection: upgrade\r\n")
        } else if http10 {
            bytes.writeStaticString("connection: keep-alive\r\n")
        }
        if let forwardedFor {
            bytes.writeHTTPField(forwardedFor.name, forwardedFor.value)
        }
        bytes.writeStaticString("\r\n")
        return bytes
    }

    /// The line that starts a chunk of `size` bytes; `closingPrevious`: the previous chunk's data went
    /// out without its CRLF, which this line carries (one write per chunk less).
    static func chunkLine(size: Int, closingPrevious: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var bytes = allocator.buffer(capacity: 20)
        if closingPrevious { bytes.writeStaticString("\r\n") }
        bytes.writeChunkSize(size)
        return bytes
    }

    /// The last chunk and the trailer fields that end a chunked body (see `chunkLine` for `closingPrevious`).
    static func lastChunk(trailers: HTTPHeaders?, closingPrevious: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var bytes = allocator.buffer(capacity: 8)
        if closingPrevious { bytes.writeStaticString("\r\n") }
        bytes.writeLastChunk(trailers: trailers)
        return bytes
    }
}
