/// Traffic counters of a frontend, backend or server, named after HAProxy's stats columns.
///
/// Plain values: each event loop keeps its own (no sharing on the hot path) and the stats page sums
/// them with `+`. Sums are exact for every counter except `maxSessions`, whose sum over loops is an
/// upper bound of the true maximum (the loops' peaks need not coincide); for servers the true
/// concurrency is `ServerSlot.connections` in the shared selector.
public struct TrafficCounters: Sendable, Equatable {
    /// `scur`: sessions now.
    public var currentSessions = 0
    /// `smax`: highest `scur` seen.
    public var maxSessions = 0
    /// `stot`: sessions since start.
    public var totalSessions = 0
    /// `bin`: bytes received from clients (frontend) or sent to servers (backend/server).
    public var bytesIn: UInt64 = 0
    /// `bout`: bytes sent to clients (frontend) or received from servers.
    public var bytesOut: UInt64 = 0
    /// `dreq`: requests denied (ACLs, auth).
    public var deniedRequests = 0
    /// `dresp`: responses denied.
    public var deniedResponses = 0
    /// `ereq`: bad requests from clients (400, 408, 431, aborted requests).
    public var requestErrors = 0
    /// `econ`: failed connection attempts to servers.
    public var connectionErrors = 0
    /// `eresp`: server responses that failed (reset, invalid, timeout).
    public var responseErrors = 0
    /// `wretr`: retries.
    public var retries = 0
    /// `wredis`: redispatches.
    public var redispatches = 0
    /// `req_tot`: HTTP requests.
    public var requests = 0
    /// `hrsp_1xx` ... `hrsp_5xx` at indexes 1...5, `hrsp_other` at index 0.
    public var responsesByClass: [Int] = [0, 0, 0, 0, 0, 0]
    /// `rate`: sessions per second over the last second (see ``RateMeter``); for a frontend also its
    /// `conn_rate`, since every connection it accepts becomes a session.
    public var sessionRate = 0
    /// `rate_max` (and a frontend's `conn_rate_max`).
    public var maxSessionRate = 0
    /// `req_rate`: HTTP requests per second over the last second (shown for frontends).
    public var requestRate = 0
    /// `req_rate_max`.
    public var maxRequestRate = 0

    public init() {}

    public mutating func sessionOpened() {
        currentSessions += 1
        totalSessions += 1
        maxSessions = max(maxSessions, currentSessions)
    }

    public mutating func sessionClosed() {
        currentSessions = max(0, currentSessions - 1)
    }

    /// Counts a response status in `hrsp_Nxx` (anything outside 100...599 in `hrsp_other`).
    public mutating func recordResponse(status: Int) {
        let group = (100...599).contains(status) ? status / 100 : 0
        responsesByClass[group] += 1
    }

    public func responses(class group: Int) -> Int {
        responsesByClass.indices.contains(group) ? responsesByClass[group] : 0
    }

    public static func + (lhs: TrafficCounters, rhs: TrafficCounters) -> TrafficCounters {
        var sum = lhs
        sum += rhs
        return sum
    }

    public static func += (lhs: inout TrafficCounters, rhs: TrafficCounters) {
        lhs.currentSessions += rhs.currentSessions
        lhs.maxSessions += rhs.maxSessions
        lhs.totalSessions += rhs.totalSessions
        lhs.bytesIn &+= rhs.bytesIn
        lhs.bytesOut &+= rhs.bytesOut
        lhs.deniedRequests += rhs.deniedRequests
        lhs.deniedResponses += rhs.deniedResponses
        lhs.requestErrors += rhs.requestErrors
        lhs.connectionErrors += rhs.connectionErrors
        lhs.responseErrors += rhs.responseErrors
        lhs.retries += rhs.retries
        lhs.redispatches += rhs.redispatches
        lhs.requests += rhs.requests
        // Rates add up like the events they count; the sum of maxima is an upper bound, as for smax.
        lhs.sessionRate += rhs.sessionRate
        lhs.maxSessionRate += rhs.maxSessionRate
        lhs.requestRate += rhs.requestRate
        lhs.maxRequestRate += rhs.maxRequestRate
        for group in lhs.responsesByClass.indices {
            lhs.responsesByClass[group] += rhs.responses(class: group)
        }
    }
}

/// The check-related stats columns of a server, derived from its `ServerState`.
public struct CheckCounters: Sendable, Equatable {
    /// `status`: "UP", "UP 1/3", "DOWN", "MAINT", "DRAIN", "no check".
    public var status: String
    /// `chkfail`
    public var failedChecks: Int
    /// `chkdown`
    public var downTransitions: Int
    /// `lastchg`, whole seconds since the last state change.
    public var secondsSinceChange: Int64
    /// `downtime`, whole seconds.
    public var downtimeSeconds: Int64
    /// `check_status` ("L7OK", "L4CON", "INI"), empty for a server without check.
    public var checkStatus: String
    /// `check_code`: the HTTP status of the last check, if any.
    public var checkCode: Int?
    /// `check_duration` in milliseconds, if a check has completed.
    public var checkDurationMilliseconds: Int64?
}

extension ServerState {
    public func checkCounters(at now: Duration) -> CheckCounters {
        let last = health?.lastCheck
        let completed = last.map { $0.status != .initializing } ?? false
        return CheckCounters(
            status: statusText,
            failedChecks: health?.failedChecks ?? 0,
            downTransitions: health?.downTransitions ?? 0,
            secondsSinceChange: (now - lastChange).components.seconds,
            downtimeSeconds: downtime(at: now).components.seconds,
            checkStatus: last?.status.rawValue ?? "",
            checkCode: last?.code,
            checkDurationMilliseconds: completed ? last?.duration.wholeMilliseconds : nil
        )
    }
}
