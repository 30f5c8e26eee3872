import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP server on 127.0.0.1 standing in for web01/web02.
///
/// Paths: `/` → its name; `/health` → 200 or 503 (`healthy`); `/headers` → the request headers, one
/// `name: value` per line; `/echo` → the request body streamed back (chunked; `Expect: 100-continue` gets a 100 first); `/big?N` → N bytes in
/// chunks; `/slow` → answers after `slowDelay`; `/chunked` → its name in three chunks; `/malformed` →
/// garbage instead of a response; `/close` → closes without answering.
final class TestBackend: @unchecked Sendable {
    let name: String
    private let group: EventLoopGroup
    private var channel: Channel?
    private let lock = TestLock()
    private var _healthy = true
    private var _healthHangs = false
    private var _requests = 0
    private var _connections = 0
    private var _slowRequests = 0
    private var children: [Channel] = []
    let slowDelay: TimeAmount

    private(set) var port: Int = 0

    var healthy: Bool {
        get { self.lock.withLock { self._healthy } }
        set { self.lock.withLock { self._healthy = newValue } }
    }

    /// /health never answers (the check must time out).
    var healthHangs: Bool {
        get { self.lock.withLock { self._healthHangs } }
        set { self.lock.withLock { self._healthHangs = newValue } }
    }

    var requests: Int { self.lock.withLock { self._requests } }
    var connections: Int { self.lock.withLock { self._connections } }
    /// `/slow` requests received: a test knows its slow request is in flight when this grows.
    var slowRequests: Int { self.lock.withLock { self._slowRequests } }

    init(name: String, group: EventLoopGroup, slowDelay: TimeAmount = .seconds(3)) {
        self.name = name
        self.group = group
        self.slowDelay = slowDelay
    }

    func start(port: Int = 0) async throws {
        let channel = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                self.lock.withLock {
                    self._connections += 1
                    self.children.append(channel)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    try channel.pipeline.syncOperations.addHandler(TestBackendHandler(backend: self))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    func countRequest() {
        self.lock.withLock { self._requests += 1 }
    }

    func countSlowRequest() {
        self.lock.withLock { self._slowRequests += 1 }
    }

    /// Stops listening and closes every open connection, like a killed process.
    func kill() async {
        try? await self.channel?.close()
        let children = self.lock.withLock { () -> [Channel] in
            let all = self.children
            self.children = []
            return all
        }
        for child in children {
            // The kernel closes a killed process's sockets the same way: FIN (RST if data was unread).
            try? await child.close()
        }
    }
}

private final class TestBackendHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let backend: TestBackend
    private var head: HTTPRequestHead?
    private var echoing = false

    init(backend: TestBackend) {
        self.backend = backend
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.backend.countRequest()
            if head.uri == "/echo" {
                self.echoing = true
                if head.headers["expect"].first?.lowercased() == "100-continue" {
                    // The client waits for this before it sends the body.
                    context.writeAndFlush(
                        self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))),
                        promise: nil)
                }
                var headers = HTTPHeaders()
                headers.add(name: "transfer-encoding", value: "chunked")
                context.writeAndFlush(
                    self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil
                )
            }
        case .body(let buffer):
            if self.echoing {
                context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            if self.echoing {
                self.echoing = false
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            self.respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch path {
        case "/health":
            if self.backend.healthHangs { return }
            self.send(context, status: self.backend.healthy ? .ok : .serviceUnavailable, body: "ok\n")
        case "/headers":
            let text = head.headers.map { "\($0.name.lowercased()): \($0.value)" }.joined(separator: "\n")
            self.send(context, status: .ok, body: text + "\n")
        case "/slow":
            self.backend.countSlowRequest()
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: self.backend.slowDelay) {
                self.send(context, status: .ok, body: self.backend.name)
            }
        case "/chunked":
            var headers = HTTPHeaders()
            headers.add(name: "transfer-encoding", value: "chunked")
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil
            )
            for piece in ["we", "b0", String(self.backend.name.suffix(1))] {
                context.writeAndFlush(
                    self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: piece)))),
                    promise: nil
                )
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        case "/big":
            let size = head.uri.split(separator: "?").last.flatMap { Int($0) } ?? 1_000_000
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: String(size))
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil
            )
            var remaining = size
            let chunk = context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: 65536)
            while remaining > 0 {
                let piece = chunk.getSlice(at: 0, length: min(remaining, 65536)) ?? chunk
                context.write(self.wrapOutboundOut(.body(.byteBuffer(piece))), promise: nil)
                remaining -= piece.readableBytes
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        case "/malformed":
            // These bytes are not HTTP.
            self.sendRaw(context, "HTTP/1.1 2OO NOT A STATUS\r\nbroken header\r\n\r\n")
        case "/early-hints":
            self.sendRaw(
                context,
                "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        case "/no-content-with-body":
            // A (wrong) server: a 204 with a Content-Length and a body, which a client must not get.
            self.sendRaw(context, "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody")
        case "/big-header":
            // A response head of 6,000 bytes: over a 4 KiB tune.bufsize.
            let big = String(repeating: "b", count: 6000)
            self.sendRaw(context, "HTTP/1.1 200 OK\r\nX-Big: \(big)\r\nContent-Length: 2\r\n\r\nok")
        case "/cut":
            // The server goes away in the middle of the body it announced.
            self.sendRaw(context, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            context.close(promise: nil)
        case "/close":
            context.close(promise: nil)
        default:
            self.send(context, status: .ok, body: self.backend.name)
        }
    }

    /// Bytes written as they are, past the HTTP encoder (which would refuse or fix them).
    private func sendRaw(_ context: ChannelHandlerContext, _ text: String) {
        let bytes = context.channel.allocator.buffer(string: text)
        if let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) {
            encoder.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        }
    }

    private func send(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(body.utf8.count))
        headers.add(name: "content-type", value: "text/plain")
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(
            self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))),
            promise: nil
        )
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// A plain lock for test bookkeeping shared between event loops and the test task.
final class TestLock: Sendable {
    private let mutex = Mutex(())

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try self.mutex.withLock { _ in try body() }
    }
}
