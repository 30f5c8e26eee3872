/// Events per second of one running total (sessions, requests), as HAProxy's `rate`, `req_rate` and
/// `conn_rate` columns show them, with the highest rate seen (`rate_max`, ...).
///
/// Measured by sampling the total about once a second rather than with HAProxy's "freq counters"
/// (an event count for the current second plus the previous second's weighted by the part of the
/// second not elapsed yet, updated on every event). Sampling leaves the request path exactly as it is
/// (the relaxed atomic adds of the totals that exist anyway) and gives an exact count over a real
/// window; the price is that the figure lags by up to one sampling period, which an operator reading
/// a page or a scraper polling every few seconds does not notice.
///
/// A sample that comes early (less than `minimumWindow` after the previous one) is not taken: it would
/// turn a handful of events in a few milliseconds into a large per-second figure. A late sample (an
/// overloaded event loop) is scaled to one second, so a 3 s window of 300 events reads 100/s.
public struct RateMeter: Sendable, Equatable {
    /// Events per second over the last sampled window (0 before the second sample).
    public private(set) var current = 0
    /// The highest `current` so far.
    public private(set) var highest = 0
    private var lastTotal: Int?
    private var lastSample: Duration = .zero

    public static let minimumWindow: Duration = .milliseconds(500)

    public init() {}

    /// Takes a sample of the running total at a monotonic instant.
    public mutating func sample(total: Int, at now: Duration) {
        guard let previous = self.lastTotal else {
            self.lastTotal = total
            self.lastSample = now
            return
        }
        let window = now - self.lastSample
        guard window >= Self.minimumWindow else { return }
        // A total never goes down; if it did (a counter reset), the window starts again from it.
        let events = max(0, total - previous)
        let seconds = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
        let rate = Int((Double(events) / seconds).rounded())
        self.current = rate
        self.highest = max(self.highest, rate)
        self.lastTotal = total
        self.lastSample = now
    }
}
