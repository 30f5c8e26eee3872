import BalancerCore
import HAProxyConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// What a client connection shares with the rest of the process.
struct ProxyEnvironment {
    let frontend: FrontendRuntime
    let pool: ServerConnectionPool
    let logger: Logger
    /// The statistics page and Prometheus exposition, for a proxy that serves them.
    let localService: LocalService?
    /// `tune.bufsize`: the largest request head (see `ClientConnection.requestDecoder`) and response head (see
    /// `ServerConnection.responseDecoder`).
    var requestBufferSize = GlobalSettings.defaultBufferSize
}

/// One client connection: reads requests, sends each to a server connection taken from this loop's
/// pool (or a new one), streams the bodies both ways with backpressure and relays the response.
/// Requests are handled one at a time; pipelined requests wait until the previous response is done.
///
/// A request that asks for an upgrade (WebSocket: `Upgrade` with `Connection: upgrade`) and is answered
/// `101 Switching Protocols` turns both connections into a tunnel of raw bytes (phase `tunnel`), as
/// HAProxy's `mode http` does, until one side closes or `timeout tunnel` strikes.
final class ClientConnection: ChannelDuplexHandler, TunnelEnd {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase {
        /// Waiting for the head of the next request (the http-request / keep-alive timer runs).
        case idle
        /// A request head arrived; waiting for a server connection (queue, connect, retries).
        case connecting
        /// The request is (being) sent to a server and the response relayed.
        case exchanging
        /// The request is for the statistics page or the Prometheus path: its body is collected, then
        /// Portico answers it itself and closes the connection.
        case answeringLocally
        /// An `http-request deny` or `redirect` rule answers: the rest of the request is read and dropped,
        /// then Portico answers and, unless the connection closes, waits for the next request.
        case answeringByRule
        /// An error response or a close is under way; nothing more is read.
        case closing
        /// The server switched protocols (101): raw bytes are relayed both ways until either side closes.
        case tunnel
    }

    /// The request decoder for client connections. Bytes it holds when it is removed are passed on: that
    /// only happens after a request that asked for an upgrade (see `HTTPMessageRules.UpgradeRequest`).
    static func requestDecoder(bufferSize: Int) -> ByteToMessageHandler<HTTPRequestDecoder> {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = bufferSize
        limits.maxHeaderFieldSize = bufferSize
        // A backstop: the decoder keeps at most an unfinished head (≤ bufsize) and one read between decode
        // steps; more means it stopped parsing (behind an upgrade request) while reads went on, and the
        // connection is closed rather than let the buffer grow.
        return ByteToMessageHandler(
            HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits),
            maximumBufferSize: 2 * bufferSize + 65536)
    }

    private let environment: ProxyEnvironment
    /// Counters and httplog of this connection's requests, told of each step directly.
    private let recorder: ExchangeRecorder
    /// The bytes of the response being sent (see `ClientResponseWriter`).
    private var output = ClientResponseWriter(allocator: ByteBufferAllocator())
    /// What a request answered locally asked for, and its body (an admin form from the stats page).
    private var localTarget: LocalService.Target?
    private var localHead: HTTPRequestHead?
    private var localBody: [UInt8] = []
    private var context: ChannelHandlerContext?
    private var phase = Phase.idle
    private var clientAddressBytes: [UInt8]?
    private var clientAddressText = "unknown"
    private var clientKey: BalancerCore.ClientAddress?
    private var isFirstRequest = true
    private var draining = false

    // Reads from the client are held while no server can take the body, or while a request is complete
    // and its response is still running.
    private var readPending = false
    /// Inside a batch of client reads: flushing to the server waits for channelReadComplete.
    private var inReadBatch = false

    // Timeouts use one lazily re-armed timer per connection (`watchdog`): the deadlines below move
    // with every request without scheduling or cancelling anything on the hot path.
    private var watchdog: Scheduled<Void>?
    private var watchdogAt: NIODeadline?
    /// While idle: when the next request head must be complete (http-request / keep-alive timeout).
    private var headDeadline: NIODeadline?
    private var headDeadlineIsFirstRequest = true
    /// While exchanging: `timeout server` runs from the last server activity.
    private var watchingServer = false
    private var lastClientActivity = NIODeadline.now()
    private var queueTimer: Scheduled<Void>?
    private var queueTicket: UInt64?
    private var lastServerActivity = NIODeadline.now()
    private var lastWrite: EventLoopFuture<Void>.Isolated?

    // The current exchange.
    private var exchangeID: UInt64 = 0
    /// The client's request head (the server connection's decoder needs its method) and the head the
    /// servers get, written once (`ServerRequestWriter`) and sent again as it is on a retry.
    private var requestHead: HTTPRequestHead?
    private var upstreamHead: ByteBuffer?
    private var upstreamChunked = false
    private var method = HTTPMethod.GET
    private var clientVersion = HTTPVersion.http1_1
    private var clientKeepAlive = true
    private var requestHasBody = false
    private var requestComplete = false
    /// Body parts and the end received but not written to a server yet (while connecting).
    private var pendingParts: [HTTPServerRequestPart] = []
    /// Some body bytes already went to a server: the request can no longer be replayed.
    private var bodyStreamed = false
    private var server: ServerConnection?
    private var slot: Int?
    private var failedServer: Int?
    /// Retries done for the current request (the core's `retriesDone`).
    private var retriesDone = 0
    private var retryTimer: Scheduled<Void>?
    private var responseHeadSent = false
    private var responseKeepAlive = true
    private var closeAfterResponse = false
    /// Pipelined parts that arrived before the current exchange finished.
    private var deferred: [HTTPServerRequestPart] = []
    /// What the current request's Upgrade field means (the decoder stopped; the upgrade was offered).
    private var upgrade = HTTPMessageRules.UpgradeRequest()

    // The tunnel, once a 101 made one.
    private var tunneled = false
    private var tunnelLastActivity = NIODeadline.now()
    private var tunnelTimeout: TimeAmount?
    /// The timeouts `tunnelTimeout` was chosen from, per side (nil: that side sets none), so that a half-close
    /// changes only the side a `-fin` timeout applies to.
    private var tunnelSideTimeouts: (client: TimeAmount?, server: TimeAmount?) = (nil, nil)
    /// The httplog letters when the idle timeout closes the tunnel (`cD`, or `sD` when `timeout server` is
    /// the shorter one and `timeout tunnel` is not set).
    private var tunnelTimeoutTermination = TerminationState(cause: "c", phase: "D")
    /// How the tunnel ended, for the httplog line written when the client connection closes.
    private var tunnelTermination = TerminationState.normal
    private var clientFinished = false
    private var serverFinished = false

    /// `mode tcp`: no HTTP at all. The connection is a tunnel from the start (a `TunnelReader` in front of
    /// this handler instead of the request decoder): a server is picked and connected as soon as the client
    /// is accepted, then raw bytes are relayed both ways with the same tunnel code as an upgraded HTTP
    /// connection.
    private let isTCP: Bool
    /// The client's FIN came while its server was still being connected: relayed once the tunnel starts.
    private var clientFinishedBeforeTunnel = false

    init(environment: ProxyEnvironment, recorder: ExchangeRecorder) {
        self.environment = environment
        self.recorder = recorder
        self.isTCP = environment.frontend.config.mode == .tcp
    }

    private var frontend: FrontendRuntime { self.environment.frontend }
    private var isIdempotent: Bool { HTTPMessageRules.isIdempotent(self.method) }
    /// The current request's backend (`use_backend` rules, else `default_backend`); in `mode tcp` the
    /// connection's, chosen when it is accepted.
    private var route: Route?
    /// What an `http-request` rule answers, once the request has been read (`answeringByRule`).
    private var ruleOutcome: RequestRuleOutcome?
    private var backend: BackendRuntime? { self.route?.backend }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.recorder.sessionOpened(remote: context.channel.remoteAddress)
        if let remote = context.channel.remoteAddress {
            self.clientAddressBytes = remote.addressBytes
            self.clientAddressText = remote.ipAddress ?? "unknown"
            if let bytes = self.clientAddressBytes {
                self.clientKey = BalancerCore.ClientAddress(bytes: bytes)
            }
        }
        self.environment.pool.register(self)
        if self.environment.pool.isDraining { self.draining = true }
        if !self.isTCP { self.armHeadTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        if self.isTCP {
            // Reads wait (`shouldHoldReads`) until the server connection is there.
            self.phase = .connecting
            self.requestComplete = true
            self.recorder.tcpSessionStarted()
            self.route = self.frontend.route(for: RequestSubject(head: nil, sourceAddress: self.clientAddressBytes))
            guard self.backend != nil else {
                // No backend for this connection: closed without a byte, as HAProxy does in mode tcp.
                context.close(promise: nil)
                return
            }
            self.dispatch()
        }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.phase = .closing
        self.cancelTimers()
        self.abandonServer()
        self.environment.pool.unregister(self)
        if self.tunneled || self.isTCP {
            // HAProxy logs a tunnel (and a tcp session) once, when it ends, with every byte relayed.
            self.tunneled = false
            self.recorder.tunnelClosed(termination: self.tunnelTermination)
        }
        self.recorder.sessionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inReadBatch = true
        let part = self.unwrapInboundIn(data)
        // Recorded on arrival, also when pipelined behind an exchange that is still running.
        if case .head(let head) = part { self.recorder.requestReceived(head) }
        self.handle(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // One flush per read batch: a GET's head and end go out in one syscall.
        self.inReadBatch = false
        self.server?.flush()
        if self.phase != .idle, !self.requestComplete, let timeout = self.frontend.clientTimeout {
            // `timeout client` while the request body is still coming in.
            self.lastClientActivity = .now()
            self.ensureWatchdog(at: self.lastClientActivity + timeout)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Only a tunnel allows half-closure: the client's FIN arrives here instead of closing the channel.
        if let event = event as? ChannelEvent, event == .inputClosed {
            if self.phase == .tunnel {
                self.clientInputClosed()
            } else if self.isTCP, self.phase == .connecting {
                self.clientFinishedBeforeTunnel = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            if self.phase == .tunnel { self.tunnelTermination = TerminationState(cause: "C", phase: "D") }
            self.closeNow()
            return
        }
        switch parserError {
        case .headerOverflow:
            // HAProxy 2.6 answers 400 for a head larger than tune.bufsize; 431 is the precise code.
            self.respondError(.headerFieldsTooLarge)
        default:
            if self.phase == .exchanging, self.responseHeadSent {
                self.closeNow()
            } else {
                self.respondError(.badRequest)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.server?.resumeReads()
        } else {
            self.server?.pauseReads()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if self.shouldHoldReads {
            self.readPending = true
        } else {
            context.read()
        }
    }

    private var shouldHoldReads: Bool {
        switch self.phase {
        case .idle: return false
        case .closing: return false  // input is read and dropped until the lingering close
        case .answeringLocally: return false  // the (small) body is collected, later requests dropped
        case .answeringByRule: return false  // the body is dropped as it comes
        case .connecting:
            if self.isTCP { return true }
            return self.requestComplete ? !self.deferred.isEmpty || self.upgrade.stopsDecoder : true
        case .exchanging:
            // Once the request is complete, reading on only stops when a pipelined request is already
            // waiting (bounded buffering); stopping on every request would cost two epoll_ctl calls each.
            // Behind an upgrade request the decoder no longer parses: what follows waits for the answer.
            if self.requestComplete { return !self.deferred.isEmpty || self.upgrade.stopsDecoder }
            return !(self.server?.isWritable ?? false)
        case .tunnel:
            return !(self.server?.isWritable ?? true)
        }
    }

    private func resumeReadsIfPossible() {
        guard self.readPending, !self.shouldHoldReads, let context = self.context else { return }
        self.readPending = false
        context.read()
    }

    // MARK: - Requests

    private func handle(_ part: HTTPServerRequestPart) {
        switch self.phase {
        case .closing, .tunnel:
            return
        case .answeringLocally:
            // A local answer closes the connection: requests pipelined behind it are ignored.
            if !self.requestComplete { self.collectLocal(part) }
            return
        case .answeringByRule:
            if case .end = part {
                self.requestComplete = true
                self.answerByRule()
            }
            return
        case .connecting, .exchanging:
            if self.requestComplete {
                self.deferred.append(part)
                return
            }
        case .idle:
            break
        }
        switch part {
        case .head(let head):
            guard self.phase == .idle else {
                self.respondError(.badRequest)
                return
            }
            self.startRequest(head)
        case .body:
            guard self.phase != .idle else { return }
            self.forward(part)
        case .end:
            guard self.phase != .idle else { return }
            self.requestComplete = true
            self.forward(part)
        }
    }

    /// A body part or the end of the request, to the server, or kept until there is one.
    private func forward(_ part: HTTPServerRequestPart) {
        guard self.phase == .exchanging, let server = self.server else {
            self.pendingParts.append(part)
            return
        }
        self.send(part, to: server)
        if case .end = part, !self.inReadBatch { server.flush() }
    }

    private func send(_ part: HTTPServerRequestPart, to server: ServerConnection) {
        switch part {
        case .head: break
        case .body(let buffer):
            self.bodyStreamed = true
            server.sendBody(buffer)
        case .end(let trailers):
            server.sendEnd(trailers)
        }
    }

    private func startRequest(_ received: HTTPRequestHead) {
        var head = received
        self.headDeadline = nil
        self.exchangeID &+= 1
        self.recorder.meter.bytesSinceRequestStart = 0
        self.isFirstRequest = false
        self.method = head.method
        self.clientVersion = head.version
        // Until a backend is chosen (a request refused before that), the frontend's own options decide.
        self.route = nil
        self.clientKeepAlive = head.isKeepAlive && !self.draining && self.frontend.keepsClientAlive
        self.requestComplete = false
        self.pendingParts.removeAll(keepingCapacity: true)
        self.bodyStreamed = false
        self.failedServer = nil
        self.retriesDone = 0
        self.responseHeadSent = false
        self.responseKeepAlive = true
        self.closeAfterResponse = false
        self.upgrade = HTTPMessageRules.UpgradeRequest()
        self.phase = .connecting
        self.lastClientActivity = .now()

        // The same rules for what Portico answers itself (stats page, Prometheus) as for what it forwards.
        let framing: HTTPMessageRules.RequestFraming
        do {
            framing = try HTTPMessageRules.requestFraming(head)
        } catch {
            self.environment.logger.debug(
                "rejected request",
                metadata: ["lb.frontend": "\(self.frontend.name)", "lb.reason": "\(error)"]
            )
            self.respondError(.badRequest)
            return
        }
        // The frontend's `http-request` rules come first: they may answer (even for the stats page) or change the
        // head that routing and the server see.
        if !self.frontend.requestRules.isEmpty {
            let outcome = RequestRules.apply(self.frontend.requestRules, to: &head, source: self.clientAddressBytes)
            guard outcome == .proceed else {
                self.answerByRule(outcome, backendRoute: nil)
                return
            }
        }

        if let service = self.environment.localService, let target = service.target(for: head.uri) {
            self.localTarget = target
            self.localHead = head
            self.localBody.removeAll()
            self.phase = .answeringLocally
            return
        }
        // CONNECT would turn the exchange into a tunnel, which Portico does not support (like `Upgrade`).
        guard head.version.major == 1, head.method != .CONNECT else {
            self.respondError(.badRequest)
            return
        }

        switch framing {
        case .none: self.requestHasBody = false
        case .contentLength(let length): self.requestHasBody = length > 0
        case .chunked: self.requestHasBody = true
        }
        self.upgrade = HTTPMessageRules.upgradeRequest(head, framing: framing)
        if self.upgrade.lacksWebSocketKey || self.upgrade.ambiguous {
            // As HAProxy 2.6: a WebSocket handshake without its key is not a valid request.
            self.respondError(.badRequest)
            return
        }
        self.route = self.frontend.route(for: RequestSubject(head: head, sourceAddress: self.clientAddressBytes))
        if let route = self.route, !route.keepsClientAlive { self.clientKeepAlive = false }
        // Then the chosen backend's own rules.
        if let route = self.route, !route.requestRules.isEmpty {
            let outcome = RequestRules.apply(route.requestRules, to: &head, source: self.clientAddressBytes)
            guard outcome == .proceed else {
                self.answerByRule(outcome, backendRoute: route.index)
                return
            }
        }
        self.requestHead = head
        self.upstreamChunked = framing == .chunked
        self.upstreamHead = ServerRequestWriter.head(
            head, framing: framing, forwardedFor: self.forwardedFor(head.headers),
            offersUpgrade: self.upgrade.offered,
            allocator: self.context?.channel.allocator ?? ByteBufferAllocator())

        guard self.backend != nil else {
            self.respondError(.serviceUnavailable)
            return
        }
        self.dispatch()
    }

    /// An `http-request` rule answers this request (`deny`, `redirect`): what it said is kept until the request's
    /// end has been read (its body is dropped), then `answerByRule()` sends it.
    /// - Parameter backendRoute: the route whose backend's rule it was; nil for the frontend's.
    private func answerByRule(_ outcome: RequestRuleOutcome, backendRoute: Int?) {
        self.ruleOutcome = outcome
        // A backend's rule: the log names that backend (`fe be/<NOSRV>`), as HAProxy's does.
        if let backendRoute { self.recorder.backendChosen(route: backendRoute) }
        if case .deny = outcome { self.recorder.requestDenied(route: backendRoute) }
        self.phase = .answeringByRule
    }

    /// Sends the rule's answer as HAProxy does: a deny's page (or its `errorfile`) or a redirect, on a connection
    /// that stays open for the next request unless the client or the configuration closes it.
    private func answerByRule() {
        guard let context = self.context, let outcome = self.ruleOutcome else { return }
        self.ruleOutcome = nil
        var code = 200
        var body: String?
        switch outcome {
        case .proceed:
            return
        case .deny(let status):
            code = status
            self.recorder.answeredByRule(TerminationState("PR"))
            if let file = self.errorFile(for: status) {
                // The operator's page carries its own framing: the connection closes after it.
                self.cancelTimers()
                self.phase = .closing
                self.sendAndClose(context, errorFile: file)
                return
            }
            body = BuiltInPage.body(status)
        case .redirect(let status, _):
            code = status
            self.recorder.answeredByRule(TerminationState("LR"))
        }
        if !self.clientKeepAlive || self.draining { self.closeAfterResponse = true }
        let head = RequestRules.answerHead(
            outcome, bodyLength: body?.utf8.count ?? 0, closing: self.closeAfterResponse)
        self.recorder.responseStarted(status: code)
        self.output.head(head, chunked: false)
        if let body, self.method != .HEAD { self.writeBody(context, context.channel.allocator.buffer(string: body)) }
        if self.closeAfterResponse {
            let promise = context.eventLoop.makePromise(of: Void.self)
            self.emitOutput(context, promise: promise)
            self.lastWrite = promise.futureResult.assumeIsolated()
        } else {
            self.emitOutput(context)
        }
        context.flush()
        self.recorder.responseEnded()
        self.finishExchange()
    }

    /// `option forwardfor`: a new header line with the client address is added after any existing one;
    /// an existing value is never replaced (HAProxy's behaviour).
    private func forwardedFor(_ headers: HTTPHeaders) -> (name: String, value: String)? {
        guard let forwardFor = self.route?.forwardFor ?? self.frontend.config.forwardFor else { return nil }
        if let except = forwardFor.except, let bytes = self.clientAddressBytes, except.contains(bytes) { return nil }
        if forwardFor.ifNone, headers.contains(name: forwardFor.header) { return nil }
        return (forwardFor.header, self.clientAddressText)
    }

    // MARK: - Answering locally (statistics page, Prometheus)

    private func collectLocal(_ part: HTTPServerRequestPart) {
        switch part {
        case .head:
            return
        case .body(var buffer):
            // The admin form is small; a larger body is cut, which only makes the form invalid.
            if self.localBody.count < 65536, let bytes = buffer.readBytes(length: buffer.readableBytes) {
                self.localBody += bytes
            }
        case .end:
            self.requestComplete = true
            self.answerLocally()
        }
    }

    /// Answers the collected local request and closes the connection, as HAProxy's stats applet does.
    private func answerLocally() {
        guard let context = self.context, let service = self.environment.localService,
            let target = self.localTarget, let head = self.localHead
        else { return }
        self.cancelTimers()
        self.phase = .closing
        self.recorder.servedLocally(target.serviceName)
        let answer = service.answer(target, request: head, body: self.localBody, clientIP: self.clientAddressText)
        self.localBody = []
        self.recorder.responseStarted(status: Int(answer.head.status.code))
        self.sendAndClose(context, answer.head, body: head.method == .HEAD ? nil : answer.body)
    }

    // MARK: - Choosing and connecting to a server

    private func dispatch() {
        guard let route = self.route, self.phase == .connecting else { return }
        let backend = route.backend
        self.recorder.backendChosen(route: route.index)
        switch backend.selector.pick(PickRequest(client: self.clientKey, avoiding: self.failedServer)) {
        case .noServer:
            self.respondError(.serviceUnavailable)
        case .queue:
            self.waitInQueue(backend)
        case .server(let index):
            self.slot = index
            let server = backend.servers[index]
            if let connection = self.pooledConnection(to: server) {
                self.attach(connection)
            } else {
                self.connect(to: server, backend: backend)
            }
        }
    }

    /// An idle pooled connection to `server` for this request, if one may be used.
    private func pooledConnection(to server: ServerRuntime) -> ServerConnection? {
        // Like HAProxy's `http-reuse safe`: a request that must not be replayed never goes on an idle
        // connection, which the server may be closing at this very moment. tcp sessions never share one.
        guard !self.isTCP, self.isIdempotent else { return nil }
        return self.environment.pool.take(server)
    }

    private func waitInQueue(_ backend: BackendRuntime) {
        guard let context = self.context else { return }
        let loop = context.eventLoop
        let exchange = self.exchangeID
        let wake: @Sendable () -> Void = { [weak self] in
            // Runs on `loop` (BackendQueue.wakeOne executes it there).
            loop.assumeIsolated().execute {
                guard let self, self.exchangeID == exchange, self.phase == .connecting else {
                    backend.queue.wakeOne()
                    return
                }
                self.queueTimer?.cancel()
                self.queueTimer = nil
                self.queueTicket = nil
                self.recorder.dequeued()
                self.dispatch()
            }
        }
        self.queueTicket = backend.queue.enqueue(eventLoop: loop, wake: wake)
        self.recorder.queued()
        if let timeout = backend.queueTimeout {
            self.queueTimer = loop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                guard self.exchangeID == exchange, let ticket = self.queueTicket else { return }
                self.queueTicket = nil
                if backend.queue.remove(ticket) {
                    self.respondError(.serviceUnavailable)
                }
            }
        }
    }

    private func connect(to server: ServerRuntime, backend: BackendRuntime) {
        guard let context = self.context else { return }
        let loop = context.eventLoop
        let exchange = self.exchangeID
        let isTCP = self.isTCP
        let bufferSize = self.environment.requestBufferSize
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // tcp: the server's FIN is relayed as a FIN to the client (see `serverInputClosed`).
            .channelOption(.allowRemoteHalfClosure, value: isTCP)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if isTCP {
                        let connection = ServerConnection(rawServer: server)
                        try sync.addHandler(TunnelReader(end: connection))
                        try sync.addHandler(connection)
                        return
                    }
                    let (decoder, decoding) = ServerConnection.responseDecoder(bufferSize: bufferSize)
                    try sync.addHandler(decoding)
                    try sync.addHandler(ServerConnection(server: server, decoder: decoder))
                }
            }
        if let timeout = backend.connectTimeout {
            bootstrap = bootstrap.connectTimeout(timeout)
        }
        bootstrap.connect(to: server.address).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard let connection = try? channel.pipeline.syncOperations.handler(type: ServerConnection.self)
                else {
                    channel.close(promise: nil)
                    return
                }
                guard self.exchangeID == exchange, self.phase == .connecting else {
                    // The client went away or timed out meanwhile: keep the connection for someone else.
                    if isTCP { connection.close() } else { self.environment.pool.giveBack(connection) }
                    return
                }
                self.attach(connection)
            case .failure(let error):
                guard self.exchangeID == exchange, self.phase == .connecting else { return }
                self.connectFailed(server: server, backend: backend, error: error)
            }
        }
    }

    private func connectFailed(server: ServerRuntime, backend: BackendRuntime, error: Error) {
        self.recorder.connectFailed(server: server.index)
        self.environment.logger.debug(
            "connect failed",
            metadata: ["lb.backend": "\(backend.name)", "lb.server": "\(server.name)", "lb.error": "\(error)"]
        )
        let timedOut: Bool
        if case .connectTimeout = error as? ChannelError { timedOut = true } else { timedOut = false }
        self.attemptFailed(.connectFailed(timedOut: timedOut), server: server)
    }

    /// An attempt failed before any response byte reached the client: BalancerCore's `RetryPolicy`
    /// decides between retrying the same server, redispatching to another one, or an error response.
    private func attemptFailed(_ failure: AttemptFailure, server: ServerRuntime) {
        guard let backend = self.backend else { return }
        let slots = backend.selector.servers
        let attempt = FailedAttempt(
            failure: failure,
            retriesDone: self.retriesDone,
            isIdempotent: HTTPMessageRules.isIdempotent(self.method),
            isReplayable: !self.bodyStreamed && !self.requestHasBody,
            serverUsable: slots.indices.contains(server.index) ? slots[server.index].isUsable : false,
            usableActiveServers: slots.filter { !$0.isBackup && $0.isUsable }.count
        )
        switch backend.retryPolicy.decide(attempt) {
        case .retrySameServer(let delay):
            self.retriesDone += 1
            self.phase = .connecting
            let exchange = self.exchangeID
            let retry = { [self] in
                guard self.exchangeID == exchange, self.phase == .connecting else { return }
                // The slot taken by the first pick is kept: the retry goes to the same server.
                if let connection = self.pooledConnection(to: server) {
                    self.attach(connection)
                } else {
                    self.connect(to: server, backend: backend)
                }
            }
            if delay == .zero {
                retry()
            } else if let loop = self.context?.eventLoop {
                self.retryTimer = loop.assumeIsolated().scheduleTask(in: delay.timeAmount) { retry() }
            }
        case .redispatch:
            self.retriesDone += 1
            self.releaseSlot()
            self.failedServer = server.index
            self.phase = .connecting
            self.dispatch()
        case .fail(let status, let termination):
            self.releaseSlot()
            self.recorder.failed(TerminationState(termination))
            switch status {
            case 504: self.respondError(.gatewayTimeout)
            case 503: self.respondError(.serviceUnavailable)
            default: self.respondError(.badGateway)
            }
        case .abort:
            self.closeNow()
        }
    }

    private func attach(_ connection: ServerConnection) {
        if self.isTCP {
            self.attachTunnel(connection)
            return
        }
        guard let request = self.requestHead, let head = self.upstreamHead else { return }
        self.server = connection
        connection.exchange = self
        self.recorder.serverAttached(
            server: connection.server.index, retries: self.retriesDone, redispatched: self.failedServer != nil)
        self.phase = .exchanging
        if !(self.context?.channel.isWritable ?? true) { connection.pauseReads() } else { connection.resumeReads() }
        connection.sendHead(head, of: request, chunked: self.upstreamChunked)
        for part in self.pendingParts {
            self.send(part, to: connection)
        }
        self.pendingParts.removeAll(keepingCapacity: true)
        if !self.inReadBatch { connection.flush() }
        self.lastServerActivity = .now()
        if let timeout = self.backend?.serverTimeout {
            self.watchingServer = true
            self.ensureWatchdog(at: self.lastServerActivity + timeout)
        }
        self.resumeReadsIfPossible()
    }

    // MARK: - Responses

    func serverRead(_ part: HTTPClientResponsePart, from connection: ServerConnection) {
        // In a tunnel, only the `.end` NIO's decoder sends behind the 101 comes here.
        guard connection === self.server, self.phase != .tunnel, let context = self.context else { return }
        switch part {
        case .head(let head):
            if head.status.code < 200 {
                // RFC 9110 §15.2: a proxy forwards interim responses (100 Continue, 103 Early Hints with its Link
                // fields) as HAProxy does, but to HTTP/1.1 clients only: an HTTP/1.0 client cannot take them
                // (HAProxy 2.6 sends them to 1.0 clients too).
                if head.status != .switchingProtocols, self.clientVersion.minor >= 1 {
                    let relay = ClientResponseWriter.Relay(
                        version: .http1_1, fields: HTTPMessageRules.responseFields(head.headers),
                        dropsContentLength: true)
                    self.output.relayedHead(head, relay)
                    self.emitOutput(context)
                    context.flush()
                }
                if head.status == .switchingProtocols {
                    guard self.upgrade.offered, self.requestComplete,
                        HTTPMessageRules.switchesProtocols(head.headers)
                    else {
                        // We never offered an upgrade (or the WebSocket answer is incomplete): a broken server.
                        connection.close()
                        self.respondError(.badGateway)
                        return
                    }
                    self.startTunnel(head, connection: connection, context: context)
                }
                return
            }
            self.responseKeepAlive = head.isKeepAlive
            self.recorder.responseStarted(status: Int(head.status.code))
            guard let rules = self.route?.responseRules, !rules.isEmpty else {
                self.output.relayedHead(head, self.relay(for: head))
                self.responseHeadSent = true
                return
            }
            var head = head
            let subject = RequestSubject(head: self.requestHead, sourceAddress: self.clientAddressBytes)
            RequestRules.apply(rules, to: &head, subject: subject)
            self.output.relayedHead(head, self.relay(for: head))
            self.responseHeadSent = true
        case .body(let buffer):
            self.writeBody(context, buffer)
        case .end(let trailers):
            self.output.end(trailers)
            if self.closeAfterResponse || !self.requestComplete || self.draining {
                // The connection closes after this response: know when it is out.
                let promise = context.eventLoop.makePromise(of: Void.self)
                self.emitOutput(context, promise: promise)
                self.lastWrite = promise.futureResult.assumeIsolated()
            } else {
                self.emitOutput(context)
            }
            self.recorder.responseEnded()
            // Flushed by the server connection's channelReadComplete (`flushResponse`), once per batch.
            self.finishExchange()
        }
    }

    /// A piece of the response body: copied behind what is pending when small, else written as it is.
    private func writeBody(_ context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        guard let large = self.output.body(buffer) else { return }
        self.emitOutput(context)
        self.recorder.meter.countWritten(large.readableBytes)
        context.write(self.wrapOutboundOut(.byteBuffer(large)), promise: nil)
        self.output.bodyWrittenSeparately()
    }

    /// Hands the response bytes gathered so far to the channel, counted for the logs and `bout`. With a
    /// promise, an empty write still goes out so the promise tells when everything before it is sent.
    private func emitOutput(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        guard self.output.hasPending || promise != nil else { return }
        let bytes = self.output.take()
        self.recorder.meter.countWritten(bytes.readableBytes)
        context.write(self.wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
    }

    /// End of a batch of reads from a server connection that served this client (it may already be
    /// back in the pool): flush what was written to the client and note the server's activity.
    func flushResponse() {
        if self.watchingServer { self.lastServerActivity = .now() }
        guard let context = self.context else { return }
        self.emitOutput(context)
        context.flush()
    }

    func serverBecameWritable(_ connection: ServerConnection) {
        guard connection === self.server else { return }
        self.resumeReadsIfPossible()
    }

    /// Decides how the server's response head reaches the client: hop-by-hop fields removed, the body
    /// framed for the client's HTTP version (chunked for 1.1, close-delimited for 1.0), keep-alive decided.
    private func relay(for head: HTTPResponseHead) -> ClientResponseWriter.Relay {
        let fields = HTTPMessageRules.responseFields(head.headers)
        var relay = ClientResponseWriter.Relay(
            version: self.clientVersion.minor == 0 ? .http1_0 : .http1_1, fields: fields, dropsContentLength: false)
        let bodyless = self.method == .HEAD || head.status.code == 204 || head.status.code == 304
        if head.status.code == 204 {
            // RFC 9110 §8.6: a 204 carries no Content-Length; a server's (wrong) one stays out, as HAProxy drops it.
            relay.dropsContentLength = fields.contentLength != nil
        } else if bodyless || (fields.contentLength != nil && !fields.chunked) {
            // The server's Content-Length stays as it is (for HEAD and 304 it describes the GET's body).
        } else if self.clientVersion.minor >= 1 {
            relay.dropsContentLength = true
            relay.chunked = true
        } else {
            // HTTP/1.0 has no chunked coding: the end of the body is the end of the connection.
            relay.dropsContentLength = true
            self.closeAfterResponse = true
        }
        // A response that ends before its request (an early error) still closes: `finishExchange` sees it.
        if !self.clientKeepAlive || self.draining {
            self.closeAfterResponse = true
        }
        if self.closeAfterResponse {
            relay.connection = "close"
        } else if self.clientVersion.minor == 0 {
            relay.connection = "keep-alive"
        }
        return relay
    }

    /// The response was relayed completely.
    private func finishExchange() {
        self.watchingServer = false
        if let connection = self.server {
            connection.exchange = nil
            connection.exchangesServed += 1
            self.server = nil
            if self.requestComplete, self.responseKeepAlive, !self.environment.pool.isDraining,
                self.route?.reusesServerConnections ?? false
            {
                self.environment.pool.giveBack(connection)
            } else {
                // A closed server connection delivers no channelReadComplete: flush the client here.
                connection.close()
                self.context?.flush()
            }
        }
        self.releaseSlot()
        if self.closeAfterResponse || !self.requestComplete || self.draining {
            self.context?.flush()
            self.phase = .closing
            self.closeAfterFlush()
            return
        }
        self.phase = .idle
        self.requestComplete = false
        self.requestHead = nil
        self.upstreamHead = nil
        if self.upgrade.stopsDecoder {
            self.upgrade = HTTPMessageRules.UpgradeRequest()
            self.restartRequestDecoder()
        }
        self.armHeadTimer()
        if !self.deferred.isEmpty {
            let parts = self.deferred
            self.deferred.removeAll()
            for part in parts { self.handle(part) }
        }
        self.resumeReadsIfPossible()
    }

    /// The server connection closed or failed before the response was complete.
    func serverClosed(_ connection: ServerConnection, error: Error?) {
        guard connection === self.server else { return }
        connection.exchange = nil
        self.server = nil
        self.watchingServer = false
        connection.close()
        if self.phase == .tunnel {
            self.tunnelServerClosed(error: error)
            return
        }
        if self.responseHeadSent {
            // Part of the response is already with the client: all we can do is cut it short. The log blames
            // the server (`SD--`, as HAProxy), not the client whose connection closes as a result.
            self.recorder.failed(TerminationState("SD"))
            self.releaseSlot()
            self.closeNow()
            return
        }
        let failure: AttemptFailure =
            error is HTTPParserError ? .invalidResponse : .closedBeforeResponse(requestSent: true)
        self.environment.logger.debug(
            "server connection closed before a response",
            metadata: ["lb.server": "\(connection.server.name)", "lb.failure": "\(failure)"]
        )
        self.attemptFailed(failure, server: connection.server)
    }

    // MARK: - Upgrades and tunnels

    /// The server accepted the upgrade: its 101 head goes to the client (with its Upgrade and Connection
    /// fields), then both connections carry raw bytes. On each side a `TunnelReader` replaces the HTTP
    /// decoder; the bytes a decoder already read past the request or the 101 are handed to it on removal,
    /// so what a client sent right behind its request head is not lost.
    private func startTunnel(
        _ head: HTTPResponseHead, connection: ServerConnection, context: ChannelHandlerContext
    ) {
        self.phase = .tunnel
        self.tunneled = true
        self.watchingServer = false
        self.responseHeadSent = true
        self.recorder.responseStarted(status: Int(head.status.code))
        let relay = ClientResponseWriter.Relay(
            version: .http1_1, fields: HTTPMessageRules.responseFields(head.headers), dropsContentLength: true,
            keepsUpgrade: true)
        self.output.relayedHead(head, relay)
        self.emitOutput(context)
        context.flush()
        do {
            try connection.startTunnel()
            // The client's FIN is relayed as a FIN to the server, not as a close (see `clientInputClosed`).
            let gate = try TunnelSwitch.armGate(context)
            try TunnelSwitch.replaceDecoder(HTTPRequestDecoder.self, context: context, end: self, gate: gate)
        } catch {
            self.tunnelTermination = TerminationState(cause: "P", phase: "D")
            self.closeNow()
            return
        }
        self.armTunnelTimer()
        self.resumeReadsIfPossible()
    }

    /// mode tcp: the server connection is up, the relay starts (nothing was read from the client yet).
    private func attachTunnel(_ connection: ServerConnection) {
        self.server = connection
        connection.exchange = self
        self.recorder.serverAttached(
            server: connection.server.index, retries: self.retriesDone, redispatched: self.failedServer != nil)
        self.phase = .tunnel
        self.tunneled = true
        if !(self.context?.channel.isWritable ?? true) { connection.pauseReads() } else { connection.resumeReads() }
        self.armTunnelTimer()
        if self.clientFinishedBeforeTunnel { self.clientInputClosed() }
        self.resumeReadsIfPossible()
    }

    /// One direction of the tunnel is shut (a FIN came and was passed on): both connections are half-closed
    /// now, and `timeout client-fin` / `timeout server-fin` take over from the tunnel's timeout on their side,
    /// as in HAProxy (the usual `timeout tunnel 1h` + `timeout client-fin 30s`: a half-gone peer does not hold
    /// the tunnel for an hour). One idle timer serves both sides: the shorter side's timeout closes it.
    private func tunnelHalfClosed() {
        guard !self.clientFinished, !self.serverFinished else { return }
        self.armTunnelIdleTimer(
            clientSide: self.frontend.config.timeouts.clientFin?.timeAmount ?? self.tunnelSideTimeouts.client,
            serverSide: self.backend?.config.timeouts.serverFin?.timeAmount ?? self.tunnelSideTimeouts.server)
    }

    /// `timeout tunnel`, else HAProxy's fallback: the client and server inactivity timeouts still run, so
    /// the shorter of them closes an idle tunnel (`cD` or `sD` in the log).
    private func armTunnelTimer() {
        if let tunnel = self.backend?.config.timeouts.tunnel?.timeAmount {
            self.armTunnelIdleTimer(clientSide: tunnel, serverSide: nil)
        } else {
            self.armTunnelIdleTimer(clientSide: self.frontend.clientTimeout, serverSide: self.backend?.serverTimeout)
        }
    }

    /// The tunnel's one idle timer, from now: the shorter of the two sides' timeouts closes it, logged with
    /// that side's letter (`cD`, `sD`); none set, none runs.
    private func armTunnelIdleTimer(clientSide: TimeAmount?, serverSide: TimeAmount?) {
        self.tunnelSideTimeouts = (clientSide, serverSide)
        if let server = serverSide, clientSide.map({ server < $0 }) ?? true {
            self.tunnelTimeout = server
            self.tunnelTimeoutTermination = TerminationState(cause: "s", phase: "D")
        } else {
            self.tunnelTimeout = clientSide
            self.tunnelTimeoutTermination = TerminationState(cause: "c", phase: "D")
        }
        self.tunnelLastActivity = .now()
        if let timeout = self.tunnelTimeout {
            self.ensureWatchdog(at: self.tunnelLastActivity + timeout)
        }
    }

    /// Bytes from the client, through the tunnel to the server.
    func tunnelRead(_ buffer: ByteBuffer) {
        guard self.phase == .tunnel, let server = self.server else { return }
        self.tunnelLastActivity = .now()
        // Flushed at once: bytes forwarded by the removed decoder come without a read-complete event.
        server.sendTunnelBytes(buffer)
    }

    /// Bytes from the server, through the tunnel to the client.
    func serverTunnelRead(_ buffer: ByteBuffer, from connection: ServerConnection) {
        guard connection === self.server, self.phase == .tunnel, let context = self.context else { return }
        self.tunnelLastActivity = .now()
        self.recorder.meter.countWritten(buffer.readableBytes)
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
    }

    /// The client sent its FIN. As HAProxy does, the shutdown is passed on (the server gets a FIN once the
    /// bytes before it are out) and the other direction stays open: what the server still sends reaches
    /// the client. When both sides have finished, both connections close.
    private func clientInputClosed() {
        self.tunnelHalfClosed()
        self.clientFinished = true
        if self.serverFinished {
            self.afterClientWrites { [self] in self.closeNow() }
            return
        }
        self.server?.closeOutput()
    }

    /// The server sent its FIN: passed on to the client the same way (see `clientInputClosed`).
    func serverInputClosed(_ connection: ServerConnection) {
        guard connection === self.server, self.phase == .tunnel else { return }
        self.tunnelHalfClosed()
        self.serverFinished = true
        self.afterClientWrites { [self] in
            if self.clientFinished {
                self.closeNow()
            } else {
                self.context?.close(mode: .output, promise: nil)
            }
        }
    }

    /// The server connection went away (reset, error): what it sent still reaches the client, then the
    /// client connection closes.
    private func tunnelServerClosed(error: Error?) {
        if error != nil, self.tunnelTermination == .normal {
            self.tunnelTermination = TerminationState(cause: "S", phase: "D")
        }
        self.releaseSlot()
        // The tunnel's idle timeout still bounds this, should the client stop reading.
        self.afterClientWrites { [self] in self.closeNow() }
    }

    /// Runs `body` once everything written to the client so far is handed to the socket (or failed).
    private func afterClientWrites(_ body: @escaping () -> Void) {
        guard let context = self.context else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(
            self.wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in body() }
    }

    /// NIO's request decoder stops parsing after a request that asked for an upgrade (see
    /// `HTTPMessageRules.UpgradeRequest`). When no tunnel followed, a new decoder takes its place; the bytes
    /// the old one kept (a request sent behind) go to the new one as the old one is removed.
    private func restartRequestDecoder() {
        guard let context = self.context else { return }
        let sync = context.pipeline.syncOperations
        do {
            let old = try sync.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try sync.addHandler(
                Self.requestDecoder(bufferSize: self.environment.requestBufferSize), position: .before(self))
            let removed = context.eventLoop.makePromise(of: Void.self)
            sync.removeHandler(old, promise: removed)
            // Requests parsed from the handed-on bytes came without a read-complete event, which is where
            // what they wrote to a server is flushed.
            removed.futureResult.assumeIsolated().whenComplete { [self] _ in
                self.inReadBatch = false
                self.server?.flush()
            }
        } catch {
            self.closeNow()
        }
    }

    // MARK: - Timers

    private func armHeadTimer() {
        let timeout = self.isFirstRequest ? self.frontend.httpRequestTimeout : self.frontend.keepAliveTimeout
        guard let timeout else { return }
        let deadline = NIODeadline.now() + timeout
        self.headDeadline = deadline
        self.headDeadlineIsFirstRequest = self.isFirstRequest
        self.ensureWatchdog(at: deadline)
    }

    /// Makes sure the watchdog fires no later than `deadline`; an earlier wake-up re-evaluates anyway.
    private func ensureWatchdog(at deadline: NIODeadline) {
        if let scheduled = self.watchdogAt, scheduled <= deadline { return }
        guard let context = self.context else { return }
        self.watchdog?.cancel()
        self.watchdogAt = deadline
        self.watchdog = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.watchdogFired()
        }
    }

    private func watchdogFired() {
        self.watchdog = nil
        self.watchdogAt = nil
        let now = NIODeadline.now()
        switch self.phase {
        case .idle:
            guard let deadline = self.headDeadline else { return }
            guard deadline <= now else {
                self.ensureWatchdog(at: deadline)
                return
            }
            self.headDeadline = nil
            if self.headDeadlineIsFirstRequest || self.recorder.meter.bytesSinceRequestStart > 0 {
                self.respondError(.requestTimeout)
            } else {
                // An idle keep-alive connection is closed silently, as HAProxy does.
                self.closeNow()
            }
        case .exchanging, .connecting, .answeringLocally, .answeringByRule:
            if !self.requestComplete, let timeout = self.frontend.clientTimeout {
                let deadline = self.lastClientActivity + timeout
                if deadline <= now {
                    // The client stopped sending its body: 408 unless the response already started.
                    self.respondError(.requestTimeout)
                    return
                }
                self.ensureWatchdog(at: deadline)
            }
            guard self.phase == .exchanging, self.watchingServer, let timeout = self.backend?.serverTimeout else {
                return
            }
            let deadline = self.lastServerActivity + timeout
            guard deadline <= now else {
                self.ensureWatchdog(at: deadline)
                return
            }
            self.watchingServer = false
            if let connection = self.server {
                connection.exchange = nil
                connection.close()
                self.server = nil
            }
            self.releaseSlot()
            if self.responseHeadSent {
                self.recorder.failed(TerminationState("sD"))
                self.closeNow()
            } else {
                self.recorder.failed(TerminationState("sH"))
                self.respondError(.gatewayTimeout)
            }
        case .tunnel:
            guard let timeout = self.tunnelTimeout else { return }
            let deadline = self.tunnelLastActivity + timeout
            guard deadline <= now else {
                self.ensureWatchdog(at: deadline)
                return
            }
            self.tunnelTermination = self.tunnelTimeoutTermination
            self.closeNow()
        case .closing:
            return
        }
    }

    private func cancelTimers() {
        self.watchdog?.cancel()
        self.watchdog = nil
        self.watchdogAt = nil
        self.headDeadline = nil
        self.watchingServer = false
        self.queueTimer?.cancel()
        self.queueTimer = nil
        self.retryTimer?.cancel()
        self.retryTimer = nil
        if let ticket = self.queueTicket {
            self.queueTicket = nil
            self.backend?.queue.remove(ticket)
        }
    }

    // MARK: - Ending

    private func releaseSlot() {
        if let slot = self.slot, let backend = self.backend {
            self.slot = nil
            backend.release(slot)
        }
    }

    /// Drops the server side of an unfinished exchange (client gone, error).
    private func abandonServer() {
        if let connection = self.server {
            self.server = nil
            connection.exchange = nil
            connection.close()
        }
        self.releaseSlot()
    }

    /// Sends one of HAProxy's error responses and closes the connection.
    func respondError(_ error: HAProxyErrorResponse) {
        guard let context = self.context, self.phase != .closing else { return }
        if self.isTCP {
            // No HTTP to answer with: the client connection closes; the log says why, as HAProxy's tcplog does.
            switch error {
            case .gatewayTimeout: self.tunnelTermination = TerminationState("sC")
            case .serviceUnavailable where self.queueTicket != nil || self.queueTimer != nil:
                self.tunnelTermination = TerminationState("sQ")
            default: self.tunnelTermination = TerminationState("SC")
            }
            self.closeNow()
            return
        }
        self.cancelTimers()
        self.abandonServer()
        if self.phase == .exchanging, self.responseHeadSent {
            self.closeNow()
            return
        }
        self.phase = .closing
        if let file = self.errorFile(for: Int(error.status.code)) {
            self.sendAndClose(context, errorFile: file)
            return
        }
        let head = error.head(version: self.clientVersion)
        self.recorder.responseStarted(status: Int(head.status.code))
        self.sendAndClose(context, head, body: self.method == .HEAD ? nil : error.body)
    }

    /// The `errorfile` for an error Portico answers with `code`: the backend's for what happens once a backend
    /// has the request (502, 503, 504), else the frontend's, as HAProxy looks at the stream's backend first
    /// (the frontend itself until a backend is chosen). Nil: the built-in page.
    private func errorFile(for code: Int) -> ErrorFile? {
        if code >= 502, let file = self.backend?.config.errorFiles[code], file.response != nil { return file }
        guard let file = self.frontend.config.errorFiles[code], file.response != nil else { return nil }
        return file
    }

    /// Writes a complete response Portico makes itself (an error, a local answer), then closes.
    private func sendAndClose(_ context: ChannelHandlerContext, _ head: HTTPResponseHead, body: String?) {
        self.output.head(head, chunked: false)
        if let body { self.writeBody(context, context.channel.allocator.buffer(string: body)) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.emitOutput(context, promise: promise)
        self.closeAfterWriting(context, promise)
    }

    /// The operator's `errorfile` page, byte for byte as the file has it (a HEAD gets its head only), then closes.
    private func sendAndClose(_ context: ChannelHandlerContext, errorFile file: ErrorFile) {
        guard let response = file.response else { return }
        self.recorder.responseStarted(status: file.responseStatus)
        let length = self.method == .HEAD ? file.headLength : response.count
        var bytes = context.channel.allocator.buffer(capacity: length)
        bytes.writeBytes(response[0..<length])
        self.sendAndClose(context, raw: bytes)
    }

    /// Writes a complete response as ready-made bytes (an `errorfile`), then closes.
    private func sendAndClose(_ context: ChannelHandlerContext, raw bytes: ByteBuffer) {
        // Anything written before it (an interim response) goes first.
        self.emitOutput(context)
        self.recorder.meter.countWritten(bytes.readableBytes)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(self.wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        self.closeAfterWriting(context, promise)
    }

    /// The response is complete once `written` succeeds: flushed, logged, then the connection closes.
    private func closeAfterWriting(_ context: ChannelHandlerContext, _ written: EventLoopPromise<Void>) {
        self.recorder.responseEnded()
        context.flush()
        self.lastWrite = written.futureResult.assumeIsolated()
        self.closeAfterFlush()
    }

    /// Closes once the response written so far is out: first our sending side, so the client reads the
    /// whole response and its EOF, then the whole socket a little later (a lingering close, as HAProxy
    /// does, so unread request bytes do not turn into a reset that destroys the response).
    private func closeAfterFlush() {
        guard let context = self.context else { return }
        let channel = context.channel
        let loop = context.eventLoop.assumeIsolated()
        let written = self.lastWrite ?? loop.makeSucceededFuture(()).assumeIsolated()
        written.whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            loop.scheduleTask(in: .seconds(1)) {
                channel.close(promise: nil)
            }
        }
        // A client that stops reading never lets the last write complete: `timeout client` bounds that.
        let bound = loop.scheduleTask(in: self.frontend.clientTimeout ?? .seconds(30)) {
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in bound.cancel() }
    }

    /// Closes at once (client timeout, truncated response, end of the grace period).
    func closeNow() {
        self.phase = .closing
        self.cancelTimers()
        self.abandonServer()
        self.context?.close(promise: nil)
    }

    /// Graceful stop: an idle connection closes now; a busy one after its current response.
    func drain() {
        self.draining = true
        // A connection that has not sent its first request yet may have it in flight (it was accepted just
        // before the stop or reload): it gets its answer, with `Connection: close`, rather than a reset.
        // Its http-request timeout and the grace period still bound how long it can stay.
        //
        // An idle kept-alive connection is not closed at once either: a busy client may be sending its next
        // request right now, and a close would cross it (a failed request for clients that do not retry).
        // It gets a short window in which that request is answered with `Connection: close`; a connection
        // still idle after it is closed, as HAProxy closes idle connections when it stops.
        guard self.phase == .idle, !self.isFirstRequest, let context = self.context else { return }
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(500)) { [self] in
            if self.phase == .idle { self.closeNow() }
        }
    }
}
