/// HAProxy's check status codes, as the stats page (`check_status`) and the logs show them.
public enum CheckStatus: String, Sendable, Equatable, CaseIterable {
    /// No check has completed yet.
    case initializing = "INI"
    /// A socket error during the check, e.g. the connection was reset.
    case socketError = "SOCKERR"
    /// TCP connect succeeded (`check` without `option httpchk`).
    case layer4Passed = "L4OK"
    case layer4Timeout = "L4TOUT"
    /// Connect refused or unreachable.
    case layer4ConnectionProblem = "L4CON"
    case layer6Passed = "L6OK"
    case layer6Timeout = "L6TOUT"
    case layer6InvalidResponse = "L6RSP"
    /// Connected, but no complete response within `timeout check`.
    case layer7Timeout = "L7TOUT"
    /// Not HTTP, or the body did not match `http-check expect string`.
    case layer7InvalidResponse = "L7RSP"
    case layer7Passed = "L7OK"
    case layer7ConditionallyPassed = "L7OKC"
    /// The status code did not match the expectation.
    case layer7WrongStatus = "L7STS"

    /// The words HAProxy prints after `reason:` (e.g. "Layer4 connection problem").
    public var description: String {
        switch self {
        case .initializing: return "Initializing"
        case .socketError: return "Socket error"
        case .layer4Passed: return "Layer4 check passed"
        case .layer4Timeout: return "Layer4 timeout"
        case .layer4ConnectionProblem: return "Layer4 connection problem"
        case .layer6Passed: return "Layer6 check passed"
        case .layer6Timeout: return "Layer6 timeout"
        case .layer6InvalidResponse: return "Layer6 invalid response"
        case .layer7Timeout: return "Layer7 timeout"
        case .layer7InvalidResponse: return "Layer7 invalid response"
        case .layer7Passed: return "Layer7 check passed"
        case .layer7ConditionallyPassed: return "Layer7 check conditionally passed"
        case .layer7WrongStatus: return "Layer7 wrong status"
        }
    }

    /// Whether the check counts as a success for rise/fall.
    public var passed: Bool {
        switch self {
        case .layer4Passed, .layer6Passed, .layer7Passed, .layer7ConditionallyPassed: return true
        default: return false
        }
    }
}

/// The result of one health check, as the I/O layer observed it.
public struct CheckReport: Sendable, Equatable {
    public var status: CheckStatus
    /// The HTTP status code, when a response was parsed.
    public var code: Int?
    /// Detail HAProxy prints as `info: "..."`: the errno text, the reason phrase, the mismatch.
    public var info: String?
    /// From connect start to the verdict.
    public var duration: Duration

    public init(status: CheckStatus, code: Int? = nil, info: String? = nil, duration: Duration = .zero) {
        self.status = status
        self.code = code
        self.info = info
        self.duration = duration
    }

    /// Connect refused: `Layer4 connection problem, info: "Connection refused"`.
    public static func connectionRefused(duration: Duration = .zero) -> CheckReport {
        CheckReport(status: .layer4ConnectionProblem, info: "Connection refused", duration: duration)
    }

    /// No connection within `timeout check` (or `timeout connect`).
    public static func connectTimeout(duration: Duration) -> CheckReport {
        CheckReport(status: .layer4Timeout, duration: duration)
    }

    /// Connected, no complete answer in time.
    public static func responseTimeout(duration: Duration) -> CheckReport {
        CheckReport(status: .layer7Timeout, duration: duration)
    }

    /// The connection was reset during the check.
    public static func connectionReset(duration: Duration = .zero) -> CheckReport {
        CheckReport(status: .socketError, info: "Connection reset by peer", duration: duration)
    }

    /// A plain TCP check (no `option httpchk`) connected.
    public static func connected(duration: Duration = .zero) -> CheckReport {
        CheckReport(status: .layer4Passed, duration: duration)
    }

    /// `reason: Layer7 ..., code: 503, info: "...", check duration: 1ms` as HAProxy words it.
    public var logDetail: String {
        var text = "reason: \(status.description)"
        if let code { text += ", code: \(code)" }
        if let info, !info.isEmpty { text += ", info: \"\(info)\"" }
        text += ", check duration: \(duration.wholeMilliseconds)ms"
        return text
    }
}

extension Duration {
    /// Whole milliseconds, truncated, as HAProxy prints durations.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
