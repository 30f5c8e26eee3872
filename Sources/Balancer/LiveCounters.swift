import BalancerCore
import Synchronization

/// Traffic counters of one frontend, backend or server, updated from every event loop with relaxed
/// atomic adds (no lock on the request path) and read as a `TrafficCounters` value by the stats page.
/// A read is not one consistent instant across counters, which is also true of HAProxy's page.
final class LiveCounters: Sendable {
    private let current = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    private let total = Atomic<Int>(0)
    private let bytesIn = Atomic<UInt64>(0)
    private let bytesOut = Atomic<UInt64>(0)
    private let deniedRequests = Atomic<Int>(0)
    private let requestErrors = Atomic<Int>(0)
    private let connectionErrors = Atomic<Int>(0)
    private let responseErrors = Atomic<Int>(0)
    private let retries = Atomic<Int>(0)
    private let redispatches = Atomic<Int>(0)
    private let requests = Atomic<Int>(0)
    private let responsesOther = Atomic<Int>(0)
    private let responses1xx = Atomic<Int>(0)
    private let responses2xx = Atomic<Int>(0)
    private let responses3xx = Atomic<Int>(0)
    private let responses4xx = Atomic<Int>(0)
    private let responses5xx = Atomic<Int>(0)
    /// Milliseconds on the balancer's monotonic clock of the last session; -1: none yet.
    private let lastSession = Atomic<Int64>(-1)
    /// Sessions and requests per second, fed by the once-a-second sampler from the totals above (see
    /// `RateMeter` for why a sampler rather than a per-event counter). Only the sampler and stats readers
    /// take this lock, never a connection.
    private let rates = Mutex(Rates())

    private struct Rates {
        var sessions = RateMeter()
        var requests = RateMeter()
    }

    /// Takes one rate sample of the session and request totals (the sampler calls this about once a second).
    func sampleRates(at now: Duration) {
        let sessions = self.total.load(ordering: .relaxed)
        let requests = self.requests.load(ordering: .relaxed)
        self.rates.withLock { rates in
            rates.sessions.sample(total: sessions, at: now)
            rates.requests.sample(total: requests, at: now)
        }
    }

    func sessionOpened(atMilliseconds now: Int64? = nil) {
        let value = self.current.wrappingAdd(1, ordering: .relaxed).newValue
        self.total.wrappingAdd(1, ordering: .relaxed)
        var seen = self.peak.load(ordering: .relaxed)
        while value > seen {
            let (exchanged, original) = self.peak.compareExchange(
                expected: seen, desired: value, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        if let now { self.lastSession.store(now, ordering: .relaxed) }
    }

    func sessionClosed() {
        self.current.wrappingSubtract(1, ordering: .relaxed)
    }

    var currentSessions: Int { max(0, self.current.load(ordering: .relaxed)) }

    func addBytes(in received: Int = 0, out sent: Int = 0) {
        if received > 0 { self.bytesIn.wrappingAdd(UInt64(received), ordering: .relaxed) }
        if sent > 0 { self.bytesOut.wrappingAdd(UInt64(sent), ordering: .relaxed) }
    }

    func requestReceived() { self.requests.wrappingAdd(1, ordering: .relaxed) }
    func requestError() { self.requestErrors.wrappingAdd(1, ordering: .relaxed) }
    func requestDenied() { self.deniedRequests.wrappingAdd(1, ordering: .relaxed) }
    func connectionFailed() { self.connectionErrors.wrappingAdd(1, ordering: .relaxed) }
    func responseFailed() { self.responseErrors.wrappingAdd(1, ordering: .relaxed) }
    func retried() { self.retries.wrappingAdd(1, ordering: .relaxed) }
    func redispatched() { self.redispatches.wrappingAdd(1, ordering: .relaxed) }

    func responded(status: Int) {
        switch (100...599).contains(status) ? status / 100 : 0 {
        case 1: self.responses1xx.wrappingAdd(1, ordering: .relaxed)
        case 2: self.responses2xx.wrappingAdd(1, ordering: .relaxed)
        case 3: self.responses3xx.wrappingAdd(1, ordering: .relaxed)
        case 4: self.responses4xx.wrappingAdd(1, ordering: .relaxed)
        case 5: self.responses5xx.wrappingAdd(1, ordering: .relaxed)
        default: self.responsesOther.wrappingAdd(1, ordering: .relaxed)
        }
    }

    var lastSessionMilliseconds: Int64? {
        let value = self.lastSession.load(ordering: .relaxed)
        return value < 0 ? nil : value
    }

    var value: TrafficCounters {
        var counters = TrafficCounters()
        counters.currentSessions = self.currentSessions
        counters.maxSessions = self.peak.load(ordering: .relaxed)
        counters.totalSessions = self.total.load(ordering: .relaxed)
        counters.bytesIn = self.bytesIn.load(ordering: .relaxed)
        counters.bytesOut = self.bytesOut.load(ordering: .relaxed)
        counters.deniedRequests = self.deniedRequests.load(ordering: .relaxed)
        counters.requestErrors = self.requestErrors.load(ordering: .relaxed)
        counters.connectionErrors = self.connectionErrors.load(ordering: .relaxed)
        counters.responseErrors = self.responseErrors.load(ordering: .relaxed)
        counters.retries = self.retries.load(ordering: .relaxed)
        counters.redispatches = self.redispatches.load(ordering: .relaxed)
        counters.requests = self.requests.load(ordering: .relaxed)
        counters.responsesByClass = [
            self.responsesOther.load(ordering: .relaxed), self.responses1xx.load(ordering: .relaxed),
            self.responses2xx.load(ordering: .relaxed), self.responses3xx.load(ordering: .relaxed),
            self.responses4xx.load(ordering: .relaxed), self.responses5xx.load(ordering: .relaxed),
        ]
        let rates = self.rates.withLock { $0 }
        counters.sessionRate = rates.sessions.current
        counters.maxSessionRate = rates.sessions.highest
        counters.requestRate = rates.requests.current
        counters.maxRequestRate = rates.requests.highest
        return counters
    }
}
