import Testing

@testable import BalancerCore

@Suite("Retries and redispatch")
struct RetryPolicyTests {
    /// The seed: no `retries` (3), no `option redispatch`, `timeout connect 3s`, roundrobin, 2 servers.
    let seed = RetryPolicy(timeoutConnect: .seconds(3))

    private func attempt(
        _ failure: AttemptFailure,
        retriesDone: Int = 0,
        method: String = "GET",
        replayable: Bool = true,
        serverUsable: Bool = true,
        usable: Int = 2
    ) -> FailedAttempt {
        FailedAttempt(
            failure: failure,
            retriesDone: retriesDone,
            isIdempotent: RetryPolicy.isIdempotent(method: method),
            isReplayable: replayable,
            serverUsable: serverUsable,
            usableActiveServers: usable
        )
    }

    @Test("RFC 9110 §9.2.2 idempotent methods")
    func idempotent() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            #expect(RetryPolicy.isIdempotent(method: method))
        }
        for method in ["POST", "PATCH", "CONNECT", "get"] {
            #expect(!RetryPolicy.isIdempotent(method: method))
        }
    }

    @Test("seed config, backend killed: a refused connect goes straight to the other server, any method")
    func refusedRedispatches() {
        #expect(seed.decide(attempt(.connectFailed(timedOut: false))) == .redispatch)
        #expect(seed.decide(attempt(.connectFailed(timedOut: true), method: "POST")) == .redispatch)
    }

    @Test("seed config, backend killed mid-request: idempotent requests are replayed elsewhere, POST is not")
    func resetAfterSend() {
        let reset = AttemptFailure.closedBeforeResponse(requestSent: true)
        #expect(seed.decide(attempt(reset, method: "GET")) == .redispatch)
        #expect(seed.decide(attempt(reset, method: "DELETE")) == .redispatch)
        #expect(seed.decide(attempt(reset, method: "POST")) == .fail(status: 502, termination: "SH"))
        #expect(seed.decide(attempt(reset, method: "PUT", replayable: false)) == .fail(status: 502, termination: "SH"))
        // A pooled connection closed before the request went out: safe for every method.
        #expect(seed.decide(attempt(.closedBeforeResponse(requestSent: false), method: "POST")) == .redispatch)
    }

    @Test("the retries budget is shared and ends in 503 (nothing sent) or 502 (sent)")
    func exhausted() {
        #expect(seed.decide(attempt(.connectFailed(timedOut: false), retriesDone: 2)) == .redispatch)
        #expect(
            seed.decide(attempt(.connectFailed(timedOut: false), retriesDone: 3))
                == .fail(status: 503, termination: "SC")
        )
        #expect(
            seed.decide(attempt(.closedBeforeResponse(requestSent: true), retriesDone: 3))
                == .fail(status: 502, termination: "SH")
        )
        #expect(
            seed.decide(attempt(.connectFailed(timedOut: true), retriesDone: 3))
                == .fail(status: 503, termination: "sC")
        )
        let noRetries = RetryPolicy(retries: 0)
        #expect(noRetries.decide(attempt(.connectFailed(timedOut: false))) == .fail(status: 503, termination: "SC"))
    }

    @Test("one server left: retry it after the turn-around timer, redispatch on the last retry")
    func singleServer() {
        let refused = AttemptFailure.connectFailed(timedOut: false)
        #expect(seed.decide(attempt(refused, usable: 1)) == .retrySameServer(after: .seconds(1)))
        #expect(seed.decide(attempt(refused, retriesDone: 1, usable: 1)) == .retrySameServer(after: .seconds(1)))
        #expect(seed.decide(attempt(refused, retriesDone: 2, usable: 1)) == .redispatch)
        // The turn-around timer is min(timeout connect, 1s).
        let fast = RetryPolicy(timeoutConnect: .milliseconds(200))
        #expect(fast.decide(attempt(refused, usable: 1)) == .retrySameServer(after: .milliseconds(200)))
        // A server already marked DOWN is left at once.
        #expect(seed.decide(attempt(refused, serverUsable: false, usable: 1)) == .redispatch)
    }

    @Test("no option redispatch: HAProxy's default, same server and no replay")
    func haproxyDefault() {
        let strict = RetryPolicy(redispatch: .off, timeoutConnect: .seconds(3))
        let refused = AttemptFailure.connectFailed(timedOut: false)
        #expect(strict.decide(attempt(refused)) == .retrySameServer(after: .seconds(1)))
        #expect(strict.decide(attempt(refused, retriesDone: 2)) == .retrySameServer(after: .seconds(1)))
        #expect(strict.decide(attempt(refused, retriesDone: 3)) == .fail(status: 503, termination: "SC"))
        #expect(
            strict.decide(attempt(.closedBeforeResponse(requestSent: true)))
                == .fail(status: 502, termination: "SH")
        )
    }

    @Test("option redispatch N: every Nth retry on hash-based balancing")
    func interval() {
        let every2 = RetryPolicy(retries: 4, redispatch: .interval(2), algorithm: .source)
        let refused = AttemptFailure.connectFailed(timedOut: false)
        let decisions = (0..<4).map { every2.decide(attempt(refused, retriesDone: $0)) }
        #expect(
            decisions == [
                .retrySameServer(after: .seconds(1)), .redispatch, .retrySameServer(after: .seconds(1)), .redispatch,
            ]
        )
        // -2: the second retry before the last, i.e. every 3rd of 4 retries.
        let beforeLast = RetryPolicy(retries: 4, redispatch: .interval(-2), algorithm: .source)
        #expect(beforeLast.decide(attempt(refused, retriesDone: 2)) == .redispatch)
        #expect(beforeLast.decide(attempt(refused, retriesDone: 3)) == .retrySameServer(after: .seconds(1)))
    }

    @Test("timeouts and bad responses are not retried")
    func noRetry() {
        #expect(seed.decide(attempt(.responseTimeout)) == .fail(status: 504, termination: "sH"))
        #expect(seed.decide(attempt(.invalidResponse)) == .fail(status: 502, termination: "PH"))
        #expect(seed.decide(attempt(.closedDuringResponse)) == .abort)
    }
}
