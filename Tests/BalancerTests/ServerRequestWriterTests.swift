import NIOCore
import NIOHTTP1
import Testing

@testable import Balancer

@Suite("Request bytes for the server")
struct ServerRequestWriterTests {
    private func written(
        _ method: HTTPMethod = .GET,
        _ headers: [(String, String)],
        framing: HTTPMessageRules.RequestFraming = .none,
        forwardedFor: (name: String, value: String)? = nil,
        offersUpgrade: Bool = false,
        version: HTTPVersion = .http1_1
    ) -> String {
        let head = HTTPRequestHead(version: version, method: method, uri: "/a?b=c", headers: HTTPHeaders(headers))
        return String(
            buffer: ServerRequestWriter.head(
                head, framing: framing, forwardedFor: forwardedFor, offersUpgrade: offersUpgrade,
                allocator: ByteBufferAllocator()))
    }

    @Test("an HTTP/1.0 request stays HTTP/1.0 (it may lack Host) and asks the server to keep the connection")
    func http10() {
        #expect(
            self.written(.GET, [("Connection", "close")], version: .http1_0)
                == "GET /a?b=c HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
        #expect(
            self.written(.POST, [("Content-Length", "2")], framing: .contentLength(2), version: .http1_0)
                == "POST /a?b=c HTTP/1.0\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n")
    }

    @Test("an offered upgrade keeps Upgrade and sends connection: upgrade; other hop-by-hop fields still stay out")
    func offeredUpgrade() {
        let bytes = self.written(
            .GET,
            [
                ("Host", "x"), ("Connection", "keep-alive, Upgrade, X-Trace"), ("X-Trace", "1"),
                ("Keep-Alive", "timeout=5"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k"),
            ],
            forwardedFor: ("X-Forwarded-For", "192.0.2.7"), offersUpgrade: true)
        #expect(
            bytes == "GET /a?b=c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n"
                + "connection: upgrade\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n")
    }

    @Test("a GET goes out as HTTP/1.1 with the client's fields in order and X-Forwarded-For appended")
    func plainGet() {
        let bytes = self.written(
            .GET, [("Host", "x"), ("X-Forwarded-For", "10.0.0.9"), ("Accept", "*/*")],
            forwardedFor: ("X-Forwarded-For", "192.0.2.7"))
        #expect(
            bytes == "GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.9\r\nAccept: */*\r\n"
                + "X-Forwarded-For: 192.0.2.7\r\n\r\n")
    }

    @Test("hop-by-hop: Connection and the fields it names stay out, end-to-end fields stay")
    func hopByHop() {
        let bytes = self.written(.GET, [
            ("Host", "x"), ("Connection", "keep-alive, X-Trace"), ("X-Trace", "1"), ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"), ("Upgrade", "websocket"), ("Proxy-Connection", "keep-alive"), ("Accept", "*/*"),
        ])
        #expect(bytes == "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
    }

    @Test("framing: the validated Content-Length or chunked replaces the client's framing fields")
    func framing() {
        #expect(
            self.written(.POST, [("Content-Length", "5, 5"), ("Host", "x")], framing: .contentLength(5))
                == "POST /a?b=c HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\n")
        #expect(
            self.written(.PUT, [("Transfer-Encoding", "gzip, chunked")], framing: .chunked)
                == "PUT /a?b=c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n")
    }

    @Test("a body-less POST, PUT or PATCH says so with content-length: 0; a GET carries no framing field")
    func bodyless() {
        for method in [HTTPMethod.POST, .PUT, .PATCH] {
            #expect(self.written(method, []) == "\(method.rawValue) /a?b=c HTTP/1.1\r\ncontent-length: 0\r\n\r\n")
        }
        #expect(self.written(.DELETE, []) == "DELETE /a?b=c HTTP/1.1\r\n\r\n")
    }

    @Test("chunks: each line closes the previous chunk's data; the last chunk carries the trailers")
    func chunks() {
        let allocator = ByteBufferAllocator()
        #expect(String(buffer: ServerRequestWriter.chunkLine(size: 26, closingPrevious: false, allocator: allocator))
            == "1a\r\n")
        #expect(String(buffer: ServerRequestWriter.chunkLine(size: 5, closingPrevious: true, allocator: allocator))
            == "\r\n5\r\n")
        var trailers = HTTPHeaders()
        trailers.add(name: "x-checksum", value: "abc")
        #expect(
            String(buffer: ServerRequestWriter.lastChunk(trailers: trailers, closingPrevious: true, allocator: allocator))
                == "\r\n0\r\nx-checksum: abc\r\n\r\n")
        #expect(String(buffer: ServerRequestWriter.lastChunk(trailers: nil, closingPrevious: false, allocator: allocator))
            == "0\r\n\r\n")
    }
}
