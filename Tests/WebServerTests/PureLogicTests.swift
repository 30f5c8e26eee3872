import NIOHTTP1
import Testing

@testable import WebServer

@Suite("request target decoding, validators, dates, types, listen addresses")
struct PureLogicTests {
    @Test(arguments: [
        ("/", [], true),
        ("/index.html", ["index.html"], false),
        ("/sub/", ["sub"], true),
        ("/a/./b//c", ["a", "b", "c"], false),
        ("/a/b/..", ["a"], true),
        ("/a/%2e%2e/b", ["b"], false),
        ("/sub%2Findex.html", ["sub", "index.html"], false),
        ("/caf%C3%A9.txt?x=/../..", ["café.txt"], false),
        ("http://web01/health", ["health"], false),
        ("HTTP://web01", [], true),
    ] as [(String, [String], Bool)])
    func targetsInsideTheRootDecode(uri: String, segments: [String], isDirectory: Bool) throws {
        let target = try RequestTarget.parse(uri)
        #expect(target.segments == segments)
        #expect(target.isDirectory == isDirectory)
    }

    @Test(arguments: [
        ("/..", RequestTarget.Rejection.badRequest),
        ("/a/../../b", .badRequest),
        ("/%2e%2e%2f", .badRequest),
        ("/%2", .badRequest),
        ("/%g0", .badRequest),
        ("/a%00b", .badRequest),
        ("index.html", .badRequest),
        ("*", .badRequest),
        ("ftp://host/x", .badRequest),
        ("/a\\b", .notFound),
        ("/%5c..%5cetc", .notFound),
        ("/%ff", .notFound),
    ])
    func targetsOutsideTheRootOrMalformedAreRejected(uri: String, rejection: RequestTarget.Rejection) {
        #expect(throws: rejection) { try RequestTarget.parse(uri) }
    }

    @Test func queryIsKeptForRedirects() throws {
        let target = try RequestTarget.parse("/sub?a=1&b=2")
        #expect(target.query == "a=1&b=2")
        #expect(target.path == "/sub")
    }

    @Test func locationEncoding() {
        #expect(RequestTarget.percentEncoded("/a b/é/") == "/a%20b/%C3%A9/")
        #expect(RequestTarget.percentEncoded("/x\r\ny%") == "/x%0D%0Ay%25")
        #expect(RequestTarget.percentEncoded("a=%20b c", keepingPercent: true) == "a=%20b%20c")
    }

    @Test func etagAndDatesMatchNginx() {
        #expect(EntityTag.make(modified: 1_700_000_000, size: 6) == "\"6553f100-6\"")
        #expect(EntityTag.make(modified: 0, size: 0) == "\"0-0\"")
        #expect(HTTPDate.imfFixdate(1_700_000_000) == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(HTTPDate.imfFixdate(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.parseIMFFixdate("Tue, 14 Nov 2023 22:13:20 GMT") == 1_700_000_000)
        #expect(HTTPDate.parseIMFFixdate("Tuesday, 14-Nov-23 22:13:20 GMT") == nil)
        #expect(HTTPDate.parseIMFFixdate("Tue, 14 Nov 2023 25:13:20 GMT") == nil)
        let logTime = HTTPDate.logTime(1_700_000_000)
        #expect(logTime.wholeMatch(of: #/\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}/#) != nil)
    }

    @Test func conditionalPrecedenceFollowsRFC9110() {
        let etag = "\"1-2\""
        // If-None-Match decides alone when present, even if If-Modified-Since would say modified.
        #expect(
            Conditional.evaluate(
                ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: "\"1-2\"",
                ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT", etag: etag, modified: 1
            ) == .notModified
        )
        #expect(
            Conditional.evaluate(
                ifMatch: nil, ifUnmodifiedSince: nil, ifNoneMatch: "\"9-9\"",
                ifModifiedSince: "Thu, 01 Jan 1970 00:00:01 GMT", etag: etag, modified: 1
            ) == .proceed
        )
        #expect(
            Conditional.evaluate(
                ifMatch: "W/\"1-2\"", ifUnmodifiedSince: nil, ifNoneMatch: nil, ifModifiedSince: nil,
                etag: etag, modified: 1
            ) == .preconditionFailed
        )
        #expect(
            Conditional.evaluate(
                ifMatch: nil, ifUnmodifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT", ifNoneMatch: nil,
                ifModifiedSince: nil, etag: etag, modified: 1
            ) == .preconditionFailed
        )
    }

    @Test func contentTypes() {
        #expect(ContentType.forFileName("index.html") == "text/html")
        #expect(ContentType.forFileName("A.PNG") == "image/png")
        #expect(ContentType.forFileName("health") == "application/octet-stream")
        #expect(ContentType.forFileName(".htaccess") == "application/octet-stream")
        #expect(ContentType.forFileName("archive.tar.gz") == "application/octet-stream")
    }

    @Test func accessLogEscapesLikeNginx() {
        #expect(AccessLogEntry.escaped("plain text/1.0") == "plain text/1.0")
        #expect(AccessLogEntry.escaped("a\"b\\c\u{1}") == "a\\x22b\\x5Cc\\x01")
        #expect(AccessLogEntry.escaped("é") == "\\xC3\\xA9")
        let entry = AccessLogEntry(
            remoteAddress: "10.0.0.1", timeLocal: "14/Nov/2023:22:13:20 +0000",
            request: .init(method: "GET", uri: "/\"x", version: .http1_1),
            status: 200, bodyBytesSent: 6, referer: nil, userAgent: "curl/8"
        )
        #expect(
            entry.combinedLine == #"10.0.0.1 - - [14/Nov/2023:22:13:20 +0000] "GET /\x22x HTTP/1.1" 200 6 "-" "curl/8""#
        )
    }

    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("[::1]:80", "::1", 80),
        ("*:81", "0.0.0.0", 81),
        (":82", "0.0.0.0", 82),
        ("83", "0.0.0.0", 83),
        ("127.0.0.1:0", "127.0.0.1", 0),
    ])
    func listenAddressesParse(text: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(arguments: ["", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1]80", "host:-1"])
    func badListenAddressesAreRejected(text: String) {
        #expect(throws: ListenAddressError.malformed(text)) { try ListenAddress(parsing: text) }
    }
}
