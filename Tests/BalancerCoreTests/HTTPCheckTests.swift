import Testing

@testable import BalancerCore

@Suite("HTTP checks")
struct HTTPCheckTests {
    @Test("request bytes match what HAProxy 2.6 sends")
    func requestBytes() {
        // Captured from haproxy 2.6.12 on loopback.
        let seed = HTTPCheckRequest(method: "GET", uri: "/health")
        #expect(String(decoding: seed.bytes(), as: UTF8.self) == "GET /health HTTP/1.0\r\n\r\n")
        #expect(String(decoding: HTTPCheckRequest().bytes(), as: UTF8.self) == "OPTIONS / HTTP/1.0\r\n\r\n")
        let withHeaders = HTTPCheckRequest(
            method: "GET",
            uri: "/health",
            version: "HTTP/1.1",
            headers: [.init("Host", "www.example.com"), .init("User-Agent", "portico")]
        )
        #expect(
            String(decoding: withHeaders.bytes(host: "10.0.0.1:80"), as: UTF8.self)
                == "GET /health HTTP/1.1\r\nhost: www.example.com\r\nuser-agent: portico\r\nconnection: close\r\n\r\n"
        )
        let post = HTTPCheckRequest(
            method: "POST",
            uri: "/h",
            version: "HTTP/1.1",
            headers: [.init("Host", "a")],
            body: "ping"
        )
        #expect(
            String(decoding: post.bytes(), as: UTF8.self)
                == "POST /h HTTP/1.1\r\nhost: a\r\ncontent-length: 4\r\nconnection: close\r\n\r\nping"
        )
        let http10 = HTTPCheckRequest(method: "GET", uri: "/h", headers: [.init("X-A", "1")])
        #expect(String(decoding: http10.bytes(host: "ignored"), as: UTF8.self) == "GET /h HTTP/1.0\r\nx-a: 1\r\n\r\n")
    }

    @Test("deprecated headers hidden in the version string are sent as headers, as haproxy 2.6 does")
    func legacyVersionHeaders() {
        let request = HTTPCheckRequest(method: "HEAD", uri: "/index.jsp", version: "HTTP/1.1\r\nHost: www.xxx.com")
        #expect(request.version == "HTTP/1.1")
        #expect(
            String(decoding: request.bytes(), as: UTF8.self)
                == "HEAD /index.jsp HTTP/1.1\r\nhost: www.xxx.com\r\nconnection: close\r\n\r\n"
        )
        let two = HTTPCheckRequest(method: "GET", uri: "/h", version: "HTTP/1.0\r\nHost: a\r\nX-Y: z")
        #expect(String(decoding: two.bytes(), as: UTF8.self) == "GET /h HTTP/1.0\r\nhost: a\r\nx-y: z\r\n\r\n")
    }

    @Test("HTTP/1.1 without a configured Host gets the server address (RFC 9112 §3.2)")
    func hostFallback() {
        let request = HTTPCheckRequest(method: "GET", uri: "/health", version: "HTTP/1.1")
        #expect(
            String(decoding: request.bytes(host: "192.168.10.21:80"), as: UTF8.self)
                == "GET /health HTTP/1.1\r\nhost: 192.168.10.21:80\r\nconnection: close\r\n\r\n"
        )
        #expect(
            String(decoding: request.bytes(), as: UTF8.self) == "GET /health HTTP/1.1\r\nconnection: close\r\n\r\n"
        )
    }

    private func verdict(
        _ expectation: HTTPCheckExpectation?,
        _ status: Int?,
        _ reason: String = "",
        body: String? = nil
    ) -> CheckReport {
        HTTPCheckVerdict.evaluate(
            expectation: expectation,
            status: status,
            reason: reason,
            body: body.map { Array($0.utf8) },
            duration: .milliseconds(1)
        )
    }

    @Test("expect status: the seed's `http-check expect status 200`")
    func expectStatus() throws {
        let seed = HTTPCheckExpectation.status(200)
        #expect(verdict(seed, 200, "OK").status == .layer7Passed)
        let wrong = verdict(seed, 503, "Service Unavailable")
        #expect(wrong.status == .layer7WrongStatus)
        #expect(wrong.code == 503)
        #expect(
            wrong.logDetail
                == "reason: Layer7 wrong status, code: 503, info: \"Service Unavailable\", check duration: 1ms"
        )
        #expect(verdict(seed, 204).status == .layer7WrongStatus)
        let ranges = try HTTPCheckExpectation(.status([200...299, 304...304]))
        #expect(verdict(ranges, 304).status == .layer7Passed)
        #expect(verdict(ranges, 301).status == .layer7WrongStatus)
        let negated = try HTTPCheckExpectation(.status([503...503]), negated: true)
        #expect(verdict(negated, 200).status == .layer7Passed)
        #expect(verdict(negated, 503).status == .layer7WrongStatus)
    }

    @Test("no expect: 2xx and 3xx pass")
    func defaultExpectation() {
        #expect(verdict(nil, 200).status == .layer7Passed)
        #expect(verdict(nil, 302).status == .layer7Passed)
        #expect(verdict(nil, 404, "Not Found").status == .layer7WrongStatus)
        #expect(verdict(nil, 500).logDetail == "reason: Layer7 wrong status, code: 500, check duration: 1ms")
    }

    @Test("rstatus regex")
    func expectStatusPattern() throws {
        let expectation = try HTTPCheckExpectation(.statusPattern("^2"))
        #expect(verdict(expectation, 204).status == .layer7Passed)
        #expect(verdict(expectation, 302).status == .layer7WrongStatus)
        let negated = try HTTPCheckExpectation(.statusPattern("^2"), negated: true)
        #expect(
            verdict(negated, 200, "OK").logDetail
                == "reason: Layer7 wrong status, code: 200, info: \"OK\", check duration: 1ms"
        )
        #expect(throws: CheckPatternError.self) { try HTTPCheckExpectation(.statusPattern("(")) }
    }

    @Test("string / rstring on the body, with HAProxy's info texts")
    func expectBody() throws {
        let string = try HTTPCheckExpectation(.string("OK"))
        #expect(verdict(string, 200, body: "all OK\n").status == .layer7Passed)
        #expect(
            verdict(string, 200, body: "nope").logDetail
                == "reason: Layer7 invalid response, info: \"HTTP content check did not match\", check duration: 1ms"
        )
        #expect(
            verdict(string, 200, body: nil).logDetail
                == "reason: Layer7 invalid response, info: \"HTTP content check could not find a response body\", "
                + "check duration: 1ms"
        )
        let unwanted = try HTTPCheckExpectation(.string("maintenance"), negated: true)
        #expect(verdict(unwanted, 200, body: "fine").status == .layer7Passed)
        #expect(verdict(unwanted, 200, body: "in maintenance").info == "HTTP check matched unwanted content")
        let pattern = try HTTPCheckExpectation(.bodyPattern("^status: (up|ok)$"))
        #expect(verdict(pattern, 200, body: "status: ok").status == .layer7Passed)
        #expect(verdict(pattern, 200, body: "status: down").status == .layer7InvalidResponse)
    }

    @Test("a response that is not HTTP is an invalid response")
    func notHTTP() {
        #expect(verdict(.status(200), nil).logDetail == "reason: Layer7 invalid response, check duration: 1ms")
    }

    @Test("L4 and socket failures are worded as HAProxy words them")
    func failureTexts() {
        #expect(
            CheckReport.connectionRefused().logDetail
                == "reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms"
        )
        #expect(
            CheckReport.responseTimeout(duration: .milliseconds(401)).logDetail
                == "reason: Layer7 timeout, check duration: 401ms"
        )
        #expect(
            CheckReport.connectTimeout(duration: .milliseconds(2001)).logDetail
                == "reason: Layer4 timeout, check duration: 2001ms"
        )
        #expect(
            CheckReport.connectionReset(duration: .milliseconds(1)).logDetail
                == "reason: Socket error, info: \"Connection reset by peer\", check duration: 1ms"
        )
    }
}
