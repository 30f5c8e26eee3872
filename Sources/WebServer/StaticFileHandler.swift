#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOHTTP1

/// Answers each request of one connection from the root, as nginx's static module does.
/// Sits after NIO's HTTP/1 codec and pipelining handler, so it sees one request at a time.
final class StaticFileHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for the next request head.
        case idle
        /// A head arrived; its body, if any, is read and dropped until `.end` (no request here takes a body).
        case receiving(HTTPRequestHead)
        /// A fatal error was answered and the connection is closing: nothing more is read or answered.
        case closing
    }

    /// The answer to one request, before it is written.
    private struct Reply {
        var status: HTTPResponseStatus
        var file: ServedFile?
        var body: ByteBuffer?
        var location: String?
        var keepAlive: Bool
    }

    private var state = State.idle
    private let loop: LoopContext
    private var remoteAddress = "-"
    /// A file being sent from disk: the idle timer must not cut it off.
    private var sendingFromDisk = false

    init(loop: LoopContext) {
        self.loop = loop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress?.ipAddress ?? "-"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = state else { return }
            state = .receiving(head)
        case .body:
            break
        case .end:
            guard case .receiving(let head) = state else { return }
            state = .idle
            respond(context: context, head: head)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError else {
            context.close(promise: nil)
            return
        }
        // NIO's pipelining handler holds a parse error back until the response in flight has ended, so a
        // response can start here. The decoder closes the channel right after this returns; the write goes first.
        if case .closing = state { return }
        state = .closing
        let reply = Reply(status: .badRequest, body: ErrorPage.badRequest, keepAlive: false)
        write(reply, context: context, isHead: false)
        log(request: nil, headers: nil, status: 400, bodyBytes: ErrorPage.badRequest.readableBytes)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // nginx's keepalive_timeout / client_header_timeout: drop connections that stopped talking.
            if !sendingFromDisk { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let isHead = head.method == .HEAD
        let reply = decide(head)
        if reply.status == .badRequest { state = .closing }
        let bodyBytes = write(reply, context: context, isHead: isHead)
        log(
            request: AccessLogEntry.RequestLine(method: head.method.rawValue, uri: head.uri, version: head.version),
            headers: head.headers,
            status: Int(reply.status.code),
            bodyBytes: bodyBytes
        )
    }

    private func decide(_ head: HTTPRequestHead) -> Reply {
        let keepAlive = head.isKeepAlive
        // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host, as nginx does.
        if head.version.minor >= 1 && head.version.major == 1 && !head.headers.contains(name: "host") {
            return Reply(status: .badRequest, body: ErrorPage.badRequest, keepAlive: false)
        }
        let target: RequestTarget
        do {
            target = try RequestTarget.parse(head.uri)
        } catch {
            switch error {
            case .badRequest:
                return Reply(status: .badRequest, body: ErrorPage.badRequest, keepAlive: false)
            case .notFound:
                return Reply(status: .notFound, body: ErrorPage.notFound, keepAlive: keepAlive)
            }
        }
        guard head.method == .GET || head.method == .HEAD else {
            return Reply(status: ErrorPage.notAllowed, body: ErrorPage.methodNotAllowed, keepAlive: keepAlive)
        }
        switch loop.store.lookup(target) {
        case .notFound:
            return Reply(status: .notFound, body: ErrorPage.notFound, keepAlive: keepAlive)
        case .forbidden:
            return Reply(status: .forbidden, body: ErrorPage.forbidden, keepAlive: keepAlive)
        case .directoryWithoutSlash:
            var location = RequestTarget.percentEncoded(target.path + "/")
            if let query = target.query { location += "?" + RequestTarget.percentEncoded(query, keepingPercent: true) }
            return Reply(
                status: .movedPermanently, body: ErrorPage.movedPermanently, location: location, keepAlive: keepAlive
            )
        case .file(let file):
            switch Conditional.evaluate(head.headers, file: file) {
            case .proceed:
                return Reply(status: .ok, file: file, keepAlive: keepAlive)
            case .notModified:
                return Reply(status: .notModified, file: file, keepAlive: keepAlive)
            case .preconditionFailed:
                return Reply(status: .preconditionFailed, body: ErrorPage.preconditionFailed, keepAlive: keepAlive)
            }
        }
    }

    /// Writes the reply and returns the body bytes sent, for the log.
    @discardableResult
    private func write(_ reply: Reply, context: ChannelHandlerContext, isHead: Bool) -> Int {
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        headers.add(name: "Server", value: "portico")
        headers.add(name: "Date", value: loop.date)
        var body: IOData?
        var fileToClose: NIOFileHandle?
        var bodyBytes = 0

        if let file = reply.file {
            if reply.status == .ok {
                headers.add(name: "Content-Type", value: file.contentType)
                headers.add(name: "Content-Length", value: file.contentLength)
            }
            headers.add(name: "Last-Modified", value: file.lastModified)
            headers.add(name: "ETag", value: file.etag)
            if reply.status == .ok && !isHead {
                if let bytes = file.bytes {
                    body = .byteBuffer(bytes)
                } else if let handle = openForSending(file) {
                    fileToClose = handle
                    body = .fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: file.size))
                } else {
                    return writeFailure(context: context)
                }
                bodyBytes = file.size
            }
        } else if let page = reply.body {
            headers.add(name: "Content-Type", value: "text/html")
            headers.add(name: "Content-Length", value: String(page.readableBytes))
            if let location = reply.location { headers.add(name: "Location", value: location) }
            if !isHead {
                body = .byteBuffer(page)
                bodyBytes = page.readableBytes
            }
        }
        headers.add(name: "Connection", value: reply.keepAlive ? "keep-alive" : "close")

        let head = HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }

        if fileToClose == nil && reply.keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return bodyBytes
        }
        if fileToClose != nil { sendingFromDisk = true }
        let keepAlive = reply.keepAlive
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            let (handler, context) = bound.value
            try? fileToClose?.close()
            handler.sendingFromDisk = false
            if !keepAlive { context.close(promise: nil) }
        }
        return bodyBytes
    }

    private func writeFailure(context: ChannelHandlerContext) -> Int {
        state = .closing
        let reply = Reply(status: .internalServerError, body: ErrorPage.internalServerError, keepAlive: false)
        return write(reply, context: context, isHead: false)
    }

    /// Opens a file too large to cache; its path was resolved and checked when it was looked up.
    private func openForSending(_ file: ServedFile) -> NIOFileHandle? {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0, FileIdentity(status) == file.identity else {
            // Replaced since the lookup: sending it would not match the headers already chosen.
            close(descriptor)
            return nil
        }
        return NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
    }

    private func log(request: AccessLogEntry.RequestLine?, headers: HTTPHeaders?, status: Int, bodyBytes: Int) {
        guard let accessLog = loop.accessLog else { return }
        accessLog.append(
            AccessLogEntry(
                remoteAddress: remoteAddress,
                timeLocal: loop.logTime,
                request: request,
                status: status,
                bodyBytesSent: bodyBytes,
                referer: headers?.first(name: "referer"),
                userAgent: headers?.first(name: "user-agent")
            )
        )
    }
}
