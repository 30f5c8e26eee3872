import Foundation
import Testing
import WebServer

@Suite("ETag, Last-Modified and 304 over real sockets")
struct ValidatorTests {
    // 1_700_000_000 = 0x6553f100 = Tue, 14 Nov 2023 22:13:20 GMT
    static let modified = 1_700_000_000

    @Test func validatorsHaveNginxFormat() async throws {
        try await TestSite.withServer { site, _, port in
            site.setModified("index.html", seconds: Self.modified)
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/")
            let response = try connection.readResponse()
            #expect(response.header("ETag") == "\"6553f100-6\"")
            #expect(response.header("Last-Modified") == "Tue, 14 Nov 2023 22:13:20 GMT")
        }
    }

    @Test(arguments: [
        ("If-None-Match: \"6553f100-6\"", 304),
        ("If-None-Match: W/\"6553f100-6\"", 304),
        ("If-None-Match: \"other\", \"6553f100-6\"", 304),
        ("If-None-Match: *", 304),
        ("If-None-Match: \"6553f100-7\"", 200),
        ("If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT", 304),
        ("If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT", 200),
        ("If-Modified-Since: not a date", 200),
        ("If-Match: \"nope\"", 412),
        ("If-Match: \"6553f100-6\"", 200),
    ])
    func conditionalRequests(header: String, status: Int) async throws {
        try await TestSite.withServer { site, _, port in
            site.setModified("index.html", seconds: Self.modified)
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/", headers: [header])
            let response = try connection.readResponse(bodyExpected: status != 304)
            #expect(response.status == status)
            if status == 304 {
                #expect(response.header("ETag") == "\"6553f100-6\"")
                #expect(response.header("Content-Length") == nil)
                #expect(response.header("Transfer-Encoding") == nil)
            }
            if status == 200 { #expect(response.bodyText == "web01\n") }
            // The connection is still in step: a 304 carried no body.
            try connection.request("GET", "/health")
            #expect(try connection.readResponse().bodyText == "ok\n")
        }
    }

    @Test func changedFileIsServedFreshWithNewValidators() async throws {
        try await TestSite.withServer { site, _, port in
            site.setModified("index.html", seconds: Self.modified)
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/")
            #expect(try connection.readResponse().bodyText == "web01\n")

            try site.write("web01 v2\n", to: "index.html")
            site.setModified("index.html", seconds: Self.modified + 60)
            try connection.request("GET", "/", headers: ["If-None-Match: \"6553f100-6\""])
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyText == "web01 v2\n")
            #expect(response.header("ETag") == "\"6553f13c-9\"")
        }
    }

    @Test func sameSizeRewriteWithinTheSameSecondIsStillSeen() async throws {
        try await TestSite.withServer { site, _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/health")
            #expect(try connection.readResponse().bodyText == "ok\n")
            // Replace by rename: a new inode, same size; the cache must notice.
            try "no\n".write(toFile: site.root + "/health", atomically: true, encoding: .utf8)
            try connection.request("GET", "/health")
            #expect(try connection.readResponse().bodyText == "no\n")
        }
    }
}
