import Foundation
import Testing
import WebServer

@Suite("access log in nginx's combined format")
struct AccessLogTests {
    @Test func linesFollowTheCombinedFormat() async throws {
        try await TestSite.withServer(accessLog: true) { site, server, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.request("GET", "/", headers: ["Referer: http://example.test/from"])
            _ = try connection.readResponse()
            try connection.request("HEAD", "/health")
            _ = try connection.readResponse(bodyExpected: false)
            try connection.send("GET /nope?q=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: evil\"agent\r\n\r\n")
            _ = try connection.readResponse()
            await server.stop()  // flushes the log

            let text = try String(contentsOfFile: site.base + "/access.log", encoding: .utf8)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            let pattern = #"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "#
                + #""(.*)" (\d{3}) (\d+) "(.*)" "(.*)"$"#
            let regex = try Regex(pattern)
            for line in lines {
                #expect(line.wholeMatch(of: regex) != nil, "not combined format: \(line)")
            }
            guard lines.count == 3 else { return }
            #expect(lines[0].hasSuffix(#""GET / HTTP/1.1" 200 6 "http://example.test/from" "portico-tests""#))
            #expect(lines[1].hasSuffix(#""HEAD /health HTTP/1.1" 200 0 "-" "portico-tests""#))
            // A quote in a header cannot end the field early: nginx writes it as \x22.
            #expect(lines[2].hasSuffix(#""GET /nope?q=1 HTTP/1.1" 404 148 "-" "evil\x22agent""#))
        }
    }
}
