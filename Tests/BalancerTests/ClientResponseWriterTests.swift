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

    @Test("an idle keep-alive connection's writer holds no buffer between responses")
    func noStorageBetweenResponses() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        #expect(!writer.holdsStorage)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        writer.head(HTTPResponseHead(version: .http1_1, status: .noContent, headers: headers), chunked: false)
        #expect(writer.holdsStorage)
        #expect(self.text(writer.take()) == "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        #expect(!writer.holdsStorage)
        #expect(!writer.hasPending)
        // The next response takes fresh storage; the handed-over bytes are untouched by it.
        writer.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), chunked: false)
        #expect(self.text(writer.take()) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
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

    @Test("a relayed head drops hop-by-hop fields, those its Connection names and a replaced Content-Length")
    func relayedHead() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "nginx")
        headers.add(name: "Connection", value: "keep-alive, X-Session")
        headers.add(name: "X-Session", value: "secret")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "Content-Length", value: "12")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "X-Kept", value: "yes")
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        let relay = ClientResponseWriter.Relay(
            version: .http1_1, dropsHopByHop: true, namedByConnection: HTTPMessageRules.namedByConnection(headers),
            dropsContentLength: true, chunked: true, connection: "close")
        writer.relayedHead(head, relay)
        #expect(
            self.text(writer.take())
                == "HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Kept: yes\r\ntransfer-encoding: chunked\r\n"
                + "connection: close\r\n\r\n")
        #expect(writer.chunked)
    }

    @Test("a 101 that opens a tunnel keeps its Upgrade and Connection fields; other hop-by-hop fields stay out")
    func relayedSwitchingProtocols() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        var headers = HTTPHeaders()
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let head = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)
        let relay = ClientResponseWriter.Relay(
            version: .http1_1, dropsHopByHop: true, namedByConnection: HTTPMessageRules.namedByConnection(headers),
            dropsContentLength: true, chunked: false, connection: nil, keepsUpgrade: true)
        writer.relayedHead(head, relay)
        #expect(
            self.text(writer.take())
                == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    @Test("an HTTP/1.0 client gets a 1.0 status line and the server's fields as they are")
    func relayedHeadForHTTP10() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "6")
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        let relay = ClientResponseWriter.Relay(
            version: .http1_0, dropsHopByHop: false, namedByConnection: [], dropsContentLength: false,
            chunked: false, connection: "keep-alive")
        writer.relayedHead(head, relay)
        #expect(
            self.text(writer.take()) == "HTTP/1.0 200 OK\r\nContent-Length: 6\r\nconnection: keep-alive\r\n\r\n")
    }
}
