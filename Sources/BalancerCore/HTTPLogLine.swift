/// The 4-character `termination_state` of an httplog line (HAProxy manual §8.5).
public struct TerminationState: Sendable, Equatable, CustomStringConvertible {
    /// What ended the session: `-` normally, `C`/`S` client/server abort, `c`/`s` client/server timeout,
    /// `P` proxy (bad request, invalid response), `R` resource exhaustion, `I` internal error,
    /// `D` server going down, `U` backup server left for an active one, `L` locally processed,
    /// `K` killed by the operator.
    public var cause: Character
    /// The session's state then: `-` normal end, `R` waiting for the request, `Q` queued,
    /// `C` connecting to the server, `H` waiting for the response headers, `D` data transfer,
    /// `L` last data sent, `T` tarpitted.
    public var phase: Character

    public init(cause: Character = "-", phase: Character = "-") {
        self.cause = cause
        self.phase = phase
    }

    /// From the two letters of `RetryDecision.fail` (e.g. "SC").
    public init(_ code: String) {
        let letters = Array(code)
        self.init(cause: letters.first ?? "-", phase: letters.dropFirst().first ?? "-")
    }

    /// `----`: the session ended normally.
    public static let normal = TerminationState()

    /// The two letters as ASCII bytes (a log line is built as bytes).
    var causeByte: UInt8 { self.cause.asciiValue ?? UInt8(ascii: "?") }
    var phaseByte: UInt8 { self.phase.asciiValue ?? UInt8(ascii: "?") }

    /// The last two characters are cookie persistence flags, always `--` without cookie persistence.
    public var description: String { "\(cause)\(phase)--" }
}

/// Everything one `option httplog` line reports. Timers in milliseconds, `nil` when the stage was
/// not reached (printed as -1, as HAProxy does).
public struct HTTPLogEntry: Sendable, Equatable {
    /// Client IP in text form (IPv6 without brackets, as HAProxy prints `%ci`).
    public var clientIP: String
    public var clientPort: Int
    /// When the first byte of the request was received (`%tr`).
    public var requestDate: LogTimestamp
    public var frontend: String
    public var backend: String
    /// `nil` when the request never reached a server: printed `<NOSRV>`.
    public var server: String?
    /// TR: time to receive the full request headers.
    public var requestTime: Int?
    /// Tw: time in queues.
    public var queueTime: Int?
    /// Tc: time to connect to the final server, retries included.
    public var connectTime: Int?
    /// Tr: time for the server to send the full response headers.
    public var responseTime: Int?
    /// Ta: request active time, first request byte to last response byte.
    public var activeTime: Int?
    public var status: Int
    /// Bytes sent to the client, headers included.
    public var bytesRead: UInt64
    public var termination: TerminationState
    /// actconn / feconn / beconn / srv_conn when the line is logged.
    public var processConnections: Int
    public var frontendConnections: Int
    public var backendConnections: Int
    public var serverConnections: Int
    /// Connection retries of this request; printed with a leading `+` when it was redispatched.
    public var retries: Int
    public var redispatched: Bool
    public var serverQueue: Int
    public var backendQueue: Int
    /// The request line as received (`GET / HTTP/1.1`), `nil` for a bad request (`<BADREQ>`).
    public var requestLine: RequestLine?

    public init(
        clientIP: String,
        clientPort: Int,
        requestDate: LogTimestamp,
        frontend: String,
        backend: String,
        server: String?,
        requestTime: Int?,
        queueTime: Int?,
        connectTime: Int?,
        responseTime: Int?,
        activeTime: Int?,
        status: Int,
        bytesRead: UInt64,
        termination: TerminationState = .normal,
        processConnections: Int,
        frontendConnections: Int,
        backendConnections: Int,
        serverConnections: Int,
        retries: Int = 0,
        redispatched: Bool = false,
        serverQueue: Int = 0,
        backendQueue: Int = 0,
        requestLine: RequestLine?
    ) {
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.requestDate = requestDate
        self.frontend = frontend
        self.backend = backend
        self.server = server
        self.requestTime = requestTime
        self.queueTime = queueTime
        self.connectTime = connectTime
        self.responseTime = responseTime
        self.activeTime = activeTime
        self.status = status
        self.bytesRead = bytesRead
        self.termination = termination
        self.processConnections = processConnections
        self.frontendConnections = frontendConnections
        self.backendConnections = backendConnections
        self.serverConnections = serverConnections
        self.retries = retries
        self.redispatched = redispatched
        self.serverQueue = serverQueue
        self.backendQueue = backendQueue
        self.requestLine = requestLine
    }

    /// The line in HAProxy's exact `option httplog` format (manual §8.2.3), without captures:
    /// `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r`
    /// e.g. `10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ----
    /// 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"`.
    public var text: String {
        var line = LogBytes(capacity: 200 + (requestLine?.target.utf8.count ?? 0))
        self.write(to: &line)
        return line.text
    }

    /// Appends the line (as `text`) to `line`: once per logged request, straight into the datagram's bytes.
    public func write(to line: inout LogBytes) {
        self.writeSource(to: &line)
        Self.appendTimer(requestTime, to: &line)
        line.append(byte: UInt8(ascii: "/"))
        Self.appendTimer(queueTime, to: &line)
        line.append(byte: UInt8(ascii: "/"))
        Self.appendTimer(connectTime, to: &line)
        line.append(byte: UInt8(ascii: "/"))
        Self.appendTimer(responseTime, to: &line)
        line.append(byte: UInt8(ascii: "/"))
        Self.appendTimer(activeTime, to: &line)
        line.append(byte: UInt8(ascii: " "))
        line.append(status)
        line.append(byte: UInt8(ascii: " "))
        line.append(Int(clamping: bytesRead))
        line.append(" - - " as StaticString)
        self.writeCounters(to: &line, cookieFlags: true)
        line.append(" \"" as StaticString)
        if let requestLine {
            Self.appendEscaped(requestLine.method, to: &line)
            line.append(byte: UInt8(ascii: " "))
            Self.appendEscaped(requestLine.target, to: &line)
            line.append(" HTTP/" as StaticString)
            line.append(requestLine.major)
            line.append(byte: UInt8(ascii: "."))
            line.append(requestLine.minor)
        } else {
            line.append("<BADREQ>" as StaticString)
        }
        line.append(byte: UInt8(ascii: "\""))
    }

    /// The line in HAProxy's `option tcplog` format (manual §8.2.2), for a `mode tcp` session:
    /// `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`, e.g.
    /// `10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0`.
    /// `requestDate` is the accept date there, `activeTime` the session's total time (Tt) and `bytesRead`
    /// the bytes sent to the client; the HTTP-only fields are not printed.
    public var tcpLogText: String {
        var line = LogBytes(capacity: 160)
        self.writeTCPLog(to: &line)
        return line.text
    }

    /// Appends the tcplog line (as `tcpLogText`) to `line`.
    public func writeTCPLog(to line: inout LogBytes) {
        self.writeSource(to: &line)
        Self.appendTimer(queueTime, to: &line)
        line.append(byte: UInt8(ascii: "/"))
        Self.appendTimer(connectTime, to: &line)
        line.append(byte: UInt8(ascii: "/"))
        Self.appendTimer(activeTime, to: &line)
        line.append(byte: UInt8(ascii: " "))
        line.append(Int(clamping: bytesRead))
        line.append(byte: UInt8(ascii: " "))
        self.writeCounters(to: &line, cookieFlags: false)
    }

    /// A timer in milliseconds; -1 for a stage not reached, as HAProxy prints it.
    private static func appendTimer(_ value: Int?, to line: inout LogBytes) {
        if let value { line.append(value) } else { line.append("-1" as StaticString) }
    }

    /// `%ci:%cp [%tr] %ft %b/%s `, shared by both formats.
    private func writeSource(to line: inout LogBytes) {
        line.append(clientIP)
        line.append(byte: UInt8(ascii: ":"))
        line.append(clientPort)
        line.append(" [" as StaticString)
        requestDate.writeHTTPLogFormat(to: &line)
        line.append("] " as StaticString)
        line.append(frontend)
        line.append(byte: UInt8(ascii: " "))
        line.append(backend)
        line.append(byte: UInt8(ascii: "/"))
        if let server { line.append(server) } else { line.append("<NOSRV>" as StaticString) }
        line.append(byte: UInt8(ascii: " "))
    }

    /// `%tsc %ac/%fc/%bc/%sc/%rc %sq/%bq`, shared by both formats (tcplog's `%ts` is the same two letters
    /// without the cookie flags).
    private func writeCounters(to line: inout LogBytes, cookieFlags: Bool) {
        line.append(byte: termination.causeByte)
        line.append(byte: termination.phaseByte)
        line.append(cookieFlags ? "-- " as StaticString : " " as StaticString)
        line.append(processConnections)
        line.append(byte: UInt8(ascii: "/"))
        line.append(frontendConnections)
        line.append(byte: UInt8(ascii: "/"))
        line.append(backendConnections)
        line.append(byte: UInt8(ascii: "/"))
        line.append(serverConnections)
        line.append(redispatched ? "/+" as StaticString : "/" as StaticString)
        line.append(retries)
        line.append(byte: UInt8(ascii: " "))
        line.append(serverQueue)
        line.append(byte: UInt8(ascii: "/"))
        line.append(backendQueue)
    }

    /// HAProxy's log escaping for the request line: control characters, bytes ≥ 127, `"` and `#`
    /// become `#XX` (upper-case hex), so a line can never be split or unbalanced by a client.
    static func escape(_ text: String) -> String {
        var escaped = LogBytes(capacity: text.utf8.count)
        Self.appendEscaped(text, to: &escaped)
        return escaped.text
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func appendEscaped(_ text: String, to escaped: inout LogBytes) {
        // Nothing to escape (the usual request line): one append.
        if !text.utf8.contains(where: Self.needsEscape) {
            escaped.append(text)
            return
        }
        for byte in text.utf8 {
            if Self.needsEscape(byte) {
                escaped.append(byte: UInt8(ascii: "#"))
                escaped.append(byte: Self.hexDigits[Int(byte >> 4)])
                escaped.append(byte: Self.hexDigits[Int(byte & 0x0F)])
            } else {
                escaped.append(byte: byte)
            }
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 32 || byte >= 127 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "#")
    }
}

/// A request line for the log (`GET /index.html HTTP/1.1`), kept as its parts: the line itself is only
/// put together in the log's bytes, with no string built for it per request.
public struct RequestLine: Sendable, Equatable {
    public var method: String
    public var target: String
    public var major: Int
    public var minor: Int

    public init(method: String, target: String, major: Int = 1, minor: Int = 1) {
        self.method = method
        self.target = target
        self.major = major
        self.minor = minor
    }
}
