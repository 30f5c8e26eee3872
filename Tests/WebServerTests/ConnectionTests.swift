import Testing
import WebServer

@Suite("keep-alive, malformed requests and traversal over real sockets")
struct ConnectionTests {
    @Test func oneConnectionCarriesSeveralRequests() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            for _ in 0..<5 {
                try connection.request("GET", "/")
                let response = try connection.readResponse()
                #expect(response.bodyText == "web01\n")
                #expect(response.header("Connection") == "keep-alive")
            }
            // Pipelined: three requests in one write, answered in order.
            try connection.send(
                "GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            #expect(try connection.readResponse().bodyText == "ok\n")
            #expect(try connection.readResponse().bodyText == "web01\n")
            #expect(try connection.readResponse(bodyExpected: false).header("Content-Length") == "3")
        }
    }

    @Test func http10KeepsAliveOnlyWhenAsked() async throws {
        try await TestSite.withServer { _, _, port in
            let kept = try RawHTTPConnection(port: port)
            try kept.request("GET", "/", headers: ["Connection: keep-alive"], version: "HTTP/1.0")
            #expect(try kept.readResponse().header("Connection") == "keep-alive")
            try kept.request("GET", "/health", headers: ["Connection: keep-alive"], version: "HTTP/1.0")
            #expect(try kept.readResponse().bodyText == "ok\n")

            let closed = try RawHTTPConnection(port: port)
            try closed.request("GET", "/", version: "HTTP/1.0")
            let response = try closed.readResponse()
            #expect(response.bodyText == "web01\n")
            #expect(response.header("Connection") == "close")
            #expect(closed.isClosedByServer())
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/", headers: ["Connection: close"])
            #expect(try connection.readResponse().header("Connection") == "close")
            #expect(connection.isClosedByServer())
        }
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",  // HTTP/1.1 without Host (RFC 9112 §3.2)
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
    ])
    func malformedRequestGets400AndCloseWhileOthersAreUnaffected(request: String) async throws {
        try await TestSite.withServer { _, _, port in
            let bystander = try RawHTTPConnection(port: port)
            try bystander.request("GET", "/")
            #expect(try bystander.readResponse().status == 200)

            let offender = try RawHTTPConnection(port: port)
            try offender.send(request)
            let response = try offender.readResponse()
            #expect(response.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(response.header("Connection") == "close")
            #expect(response.bodyText.contains("<center><h1>400 Bad Request</h1></center>"))
            #expect(offender.isClosedByServer())

            try bystander.request("GET", "/health")
            #expect(try bystander.readResponse().bodyText == "ok\n")
            let newcomer = try RawHTTPConnection(port: port)
            try newcomer.request("GET", "/")
            #expect(try newcomer.readResponse().bodyText == "web01\n")
        }
    }

    @Test func oversizedHeadersGet400() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            let huge = String(repeating: "a", count: 100 * 1024)
            try connection.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(huge)\r\n\r\n")
            #expect(try connection.readResponse().status == 400)
            #expect(connection.isClosedByServer())
        }
    }

    @Test func largeRequestBodyIsDrainedAndTheConnectionGoesOn() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            let body = String(repeating: "x", count: 1 << 20)
            try connection.send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(try connection.readResponse().status == 405)
            try connection.request("GET", "/")
            #expect(try connection.readResponse().bodyText == "web01\n")
        }
    }

    @Test(arguments: [
        ("/../secret.txt", 400),
        ("/sub/../../secret.txt", 400),
        ("/%2e%2e/secret.txt", 400),
        ("/%2E%2E%2Fsecret.txt", 400),
        ("/sub/..%2f..%2fsecret.txt", 400),
        ("/index.html%00.txt", 400),
        ("/%zz", 400),
        ("/..\\secret.txt", 404),
        ("/sub\\..\\..\\secret.txt", 404),
        ("/escape", 403),
        ("/sub/escape-dir/secret.txt", 403),
    ])
    func traversalIsRefused(target: String, status: Int) async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", target)
            let response = try connection.readResponse()
            #expect(response.status == status)
            #expect(!response.bodyText.contains(TestSite.secretText))
        }
    }

    @Test(arguments: ["/inside", "/sub/../index.html", "/./index.html", "//index.html", "/%69ndex.html"])
    func harmlessPathsInsideTheRootAreServed(target: String) async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", target)
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyText == "web01\n")
        }
    }
}
