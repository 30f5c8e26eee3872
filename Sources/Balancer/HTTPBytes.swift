import NIOCore
import NIOHTTP1

/// The HTTP/1 pieces both writers put into bytes: `ClientResponseWriter` for clients and
/// `ServerRequestWriter` for servers.
extension ByteBuffer {
    /// `name: value` and its CRLF.
    mutating func writeHTTPField(_ name: String, _ value: String) {
        self.writeString(name)
        self.writeStaticString(": ")
        self.writeString(value)
        self.writeStaticString("\r\n")
    }

    /// The line that starts a chunk of `size` bytes (RFC 9112 §7.1).
    mutating func writeChunkSize(_ size: Int) {
        self.writeString(String(size, radix: 16))
        self.writeStaticString("\r\n")
    }

    /// The last chunk, the trailer fields and the blank line that end a chunked body.
    mutating func writeLastChunk(trailers: HTTPHeaders?) {
        self.writeStaticString("0\r\n")
        for (name, value) in trailers ?? HTTPHeaders() {
            self.writeHTTPField(name, value)
        }
        self.writeStaticString("\r\n")
    }
}
