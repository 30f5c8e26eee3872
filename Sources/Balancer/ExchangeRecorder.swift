import BalancerCore
import HAProxyConfig
import NIOCore
import NIOHTTP1

/// Counts the raw bytes a client connection reads, for the frontend and the current request (`bin`,
/// httplog's timers), told by the connection's receive-buffer allocator (`MeteredReceiveAllocator`); the
/// bytes written are counted by the proxy handler, which builds them (`countWritten`). It also remembers
/// when the current request's first byte arrived (for `TR`).
///
/// `@unchecked Sendable`: NIO requires receive allocators to be Sendable, but a meter is only ever used on
/// its connection's event loop.
final class TrafficMeter: @unchecked Sendable {
    let operations: FrontendOperations
    var bytesIn = 0
    var bytesOut = 0
    /// First byte of the current request (reset by the recorder when a request ends).
    var firstByteAt: NIODeadline?
    /// `bytesIn` just before the current request's first byte.
    var bytesInAtRequestStart = 0
    /// Bytes read since the proxy handler last reset it (at each request's start), so an expiring keep-alive
    /// timer can tell an idle connection (closed silently) from a half-sent request (408), as HAProxy does.
    var bytesSinceRequestStart = 0

    init(operations: FrontendOperations) {
        self.operations = operations
    }

    /// A read of `count` bytes from the client's socket, before the bytes enter the pipeline.
    func countRead(_ count: Int) {
        if self.firstByteAt == nil, count > 0 {
            self.firstByteAt = .now()
            self.bytesInAtRequestStart = self.bytesIn
        }
        self.bytesIn += count
        self.bytesSinceRequestStart += count
        self.operations.counters.addBytes(in: count)
    }

    /// Bytes handed to the socket for the client.
    func countWritten(_ count: Int) {
        self.bytesOut += count
        self.operations.counters.addBytes(out: count)
    }
}

/// NIO's adaptive receive-buffer allocator, telling a `TrafficMeter` the size of every read: NIO records
/// each read here before the bytes enter the pipeline, so counting them costs no pipeline handler (a
/// handler at the socket end cost one hop per read and per read-complete on every request).
struct MeteredReceiveAllocator: RecvByteBufferAllocator {
    private var adaptive = AdaptiveRecvByteBufferAllocator()
    let meter: TrafficMeter

    init(meter: TrafficMeter) {
        self.meter = meter
    }

    func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        self.adaptive.buffer(allocator: allocator)
    }

    func nextBufferSize() -> Int? {
        self.adaptive.nextBufferSize()
    }

    mutating func record(actualReadBytes: Int) -> Bool {
        self.meter.countRead(actualReadBytes)
        return self.adaptive.record(actualReadBytes: actualReadBytes)
    }
}

/// The record of one client connection's requests for the operator: counts sessions, requests and
/// status classes for the frontend, backend and server, and sends one `option httplog` line per request
/// to the proxy's log targets (`option dontlognull` respected). The proxy handler (and the stats endpoint
/// for what it answers itself) call it directly at each step of an exchange: a handler of its own in the
/// pipeline cost two extra hops per request part and a dynamic cast per event on the hot path.
///
/// Timers: TR from the request's first byte to its complete head, Tw the time in the backend's queue, Tc
/// from the head (or leaving the queue) to the moment a server connection was handed the request (it
/// includes retries; a pooled connection makes it ~0, as HAProxy's reuse does), Tr from then to the
/// response head, Ta from the first byte to the last response byte written.
final class ExchangeRecorder {
    private struct Exchange {
        var requestLine: RequestLine?
        var firstByteAt: NIODeadline
        var headAt: NIODeadline?
        var date: LogTimestamp
        var attachedAt: NIODeadline?
        var queuedAt: NIODeadline?
        var dequeuedAt: NIODeadline?
        var responseAt: NIODeadline?
        var server: Int?
        var localName: String?
        var retries = 0
        var redispatched = false
        /// The server of the last failed connection attempt: retries and redispatches are its warnings.
        var failedServer: Int?
        var status: Int?
        /// The backend the request went to (`backendChosen`), as an index in the frontend's `backends` (a plain
        /// number: no reference count to keep as the exchange is copied); until then the log names the frontend.
        var route: Int?
        /// Why the exchange failed once a server was involved (`PH`, `sH`, `SD`...): the log's termination state.
        var failure: TerminationState?
        var bytesOutAtStart: Int
        var bytesInAtStart: Int
        /// The response was a 101 and the connection became a tunnel: logged when it closes.
        var tunneled = false
    }

    private let operations: FrontendOperations
    /// The connection's byte counts, read at each step.
    let meter: TrafficMeter
    private var exchange: Exchange?
    /// Pipelined requests read while an earlier one is still being answered, in order.
    private var waiting: [Exchange] = []
    private var clientIP = "-"
    private var clientPort = 0
    private var sessionOpen = false
    /// A `mode tcp` session: one exchange for the whole connection, no requests or statuses, tcplog format.
    private var isTCP = false

    /// The proxy has log targets: request lines and dates are worth computing.
    private let logs: Bool
    private static let unlogged = LogTimestamp(year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0)

    init(operations: FrontendOperations, meter: TrafficMeter) {
        self.operations = operations
        self.meter = meter
        self.logs = !operations.logRoutes.isEmpty
    }

    /// The current exchange's backend, once chosen.
    private var backend: BackendOperations? { self.exchange?.route.map { self.operations.backends[$0] } }

    /// A client connection was accepted: the session counts from now on.
    func sessionOpened(remote: SocketAddress?) {
        if let remote {
            self.clientIP = remote.ipAddress ?? "-"
            self.clientPort = remote.port ?? 0
        }
        self.operations.counters.sessionOpened()
        self.operations.process.sessionOpened()
        self.sessionOpen = true
    }

    /// The client connection closed.
    func sessionClosed() {
        if let exchange = self.exchange {
            // The client went away before the response ended: HAProxy's "CD" (or "CH" before any header), unless
            // the server side failed first (`failed`).
            let phase: Character = exchange.status == nil ? "H" : "D"
            self.finish(termination: exchange.failure ?? TerminationState(cause: "C", phase: phase))
        }
        if self.sessionOpen {
            self.sessionOpen = false
            self.operations.counters.sessionClosed()
            self.operations.process.sessionClosed()
        }
    }

    /// A `mode tcp` connection starts its one exchange at accept time (`%t`, Tw and Tc count from there).
    func tcpSessionStarted() {
        self.isTCP = true
        let now = NIODeadline.now()
        self.exchange = Exchange(
            requestLine: nil, firstByteAt: now, headAt: now, date: self.date(now),
            bytesOutAtStart: self.meter.bytesOut, bytesInAtStart: self.meter.bytesIn)
    }

    /// A request head arrived (in arrival order, also when it is pipelined behind an unfinished one).
    func requestReceived(_ head: HTTPRequestHead) {
        let now = NIODeadline.now()
        let exchange = Exchange(
            // The line and the wall-clock date are only worked out when the proxy logs.
            requestLine: self.logs
                ? RequestLine(
                    method: head.method.rawValue, target: head.uri, major: head.version.major,
                    minor: head.version.minor)
                : nil,
            firstByteAt: self.meter.firstByteAt ?? now, headAt: now, date: self.date(self.meter.firstByteAt),
            bytesOutAtStart: self.meter.bytesOut, bytesInAtStart: self.meter.bytesInAtRequestStart)
        if self.exchange == nil {
            self.exchange = exchange
        } else {
            self.waiting.append(exchange)
        }
        self.operations.counters.requestReceived()
        self.operations.process.requestReceived()
    }

    /// The request is being sent to this server (index in the backend) after `retries` retries;
    /// `redispatched`: an earlier attempt went to another server.
    func serverAttached(server: Int, retries: Int, redispatched: Bool) {
        guard var exchange = self.exchange, let backend = self.backend, backend.servers.indices.contains(server)
        else { return }
        if exchange.server == nil {
            backend.counters.sessionOpened()
            // A tcp session carries no HTTP request: HAProxy leaves req_tot empty there.
            if !self.isTCP { backend.counters.requestReceived() }
        }
        if let previous = exchange.server, previous != server {
            backend.servers[previous].sessionClosed()
        }
        if exchange.server != server {
            backend.servers[server].sessionOpened(atMilliseconds: Self.monotonicMilliseconds())
            if !self.isTCP { backend.servers[server].requestReceived() }
        }
        // As in HAProxy, `wretr` and `wredis` count against the server whose attempt failed.
        let failed = exchange.failedServer ?? exchange.server ?? server
        for _ in exchange.retries..<max(exchange.retries, retries) {
            backend.counters.retried()
            backend.servers[failed].retried()
        }
        if redispatched && !exchange.redispatched {
            backend.counters.redispatched()
            backend.servers[failed].redispatched()
        }
        exchange.server = server
        exchange.retries = retries
        exchange.redispatched = redispatched
        exchange.attachedAt = .now()
        self.exchange = exchange
    }

    /// A connection attempt to this server failed.
    func connectFailed(server: Int) {
        guard let backend = self.backend, backend.servers.indices.contains(server) else { return }
        backend.counters.connectionFailed()
        backend.servers[server].connectionFailed()
        self.exchange?.failedServer = server
    }

    /// The request is answered by Portico itself (`<STATS>`, `<PROMEX>`), as HAProxy logs it.
    func servedLocally(_ name: String) {
        self.exchange?.localName = name
    }

    /// Every server was at its `maxconn`: the request waits in the backend's queue (Tw starts).
    func queued() {
        self.exchange?.queuedAt = .now()
        self.backend?.queueEntered()
    }

    /// A slot freed up: the request leaves the queue (Tw ends).
    func dequeued() {
        self.exchange?.dequeuedAt = .now()
    }

    /// The request is handed to the backend (a server is picked, or the queue or a 503 follows). A request
    /// refused before that (400, 408, 431) is logged `web_entry web_entry/<NOSRV>`, as HAProxy logs it.
    /// - Parameter route: the index of the frontend's route (see `FrontendRuntime.routes`).
    func backendChosen(route: Int) {
        guard self.operations.backends.indices.contains(route) else { return }
        self.exchange?.route = route
    }

    /// The exchange failed on the server side, as `termination` says (the letters of `RetryDecision.fail`, `sD`,
    /// `SD`): the log line says so instead of `----` (an error Portico answers after a server was attached) or
    /// `CD--` (a response cut short when the server closed or timed out).
    func failed(_ termination: TerminationState) {
        self.exchange?.failure = termination
    }

    /// An `http-request` rule answers instead of a server: `PR` for a deny, `LR` for a redirect, as HAProxy
    /// logs them (the backend is the frontend's own name then, or the backend whose rule it was).
    func answeredByRule(_ termination: TerminationState) {
        self.exchange?.failure = termination
    }

    /// An `http-request deny`: counted in `dreq` of the frontend, or of the backend (`route`) whose rule it was.
    func requestDenied(route: Int?) {
        if let route, self.operations.backends.indices.contains(route) {
            self.operations.backends[route].counters.requestDenied()
        } else {
            self.operations.counters.requestDenied()
        }
    }

    /// A final (non-interim) response head is about to be written to the client.
    func responseStarted(status: Int) {
        if self.exchange == nil {
            // An error answered before any request head (timeout, bad request).
            let now = NIODeadline.now()
            self.exchange = Exchange(
                requestLine: nil, firstByteAt: self.meter.firstByteAt ?? now, headAt: nil,
                date: self.date(self.meter.firstByteAt), bytesOutAtStart: self.meter.bytesOut,
                bytesInAtStart: self.meter.firstByteAt == nil
                    ? self.meter.bytesIn : self.meter.bytesInAtRequestStart)
            self.operations.counters.requestError()
        }
        self.exchange?.status = status
        self.exchange?.responseAt = .now()
    }

    /// The response's last part was written to the client (its bytes are counted by now).
    func responseEnded() {
        self.finish(termination: self.termination())
    }

    /// A tunnel that a 101 started ended: one httplog line for the whole of it (status 101, every byte
    /// relayed, Ta its whole duration), as HAProxy logs a WebSocket session.
    func tunnelClosed(termination: TerminationState) {
        self.exchange?.tunneled = true
        self.finish(termination: termination)
    }

    /// `----` for a relayed response; for Portico's own error answers the letters HAProxy uses.
    private func termination() -> TerminationState {
        guard let exchange = self.exchange else { return .normal }
        // Answered by Portico itself (stats page, Prometheus): HAProxy's "locally processed" LR--.
        if exchange.localName != nil { return TerminationState("LR") }
        if let failure = exchange.failure { return failure }
        guard exchange.server == nil else { return .normal }
        switch exchange.status {
        // Still in the queue when `timeout queue` struck: HAProxy's sQ.
        case 503 where exchange.queuedAt != nil && exchange.dequeuedAt == nil: return TerminationState("sQ")
        case 503: return TerminationState("SC")
        case 504: return TerminationState("sH")
        case 502: return TerminationState("SH")
        case 408: return TerminationState("cR")
        case 400, 431: return TerminationState("PR")
        default: return .normal
        }
    }

    private func finish(termination: TerminationState) {
        guard let exchange = self.exchange else { return }
        self.exchange = nil
        if !self.waiting.isEmpty {
            // The next pipelined request's response starts now.
            var next = self.waiting.removeFirst()
            next.bytesOutAtStart = self.meter.bytesOut
            self.exchange = next
        }
        self.meter.firstByteAt = nil
        let status = exchange.status ?? -1
        let bytesOut = self.meter.bytesOut - exchange.bytesOutAtStart
        let bytesIn = self.meter.bytesIn - exchange.bytesInAtStart
        if exchange.status != nil { self.operations.counters.responded(status: status) }
        let backend = exchange.route.map { self.operations.backends[$0] }
        if let backend, let server = exchange.server {
            if self.isTCP {
                // No response to count in tcp mode: only sessions and bytes.
            } else if exchange.status != nil {
                backend.counters.responded(status: status)
                backend.servers[server].responded(status: status)
            } else {
                backend.counters.responseFailed()
                backend.servers[server].responseFailed()
            }
            backend.counters.addBytes(in: bytesIn, out: bytesOut)
            backend.servers[server].addBytes(in: bytesIn, out: bytesOut)
            backend.counters.sessionClosed()
            backend.servers[server].sessionClosed()
        }
        guard self.logs else { return }
        if self.operations.logging.dontLogNull, exchange.requestLine == nil, bytesIn == 0 { return }
        let end = NIODeadline.now()
        func milliseconds(_ from: NIODeadline?, _ to: NIODeadline?) -> Int? {
            guard let from, let to else { return nil }
            return Int(max(0, (to - from).nanoseconds / 1_000_000))
        }
        let serverName = exchange.server.flatMap { index in
            backend.map { $0.serverNames[index] }
        }
        let process = self.operations.process.currentSessions
        let entry = HTTPLogEntry(
            clientIP: self.clientIP, clientPort: self.clientPort, requestDate: exchange.date,
            frontend: self.operations.name,
            // A request answered by Portico itself, or refused before balancing, never reached a backend:
            // HAProxy logs the frontend there.
            backend: exchange.localName == nil ? (backend?.name ?? self.operations.name) : self.operations.name,
            server: serverName ?? exchange.localName,
            requestTime: milliseconds(exchange.firstByteAt, exchange.headAt),
            // Tw: time in the backend's queue (0 when a server slot was free at once); -1 when the request
            // never left the queue or never got that far.
            queueTime: exchange.queuedAt != nil
                ? milliseconds(exchange.queuedAt, exchange.dequeuedAt)
                : (exchange.attachedAt != nil || exchange.localName != nil ? 0 : nil),
            // Local answers report 0/0/0/0/0 as HAProxy's applets do; an error Portico generated after no
            // server answered has no server response time (-1), as in `0/-1/-1/-1/0 503 ... SC--`.
            connectTime: exchange.localName != nil
                ? 0 : milliseconds(exchange.dequeuedAt ?? exchange.headAt, exchange.attachedAt),
            responseTime: exchange.localName != nil
                ? 0
                : termination == .normal || exchange.tunneled
                    ? milliseconds(exchange.attachedAt, exchange.responseAt) : nil,
            activeTime: milliseconds(exchange.firstByteAt, end),
            status: status, bytesRead: UInt64(max(0, bytesOut)), termination: termination,
            processConnections: process,
            frontendConnections: self.operations.counters.currentSessions,
            backendConnections: backend?.counters.currentSessions ?? 0,
            serverConnections: exchange.server.map { backend?.servers[$0].currentSessions ?? 0 } ?? 0,
            retries: exchange.retries, redispatched: exchange.redispatched,
            requestLine: exchange.requestLine)
        // HAProxy sends traffic logs at "info", errors included (without `option log-separate-errors`).
        if self.isTCP {
            self.operations.syslog.send(.info, via: self.operations.logRoutes, raw: entry.tcpLogText) {
                entry.writeTCPLog(to: &$0)
            }
        } else {
            self.operations.syslog.send(.info, via: self.operations.logRoutes, raw: entry.text) {
                entry.write(to: &$0)
            }
        }
    }

    /// Wall-clock date of the request's first byte.
    private func date(_ deadline: NIODeadline?) -> LogTimestamp {
        guard self.logs else { return Self.unlogged }
        let ago = deadline.map { max(0, (NIODeadline.now() - $0).nanoseconds / 1_000_000) } ?? 0
        return SyslogSender.now(minusMilliseconds: ago)
    }

    static func monotonicMilliseconds() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }
}
