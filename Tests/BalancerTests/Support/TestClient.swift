import NIOCore
import NIOHTTP1
import NIOPosix

struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String
}

enum TestClientError: Error {
    case closedBeforeResponse
    case timedOut
}

/// A keep-alive HTTP/1.1 client for the tests: one connection, one request at a time.
final class HTTPTestClient: @unchecked Sendable {
    let channel: Channel
    private let handler: ResponseCollector

    private init(channel: Channel, handler: ResponseCollector) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(port: Int, group: EventLoopGroup) async throws -> HTTPTestClient {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let handler = try await channel.pipeline.handler(type: ResponseCollector.self).get()
        return HTTPTestClient(channel: channel, handler: handler)
    }

    func request(
        _ method: HTTPMethod = .GET,
        _ uri: String,
        headers: [(String, String)] = [],
        body: [ByteBuffer]? = nil,
        chunked: Bool = false,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> TestResponse {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "host", value: "test")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body, !chunked {
            head.headers.add(name: "content-length", value: String(body.reduce(0) { $0 + $1.readableBytes }))
        } else if chunked {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        let promise = self.channel.eventLoop.makePromise(of: TestResponse.self)
        let channel = self.channel
        let handler = self.handler
        channel.eventLoop.execute {
            handler.pending.append(promise)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            for part in body ?? [] {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(part)), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(TestClientError.timedOut) }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await self.channel.close()
    }

    /// One request on a fresh connection, closed afterwards (what `curl` does).
    static func get(
        port: Int,
        _ uri: String,
        group: EventLoopGroup,
        method: HTTPMethod = .GET,
        headers: [(String, String)] = []
    ) async throws -> TestResponse {
        let client = try await HTTPTestClient.connect(port: port, group: group)
        defer { Task { await client.close() } }
        return try await client.request(method, uri, headers: headers)
    }
}

private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    var pending: [EventLoopPromise<TestResponse>] = []
    private var current: TestResponse?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.current = TestResponse(status: Int(head.status.code), headers: head.headers, body: "")
        case .body(let buffer):
            self.current?.body += String(buffer: buffer)
        case .end:
            if let response = self.current, !self.pending.isEmpty {
                self.pending.removeFirst().succeed(response)
            }
            self.current = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for promise in self.pending { promise.fail(TestClientError.closedBeforeResponse) }
        self.pending = []
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        for promise in self.pending { promise.fail(error) }
        self.pending = []
        context.close(promise: nil)
    }
}

/// Sends raw bytes and returns everything the peer sent until it closed (or `timeout`).
func rawExchange(
    host: String = "127.0.0.1",
    port: Int,
    _ text: String,
    group: EventLoopGroup,
    timeout: TimeAmount = .seconds(5),
    closeWhenReceived: Bool = false
) async throws -> String {
    let promise = group.next().makePromise(of: String.self)
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(UntilCloseCollector(promise: promise))
            }
        }
        .connect(host: host, port: port)
        .get()
    let timer = channel.eventLoop.scheduleTask(in: timeout) {
        channel.close(promise: nil)
    }
    defer { timer.cancel() }
    // On a slow machine the proxy can answer (a 408, say) and close before our write is flushed; the write then
    // fails with "I/O on closed channel", but what the proxy sent is still collected below.
    try? await channel.writeAndFlush(ByteBuffer(string: text))
    return try await promise.futureResult.get()
}

/// Collects everything a connection receives until it closes (raw HTTP exchanges, runtime API answers).
final class UntilCloseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var received = ""
    private let promise: EventLoopPromise<String>

    init(promise: EventLoopPromise<String>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += String(buffer: self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.succeed(self.received)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// A connection that never became active (refused) ends here without `channelInactive`; after a close
    /// the promise is already fulfilled and this does nothing.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.promise.fail(ChannelError.ioOnClosedChannel)
    }
}

/// The status code of a raw HTTP response text ("HTTP/1.1 400 Bad request..." → 400), 0 if none.
func statusCode(_ response: String) -> Int {
    let parts = response.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/") else { return 0 }
    return Int(parts[1]) ?? 0
}
