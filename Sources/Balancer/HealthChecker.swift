import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import NIOPosix

/// The outcome of one health check as the checker observed it; mapped to the core's `CheckReport`.
enum CheckResult: Equatable {
    case layer4Passed
    case layer7Passed(code: Int)
    case layer4Failed(info: String)
    case layer4Timeout
    case layer7Timeout
    case layer7WrongStatus(code: Int, info: String)
    case layer7Invalid(info: String)

    func report(duration: Duration) -> CheckReport {
        switch self {
        case .layer4Passed: return CheckReport(status: .layer4Passed, duration: duration)
        case .layer7Passed(let code): return CheckReport(status: .layer7Passed, code: code, duration: duration)
        case .layer4Failed(let info):
            return CheckReport(status: .layer4ConnectionProblem, info: info, duration: duration)
        case .layer4Timeout: return CheckReport(status: .layer4Timeout, duration: duration)
        case .layer7Timeout: return CheckReport(status: .layer7Timeout, duration: duration)
        case .layer7WrongStatus(let code, let info):
            return CheckReport(status: .layer7WrongStatus, code: code, info: info, duration: duration)
        case .layer7Invalid(let info):
            return CheckReport(status: .layer7InvalidResponse, info: info, duration: duration)
        }
    }
}

/// Runs the active checks of one server on one event loop and feeds the results into the backend's
/// selector, so a DOWN server gets no new traffic on any loop.
final class HealthChecker: @unchecked Sendable {
    // @unchecked: mutable state is only touched on `eventLoop`.
    let server: ServerRuntime
    let backend: BackendRuntime
    let eventLoop: any EventLoop
    private let logger: Logger
    private var timer: Scheduled<Void>?
    private var stopped = false
    private var inFlight: Channel?

    init(server: ServerRuntime, backend: BackendRuntime, eventLoop: any EventLoop, logger: Logger) {
        self.server = server
        self.backend = backend
        self.eventLoop = eventLoop
        self.logger = logger
    }

    func stop() {
        self.eventLoop.execute {
            self.stopped = true
            self.timer?.cancel()
            self.inFlight?.close(promise: nil)
        }
    }

    private func schedule(in delay: TimeAmount) {
        guard !self.stopped else { return }
        // The core's scheduleCheck replaces any pending check of this server.
        self.timer?.cancel()
        self.timer = self.eventLoop.scheduleTask(in: delay) { self.runCheck() }
    }

    /// HAProxy: with `timeout check`, connecting may take min(inter, timeout connect) and reading the
    /// response `timeout check`; without it, the whole check is bounded by `inter`.
    private var timeouts: (connect: TimeAmount, read: TimeAmount) {
        let inter = self.server.config.checkInterval.timeAmount
        if let check = self.backend.config.timeouts.check?.timeAmount {
            let connect = self.backend.connectTimeout.map { min($0, inter) } ?? inter
            return (connect, check)
        }
        return (self.backend.connectTimeout.map { min($0, inter) } ?? inter, inter)
    }

    private func runCheck() {
        guard !self.stopped else { return }
        let started = NIODeadline.now()
        let (connectTimeout, readTimeout) = self.timeouts
        let httpCheck = self.backend.config.httpCheck
        let promise = CheckCompletion()
        let host = self.server.config.address.description
        let request = httpCheck.map { HealthChecker.requestText($0, host: host) }
        // Set before connecting: a connect that fails at once (no descriptor left, EMFILE) completes the future
        // synchronously, and a result reported before this is set would be lost with no next check scheduled.
        promise.onComplete = { result in
            self.inFlight = nil
            let elapsed = NIODeadline.now() - started
            self.backend.checkCompleted(self.server.index, result.report(duration: .nanoseconds(elapsed.nanoseconds)))
        }
        ClientBootstrap(group: self.eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        CheckResponseReader(request: request, check: httpCheck, promise: promise)
                    )
                }
            }
            .connect(to: self.server.checkAddress)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.inFlight = channel
                    if request == nil {
                        promise.succeed(.layer4Passed)
                        channel.close(promise: nil)
                        return
                    }
                    let timeout = self.eventLoop.scheduleTask(in: readTimeout) {
                        promise.succeed(.layer7Timeout)
                    }
                    promise.cleanup = {
                        timeout.cancel()
                        channel.close(promise: nil)
                    }
                    if promise.isDone { promise.cleanup?() }
                case .failure(let error):
                    if error is ChannelError, case .connectTimeout = error as? ChannelError {
                        promise.succeed(.layer4Timeout)
                    } else {
                        promise.succeed(.layer4Failed(info: HealthChecker.describe(error)))
                    }
                }
            }
    }

    /// The core asked for this server's next check.
    func scheduleNext(after delay: Duration) {
        self.eventLoop.execute { self.schedule(in: delay.timeAmount) }
    }

    /// The bytes HAProxy 2.6 sends for this check (BalancerCore's `HTTPCheckRequest`); HTTP/1.1 checks get
    /// a Host header (the server's address), which nginx requires.
    static func requestText(_ check: HTTPCheck, host: String) -> String {
        let request = HTTPCheckRequest(
            method: check.method,
            uri: check.uri,
            version: check.version,
            headers: check.headers.map { HTTPCheckRequest.Header($0.name, $0.value) }
        )
        return String(decoding: request.bytes(host: host), as: UTF8.self)
    }

    static func describe(_ error: Error) -> String {
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNREFUSED: return "Connection refused"
            case EHOSTUNREACH: return "No route to host"
            case ENETUNREACH: return "Network is unreachable"
            case ECONNRESET: return "Connection reset by peer"
            default: return ioError.description
            }
        }
        if let multiple = error as? NIOConnectionError, let first = multiple.connectionErrors.first {
            return HealthChecker.describe(first.error)
        }
        return "\(error)"
    }
}

/// Sends the check request and reads the response: as soon as the status line and headers are in
/// for a status expectation, or to the end of the connection for a body expectation.
private final class CheckResponseReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let request: String?
    private let check: HTTPCheck?
    private let promise: CheckCompletion
    private var received = ByteBuffer()
    private static let limit = 16384

    init(request: String?, check: HTTPCheck?, promise: CheckCompletion) {
        self.request = request
        self.check = check
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        if let request = self.request {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        if self.received.readableBytes < CheckResponseReader.limit {
            self.received.writeBuffer(&buffer)
        }
        let needsBody: Bool
        if case .bodyContains = self.check?.expect?.match { needsBody = true } else { needsBody = false }
        let text = String(buffer: self.received)
        if !needsBody, text.contains("\r\n\r\n") || self.received.readableBytes >= CheckResponseReader.limit {
            self.finish(text)
        } else if self.received.readableBytes >= CheckResponseReader.limit {
            self.finish(text)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(String(buffer: self.received))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.promise.succeed(.layer4Failed(info: HealthChecker.describe(error)))
        context.close(promise: nil)
    }

    private func finish(_ text: String) {
        guard let check = self.check else {
            self.promise.succeed(.layer4Passed)
            return
        }
        guard let lineEnd = text.firstRange(of: "\r\n") ?? text.firstRange(of: "\n") else {
            self.promise.succeed(
                text.isEmpty ? .layer7Invalid(info: "empty response") : .layer7Invalid(info: "no status line")
            )
            return
        }
        let statusLine = text[text.startIndex..<lineEnd.lowerBound]
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, let code = Int(parts[1]) else {
            self.promise.succeed(.layer7Invalid(info: "invalid status line"))
            return
        }
        let reason = parts.count == 3 ? String(parts[2]) : ""
        let body: String
        if let headersEnd = text.firstRange(of: "\r\n\r\n") {
            body = String(text[headersEnd.upperBound...])
        } else {
            body = ""
        }
        if check.passes(status: code, body: body) {
            self.promise.succeed(.layer7Passed(code: code))
        } else {
            self.promise.succeed(.layer7WrongStatus(code: code, info: reason))
        }
    }
}

/// Completes a check once, whichever comes first: the response, EOF, an error or the timeout.
private final class CheckCompletion: @unchecked Sendable {
    // @unchecked: used on the checker's event loop only.
    var onComplete: ((CheckResult) -> Void)?
    var cleanup: (() -> Void)?
    private(set) var isDone = false

    func succeed(_ result: CheckResult) {
        guard !self.isDone else { return }
        self.isDone = true
        self.cleanup?()
        self.onComplete?(result)
    }
}
