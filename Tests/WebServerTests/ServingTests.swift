import Foundation
import Testing
import WebServer

@Suite("portico web serves the seed's backend files over real sockets")
struct ServingTests {
    @Test func indexIsServedForSlash() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/")
            let response = try connection.readResponse()
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.bodyText == "web01\n")
            #expect(response.header("Content-Type") == "text/html")
            #expect(response.header("Content-Length") == "6")
            #expect(response.header("Server") == "portico")
            #expect(response.header("Connection") == "keep-alive")
            #expect(response.header("Date")?.hasSuffix(" GMT") == true)
        }
    }

    @Test func healthReturnsItsFileBody() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/health")
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyText == "ok\n")
            // nginx's default_type for a name without extension.
            #expect(response.header("Content-Type") == "application/octet-stream")
        }
    }

    @Test func missingFileIs404WithNginxLikePageAndKeepsTheConnection() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/nope.html")
            let response = try connection.readResponse()
            #expect(response.statusLine == "HTTP/1.1 404 Not Found")
            #expect(response.header("Content-Type") == "text/html")
            #expect(response.bodyText.contains("<head><title>404 Not Found</title></head>"))
            #expect(response.bodyText.contains("<center><h1>404 Not Found</h1></center>"))
            #expect(response.header("Content-Length") == String(response.body.count))
            try connection.request("GET", "/health")
            #expect(try connection.readResponse().bodyText == "ok\n")
        }
    }

    @Test func headSendsHeadersOnly() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/")
            let get = try connection.readResponse()
            try connection.request("HEAD", "/")
            let head = try connection.readResponse(bodyExpected: false)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "6")
            #expect(head.header("ETag") == get.header("ETag"))
            #expect(head.header("Last-Modified") == get.header("Last-Modified"))
            // Had a body followed the HEAD response, this next response would not parse as one.
            try connection.request("GET", "/health")
            let next = try connection.readResponse()
            #expect(next.statusLine == "HTTP/1.1 200 OK")
            #expect(next.bodyText == "ok\n")
        }
    }

    @Test(arguments: [
        ("page.html", "text/html"), ("style.css", "text/css"), ("app.js", "application/javascript"),
        ("data.json", "application/json"), ("note.txt", "text/plain"), ("logo.png", "image/png"),
        ("photo.jpg", "image/jpeg"), ("photo.JPEG", "image/jpeg"), ("icon.svg", "image/svg+xml"),
        ("favicon.ico", "image/x-icon"), ("archive.unknown", "application/octet-stream"),
        ("blob", "application/octet-stream"),
    ])
    func contentTypeFollowsTheExtension(file: String, type: String) async throws {
        try await TestSite.withServer { site, _, port in
            try site.write([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff], to: file)
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/" + file)
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == type)
            #expect(response.body == [0x89, 0x50, 0x4e, 0x47, 0x00, 0xff])
        }
    }

    @Test func directoryWithoutSlashRedirectsAndWithSlashServesItsIndex() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/sub?x=1")
            let redirect = try connection.readResponse()
            #expect(redirect.statusLine == "HTTP/1.1 301 Moved Permanently")
            #expect(redirect.header("Location") == "/sub/?x=1")
            try connection.request("GET", "/sub/")
            #expect(try connection.readResponse().bodyText == "sub\n")
            try connection.request("GET", "/empty/")
            #expect(try connection.readResponse().status == 403)
        }
    }

    @Test func redirectLocationIsPercentEncodedSoNamesCannotInjectHeaders() async throws {
        try await TestSite.withServer { site, _, port in
            try FileManager.default.createDirectory(
                atPath: site.root + "/evil\r\nSet-Cookie: a=b", withIntermediateDirectories: false
            )
            try FileManager.default.createDirectory(atPath: site.root + "/a b", withIntermediateDirectories: false)
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/evil%0d%0aSet-Cookie:%20a=b")
            let evil = try connection.readResponse()
            #expect(evil.status == 301)
            #expect(evil.header("Location") == "/evil%0D%0ASet-Cookie:%20a=b/")
            #expect(evil.header("Set-Cookie") == nil)
            try connection.request("GET", "/a%20b")
            #expect(try connection.readResponse().header("Location") == "/a%20b/")
        }
    }

    @Test func otherMethodsAre405AndTheirBodyIsSkipped() async throws {
        try await TestSite.withServer { _, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
            let post = try connection.readResponse()
            #expect(post.statusLine == "HTTP/1.1 405 Not Allowed")
            for method in ["PUT", "DELETE", "OPTIONS"] {
                try connection.request(method, "/")
                #expect(try connection.readResponse().status == 405)
            }
            try connection.request("GET", "/")
            #expect(try connection.readResponse().bodyText == "web01\n")
        }
    }

    @Test func largeFilesAreSentFromDiskIntact() async throws {
        try await TestSite.withServer(maxCachedFileSize: 4096) { site, _, port in
            let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            try site.write(bytes, to: "big.bin")
            let connection = try RawHTTPConnection(port: port)
            for _ in 0..<2 {
                try connection.request("GET", "/big.bin")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                #expect(response.header("Content-Length") == String(bytes.count))
                #expect(response.body == bytes)
            }
        }
    }

    @Test func startReportsTheEphemeralPortAndStopClosesIdleConnections() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let server = WebServer(
            configuration: .init(root: site.root, listen: [.init(host: "127.0.0.1", port: 0)])
        )
        let addresses = try await server.start()
        let port = try #require(addresses.first?.port)
        #expect(port > 0)
        #expect(server.localAddresses.first?.port == port)
        let connection = try RawHTTPConnection(port: port)
        try connection.request("GET", "/")
        #expect(try connection.readResponse().status == 200)
        await server.stop()
        #expect(connection.isClosedByServer())
        #expect(throws: (any Error).self) { try RawHTTPConnection(port: port) }
    }

    @Test func idleKeepAliveConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let server = WebServer(
            configuration: .init(
                root: site.root, listen: [.init(host: "127.0.0.1", port: 0)], idleTimeout: .milliseconds(300)
            )
        )
        let port = try #require(try await server.start().first?.port)
        let connection = try RawHTTPConnection(port: port, timeoutSeconds: 3)
        try connection.request("GET", "/")
        #expect(try connection.readResponse().status == 200)
        #expect(connection.isClosedByServer())
        await server.stop()
    }

    @Test func everyListenAddressServes() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let server = WebServer(
            configuration: .init(
                root: site.root, listen: [.init(host: "127.0.0.1", port: 0), .init(host: "127.0.0.1", port: 0)]
            )
        )
        let ports = try await server.start().compactMap(\.port)
        #expect(ports.count == 2)
        #expect(Set(ports).count == 2)
        for port in ports {
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/health")
            #expect(try connection.readResponse().bodyText == "ok\n")
        }
        await server.stop()
        #expect(server.localAddresses.isEmpty)
    }

    @Test func takenPortIsAnErrorNamingTheAddress() async throws {
        try await TestSite.withServer { site, _, port in
            let second = WebServer(
                configuration: .init(root: site.root, listen: [.init(host: "127.0.0.1", port: port)])
            )
            let error = await #expect(throws: WebServerError.self) { try await second.start() }
            #expect(error.map { "\($0)" }?.contains("127.0.0.1:\(port)") == true)
            // The failed start left the first server alone.
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/health")
            #expect(try connection.readResponse().bodyText == "ok\n")
        }
    }

    @Test func missingRootIsAnErrorNamingIt() async throws {
        let server = WebServer(
            configuration: .init(root: "/nonexistent/portico-root", listen: [.init(host: "127.0.0.1", port: 0)])
        )
        let error = await #expect(throws: WebServerError.self) { try await server.start() }
        #expect(error.map { "\($0)" }?.contains("/nonexistent/portico-root") == true)
    }
}
