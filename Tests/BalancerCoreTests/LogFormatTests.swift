import Testing

@testable import BalancerCore

@Suite("Log formats")
struct LogFormatTests {
    @Test("dates from Unix time, including leap days, offsets and times before 1970")
    func timestamps() {
        let manual = LogTimestamp(unixMilliseconds: 1_233_922_454_655)
        #expect(
            manual == LogTimestamp(year: 2009, month: 2, day: 6, hour: 12, minute: 14, second: 14, millisecond: 655)
        )
        #expect(manual.httpLogFormat == "06/Feb/2009:12:14:14.655")
        #expect(manual.syslogFormat == "Feb  6 12:14:14")
        let leap = LogTimestamp(unixMilliseconds: 1_709_251_199_999)
        #expect(leap.httpLogFormat == "29/Feb/2024:23:59:59.999")
        // UTC+8 (the seed's machines are in China): one millisecond later is March 1st, 08:00 local.
        #expect(
            LogTimestamp(unixMilliseconds: 1_709_251_200_000, utcOffsetSeconds: 8 * 3600).httpLogFormat
                == "01/Mar/2024:08:00:00.000"
        )
        #expect(LogTimestamp(unixMilliseconds: -999).httpLogFormat == "31/Dec/1969:23:59:59.001")
    }

    @Test("tcplog line equals the one haproxy 2.6 logged for the same mode tcp session")
    func tcplogMatchesHAProxy() {
        // Captured from haproxy 2.6.12 (`option tcplog`, `log stdout format raw`): a session through
        // `frontend fnt` to an echo server that greets with 6 bytes, then echoes 8.
        let entry = HTTPLogEntry(
            clientIP: "127.0.0.1", clientPort: 33786,
            requestDate: LogTimestamp(year: 2026, month: 11, day: 26, hour: 13, minute: 51, second: 24, millisecond: 658),
            frontend: "fnt", backend: "bck", server: "srv1", requestTime: nil, queueTime: 1, connectTime: 0,
            responseTime: nil, activeTime: 208, status: -1, bytesRead: 14, processConnections: 1,
            frontendConnections: 1, backendConnections: 0, serverConnections: 0, requestLine: nil)
        #expect(entry.tcpLogText == "127.0.0.1:33786 [26/Nov/2026:13:51:24.658] fnt bck/srv1 1/0/208 14 -- 1/1/0/0/0 0/0")
        var failed = entry
        failed.server = nil
        failed.connectTime = nil
        failed.termination = TerminationState("SC")
        failed.retries = 3
        failed.redispatched = true
        #expect(failed.tcpLogText.hasSuffix(" bck/<NOSRV> 1/-1/208 14 SC 1/1/0/0/+3 0/0"))
    }

    @Test("httplog line equals the one haproxy 2.6 logged for the same request")
    func httplogMatchesHAProxy() {
        // Captured from haproxy 2.6.12: curl through `frontend web_entry` to web01.
        let entry = HTTPLogEntry(
            clientIP: "127.0.0.1",
            clientPort: 43816,
            requestDate: LogTimestamp(
                year: 2026,
                month: 11,
                day: 26,
                hour: 6,
                minute: 48,
                second: 44,
                millisecond: 859
            ),
            frontend: "web_entry",
            backend: "web_backend",
            server: "web01",
            requestTime: 0,
            queueTime: 0,
            connectTime: 0,
            responseTime: 4,
            activeTime: 4,
            status: 200,
            bytesRead: 52,
            processConnections: 1,
            frontendConnections: 1,
            backendConnections: 0,
            serverConnections: 0,
            requestLine: RequestLine(method: "GET", target: "/x?y=1")
        )
        #expect(
            entry.text
                == "127.0.0.1:43816 [26/Nov/2026:06:48:44.859] web_entry web_backend/web01 0/0/0/4/4 200 52 - - ---- "
                + "1/1/0/0/0 0/0 \"GET /x?y=1 HTTP/1.1\""
        )
    }

    @Test("httplog line of the manual's example (§8.2.3), without captures")
    func manualExample() {
        let entry = HTTPLogEntry(
            clientIP: "10.0.1.2",
            clientPort: 33317,
            requestDate: LogTimestamp(unixMilliseconds: 1_233_922_454_655),
            frontend: "http-in",
            backend: "static",
            server: "srv1",
            requestTime: 10,
            queueTime: 0,
            connectTime: 30,
            responseTime: 69,
            activeTime: 109,
            status: 200,
            bytesRead: 2750,
            processConnections: 1,
            frontendConnections: 1,
            backendConnections: 1,
            serverConnections: 1,
            requestLine: RequestLine(method: "GET", target: "/index.html")
        )
        #expect(
            entry.text
                == "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- "
                + "1/1/1/1/0 0/0 \"GET /index.html HTTP/1.1\""
        )
    }

    @Test("no server, unreached timers, redispatch, termination state and a bad request")
    func failures() {
        var entry = HTTPLogEntry(
            clientIP: "192.168.10.5",
            clientPort: 50000,
            requestDate: LogTimestamp(year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5, millisecond: 6),
            frontend: "web_entry",
            backend: "web_backend",
            server: nil,
            requestTime: 0,
            queueTime: 0,
            connectTime: nil,
            responseTime: nil,
            activeTime: 3002,
            status: 503,
            bytesRead: 217,
            termination: TerminationState(RetryDecision.failTermination(.fail(status: 503, termination: "SC"))),
            processConnections: 3,
            frontendConnections: 3,
            backendConnections: 2,
            serverConnections: 0,
            retries: 3,
            redispatched: true,
            requestLine: RequestLine(method: "GET", target: "/")
        )
        #expect(
            entry.text
                == "192.168.10.5:50000 [02/Jan/2026:03:04:05.006] web_entry web_backend/<NOSRV> 0/0/-1/-1/3002 503 217 "
                + "- - SC-- 3/3/2/0/+3 0/0 \"GET / HTTP/1.1\""
        )
        entry.requestLine = nil
        entry.termination = TerminationState(cause: "P", phase: "R")
        #expect(entry.text.hasSuffix(" PR-- 3/3/2/0/+3 0/0 \"<BADREQ>\""))
    }

    @Test("request lines are escaped as HAProxy does: quotes, # and control bytes")
    func escaping() {
        // haproxy 2.6 logged `"GET /a%22b?q=#22x#22 HTTP/1.1"` for a raw `"x"` in the query.
        #expect(HTTPLogEntry.escape("GET /a%22b?q=\"x\" HTTP/1.1") == "GET /a%22b?q=#22x#22 HTTP/1.1")
        #expect(HTTPLogEntry.escape("GET /#frag\u{1}\u{7F} HTTP/1.1") == "GET /#23frag#01#7F HTTP/1.1")
        #expect(HTTPLogEntry.escape("GET /é HTTP/1.1") == "GET /#C3#A9 HTTP/1.1")
    }

    @Test("RFC 3164 framing matches haproxy's datagram for `log 127.0.0.1 local2`")
    func syslog() {
        let line =
            "127.0.0.1:59728 [26/Nov/2026:06:58:06.836] web_entry web_backend/web01 0/0/0/1/1 200 52 - - ---- "
            + "1/1/0/0/0 0/0 \"GET /a%22b?q=#22x#22 HTTP/1.1\""
        let message = SyslogMessage(
            facility: .local2,
            level: .info,
            timestamp: LogTimestamp(unixMilliseconds: 1_795_676_286_836),
            pid: 25110,
            message: line
        )
        #expect(message.priority == 150)
        #expect(String(decoding: message.bytes(), as: UTF8.self) == "<150>Nov 26 06:58:06 haproxy[25110]: \(line)\n")
        #expect(SyslogFacility(name: "local2") == .local2)
        #expect(SyslogFacility(name: "local8") == nil)
        let alert = SyslogMessage(
            facility: .local0,
            level: .emergency,
            timestamp: LogTimestamp(year: 2026, month: 3, day: 9, hour: 1, minute: 2, second: 3),
            pid: 7,
            hostname: "lb01",
            message: "backend web_backend has no server available!"
        )
        #expect(
            String(decoding: alert.bytes(), as: UTF8.self)
                == "<128>Mar  9 01:02:03 lb01 haproxy[7]: backend web_backend has no server available!\n"
        )
        // Truncated to `len`, newline included.
        let long = SyslogMessage(
            facility: .user,
            level: .notice,
            timestamp: alert.timestamp,
            pid: 1,
            message: String(repeating: "x", count: 2000)
        )
        #expect(long.bytes(maxLength: 100).count == 100)
        #expect(long.bytes(maxLength: 100).last == UInt8(ascii: "\n"))
    }

    @Test("counters add up across event loops")
    func counters() {
        var loopA = TrafficCounters()
        var loopB = TrafficCounters()
        loopA.sessionOpened()
        loopA.sessionOpened()
        loopA.sessionClosed()
        loopA.recordResponse(status: 200)
        loopA.recordResponse(status: 503)
        loopB.sessionOpened()
        loopB.recordResponse(status: 204)
        loopB.recordResponse(status: 99)
        loopB.bytesOut = 10
        loopA.bytesOut = 5
        loopB.retries = 2
        loopB.redispatches = 1
        let total = loopA + loopB
        #expect(total.currentSessions == 2)
        #expect(total.totalSessions == 3)
        #expect(total.maxSessions == 3)
        #expect(total.responses(class: 2) == 2)
        #expect(total.responses(class: 5) == 1)
        #expect(total.responses(class: 0) == 1)
        #expect(total.bytesOut == 15)
        #expect(total.retries == 2 && total.redispatches == 1)
    }

    @Test("check counters for the stats page")
    func checkCounters() {
        var state = seedBackend()
        _ = state.checkCompleted(
            server: 0,
            CheckReport(status: .layer7Passed, code: 200, duration: .milliseconds(3)),
            now: .seconds(1)
        )
        for second in [3, 5, 7] {
            _ = state.checkCompleted(server: 1, .connectionRefused(), now: .seconds(second))
        }
        let web01 = state.servers[0].checkCounters(at: .seconds(10))
        #expect(web01.status == "UP")
        #expect(web01.checkStatus == "L7OK")
        #expect(web01.checkCode == 200)
        #expect(web01.checkDurationMilliseconds == 3)
        let web02 = state.servers[1].checkCounters(at: .seconds(10))
        #expect(web02.status == "DOWN")
        #expect(web02.checkStatus == "L4CON")
        // Initial UP 1/3: the first failure takes it DOWN; failures while fully DOWN are not counted.
        #expect(web02.failedChecks == 1)
        #expect(web02.downTransitions == 1)
        #expect(web02.secondsSinceChange == 7)
        #expect(web02.downtimeSeconds == 7)
        let unchecked = BackendState(name: "b", servers: [ServerSettings(name: "s")]).servers[0].checkCounters(
            at: .zero
        )
        #expect(unchecked.status == "no check" && unchecked.checkStatus == "")
    }
}

extension RetryDecision {
    /// The termination letters of a `.fail` decision (test helper).
    static func failTermination(_ decision: RetryDecision) -> String {
        if case .fail(_, let termination) = decision { return termination }
        return "--"
    }
}
