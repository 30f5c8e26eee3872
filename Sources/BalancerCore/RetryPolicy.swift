/// How one attempt to get a response from a server failed.
public enum AttemptFailure: Sendable, Equatable {
    /// Connection refused, unreachable, or `timeout connect`: no request byte reached the server.
    case connectFailed(timedOut: Bool)
    /// The server connection closed or was reset before any response byte arrived. `requestSent` tells
    /// whether any request byte had been written (a pooled keep-alive connection closed by the server
    /// just before reuse fails with `requestSent: false`).
    case closedBeforeResponse(requestSent: Bool)
    /// `timeout server` struck before any response byte.
    case responseTimeout
    /// The server answered something that is not a valid HTTP response.
    case invalidResponse
    /// The connection failed after part of the response had been forwarded to the client.
    case closedDuringResponse
}

/// What to do after a failed attempt.
public enum RetryDecision: Sendable, Equatable {
    /// Try the same server again after this delay (HAProxy's turn-around timer). Counts one retry (`wretr`).
    case retrySameServer(after: Duration)
    /// Pick a server again with `PickRequest(avoiding: failedServer)` and send there at once.
    /// Counts one retry (`wretr`) and one redispatch (`wredis`).
    case redispatch
    /// Answer the client with this status; `termination` is the first two characters of the httplog
    /// termination state (manual §8.5): `SC` connect refused or failed, `sC` connect timeout, `SH` server
    /// closed before the response headers, `sH` server timeout before them, `PH` invalid response.
    case fail(status: Int, termination: String)
    /// Part of the response already reached the client: close the client connection (`SD`).
    case abort
}

/// Everything about a failed attempt that the decision depends on.
public struct FailedAttempt: Sendable, Equatable {
    public var failure: AttemptFailure
    /// Retries already performed for this request (0 when the first attempt just failed).
    public var retriesDone: Int
    /// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
    public var isIdempotent: Bool
    /// The I/O layer still holds the whole request (headers and any body) and can send it again.
    public var isReplayable: Bool
    /// The server is still UP and READY as far as checks and the operator know.
    public var serverUsable: Bool
    /// Active servers currently usable in the backend (another one exists when this is > 1).
    public var usableActiveServers: Int

    public init(
        failure: AttemptFailure,
        retriesDone: Int,
        isIdempotent: Bool,
        isReplayable: Bool = true,
        serverUsable: Bool = true,
        usableActiveServers: Int = 2
    ) {
        self.failure = failure
        self.retriesDone = retriesDone
        self.isIdempotent = isIdempotent
        self.isReplayable = isReplayable
        self.serverUsable = serverUsable
        self.usableActiveServers = usableActiveServers
    }
}

/// Retry and redispatch decisions for requests whose attempt failed.
///
/// **What Portico does by default (no `option redispatch` line, as in the seed's haproxy.cfg)**
///
/// - A connection that fails before any request byte is sent (refused, unreachable, `timeout connect`)
///   is retried up to `retries` times (HAProxy's default is 3), for every method: nothing reached the
///   server, so nothing can happen twice. Portico behaves as if `option redispatch` were set, with
///   HAProxy's own rules for it: the retry goes at once to another server when the balancing is not
///   hash-based and another active server is usable, or when the failed server is no longer UP;
///   otherwise it waits HAProxy's turn-around timer (`min(timeout connect, 1s)`) and retries the same
///   server, redispatching on the last retry. When every retry fails the client gets 503.
/// - An idempotent request (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE) whose connection
///   closes or resets after it was sent but before any response byte arrived is sent again to another
///   server (HAProxy's `retry-on empty-response`, limited to idempotent methods), within the same
///   `retries` budget, provided Portico still holds the whole request. Otherwise the client gets 502.
/// - A non-idempotent request (POST, PATCH, ...) is retried only when nothing was sent; once any byte
///   reached the server it is never replayed, because the server may have acted on it: 502.
/// - `timeout server` before a response gives 504 and an invalid response 502, without retry (retrying
///   a slow or misbehaving server amplifies the problem). Once part of a response has been forwarded,
///   the client connection is closed.
///
/// Why: with HAProxy's own defaults (no redispatch) a killed backend makes every retry hit the same
/// dead server until checks mark it DOWN (`fall` × `inter` = 6 s with the seed), and requests in
/// flight on it fail. With this default, killing a backend under load loses no idempotent request.
///
/// `no option redispatch` restores HAProxy's default: retries stay on the same server and requests
/// that were sent are not replayed. `option redispatch N` sets HAProxy's interval (every Nth retry
/// for N > 0, the |N|th retry before the last for N < 0, never for 0).
public struct RetryPolicy: Sendable, Equatable {
    public enum Redispatch: Sendable, Equatable {
        /// `no option redispatch`: HAProxy's default behaviour.
        case off
        /// `option redispatch [interval]`; HAProxy's default interval is -1 (the last retry).
        case interval(Int)
    }

    /// `retries` (HAProxy's default is 3): retries after the first attempt.
    public var retries: Int
    public var redispatch: Redispatch
    /// Whether sent idempotent requests may be replayed: not with `no option redispatch` or
    /// `option redispatch 0`.
    public var replaysIdempotentRequests: Bool
    /// Wait before retrying the same server after a connect failure: `min(timeout connect, 1s)`.
    public var turnAround: Duration
    /// The balancing is hash-based (`balance source`): a retry then stays on the hashed server.
    public var hashBased: Bool

    /// - Parameter redispatch: from the configuration; `nil` when there is no `option redispatch` line,
    ///   which selects Portico's default described above.
    public init(
        retries: Int = 3,
        redispatch: Redispatch? = nil,
        timeoutConnect: Duration = .seconds(5),
        algorithm: BalanceAlgorithm = .roundRobin
    ) {
        self.retries = max(0, retries)
        self.redispatch = redispatch ?? .interval(-1)
        replaysIdempotentRequests = redispatch != .off && redispatch != .interval(0)
        turnAround = min(timeoutConnect, .seconds(1))
        hashBased = algorithm == .source
    }

    /// RFC 9110 §9.2.2 idempotent methods (method names are case-sensitive, §9.1).
    public static func isIdempotent(method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE": return true
        default: return false
        }
    }

    public func decide(_ attempt: FailedAttempt) -> RetryDecision {
        let nothingSent: Bool
        switch attempt.failure {
        case .closedDuringResponse:
            return .abort
        case .responseTimeout:
            return .fail(status: 504, termination: "sH")
        case .invalidResponse:
            return .fail(status: 502, termination: "PH")
        case .connectFailed:
            nothingSent = true
        case .closedBeforeResponse(let requestSent):
            nothingSent = !requestSent
        }

        let exhausted = attempt.retriesDone >= retries
        if nothingSent {
            // `sC`: the last connect attempt timed out; `SC`: refused or failed.
            let timedOut = attempt.failure == .connectFailed(timedOut: true)
            guard !exhausted else { return .fail(status: 503, termination: timedOut ? "sC" : "SC") }
            return sameOrOther(attempt)
        }
        // Sent, no response byte: only idempotent, replayable requests are replayed, on another server.
        guard replaysIdempotentRequests, attempt.isIdempotent, attempt.isReplayable, !exhausted else {
            return .fail(status: 502, termination: "SH")
        }
        return .redispatch
    }

    /// HAProxy's choice for a connection retry (`back_handle_st_cer` with `option redispatch`).
    private func sameOrOther(_ attempt: FailedAttempt) -> RetryDecision {
        let retryNumber = attempt.retriesDone + 1
        let delay: Duration
        if case .closedBeforeResponse = attempt.failure {
            // A pooled connection closed under us: the server is not restarting, reconnect at once.
            delay = .zero
        } else {
            delay = turnAround
        }
        guard case .interval(let interval) = redispatch, interval != 0 else {
            return .retrySameServer(after: delay)
        }
        if !attempt.serverUsable { return .redispatch }
        if !hashBased && attempt.usableActiveServers > 1 { return .redispatch }
        if interval > 0, retryNumber % interval == 0 { return .redispatch }
        if interval < 0 {
            let period = retries + 1 + interval
            if period > 0, retryNumber % period == 0 { return .redispatch }
        }
        return .retrySameServer(after: delay)
    }
}
