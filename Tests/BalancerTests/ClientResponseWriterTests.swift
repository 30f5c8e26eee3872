import NIOCore
import NIOHTTP1
import Testing

@testable import Balancer

@Suite("Response bytes for the client")
struct ClientResponseWriterTests {
    private func text(_ buffer: ByteBuffer) -> String {
        String(buffer: buffer)
    }

    @Test("head and a small body leave as one buffer, byte for byte what a client expects")
    func headAndBodyCoalesce() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: "6")
        writer.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), chunked: false)
        #expect(writer.body(ByteBuffer(string: "web01\n")) == nil)
        writer.end(nil)
        #expect(
            self.text(writer.take())
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nweb01\n")
        #expect(!writer.hasPending)
    }

    @Test("chunked framing: each piece in a chunk of its size, then the last chunk with the trailers")
    func chunked() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        var headers = HTTPHeaders()
        headers.add(name: "transfer-encoding", value: "chunked")
        writer.head(HTTPResponseHead(version: .http1_1, status: .notFound, headers: headers), chunked: true)
        _ = writer.body(ByteBuffer(string: "hello "))
        _ = writer.body(ByteBuffer(string: String(repeating: "x", count: 26)))
        var trailers = HTTPHeaders()
        trailers.add(name: "x-checksum", value: "abc")
        writer.end(trailers)
        #expect(
            self.text(writer.take())
                == "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n1a\r\n"
                + String(repeating: "x", count: 26) + "\r\n0\r\nx-checksum: abc\r\n\r\n")
    }

    @Test("a large body piece is not copied: it is handed back and its chunk's CRLF follows it")
    func largeBodyPassesThrough() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.head(HTTPResponseHead(version: .http1_1, status: .ok), chunked: true)
        let large = ByteBuffer(repeating: UInt8(ascii: "a"), count: ClientResponseWriter.coalesceLimit + 1)
        let returned = writer.body(large)
        #expect(returned == large)
        #expect(self.text(writer.take()) == "HTTP/1.1 200 OK\r\n\r\n1001\r\n")
        writer.bodyWrittenSeparately()
        writer.end(nil)
        #expect(self.text(writer.take()) == "\r\n0\r\n\r\n")
    }

    @Test("without chunked framing the body goes out as is and trailers are dropped")
    func identityFraming() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.head(HTTPResponseHead(version: .http1_0, status: .ok), chunked: false)
        _ = writer.body(ByteBuffer(string: "abc"))
        var trailers = HTTPHeaders()
        trailers.add(name: "x-late", value: "1")
        writer.end(trailers)
        #expect(self.text(writer.take()) == "HTTP/1.0 200 OK\r\n\r\nabc")
    }

    @Test("a status the server named itself keeps its reason phrase")
    func customReason() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.head(
            HTTPResponseHead(version: .http1_1, status: .custom(code: 299, reasonPhrase: "Fine Anyway")),
            chunked: false)
        #expect(self.text(writer.take()) == "HTTP/1.1 299 Fine Anyway\r\n\r\n")
    }
}
