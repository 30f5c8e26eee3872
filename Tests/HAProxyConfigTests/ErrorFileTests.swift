import Foundation
import Testing

@testable import HAProxyConfig

@Suite("errorfile: replacing the built-in error pages")
struct ErrorFileTests {
    @Test("argument errors and codes HAProxy does not let errorfile replace are alerts at their line")
    func parseErrors() {
        let lines = report(
            """
            frontend f
                bind :8080
                errorfile 999 /etc/haproxy/errors/503.http
                errorfile 431 /etc/haproxy/errors/503.http
                errorfile 503
                errorfile 503 a.http b.http
            """)
        let codes = "200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504"
        func at(_ line: Int) -> String { "[ALERT] parsing [t.cfg:\(line + quietOffset)] : 'errorfile'" }
        #expect(
            lines == [
                "\(at(3)) : status code '999' not handled (one of \(codes)).",
                "\(at(4)) : status code '431' not handled (one of \(codes)).",
                "\(at(5)) expects <status_code> and <file> as arguments.",
                "\(at(6)) expects <status_code> and <file> as arguments.",
            ], "\(lines)")
    }

    @Test("load reads each file: a response is kept with its status and head length; problems name the line, once")
    func loadReadsFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("errorfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // Debian's /etc/haproxy/errors style: HTTP/1.0, no Content-Length, the body runs to the close.
        let unavailable = try file(
            "503.http",
            "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n"
                + "Content-Type: text/html\r\n\r\n<html><body>down</body></html>\n")
        // A maintenance page may answer 200 in place of a 503, with bare LF line ends.
        let maintenance = try file("maintenance.http", "HTTP/1.1 200 OK\nContent-Length: 3\n\nok\n")
        let notHTTP = try file("bad.http", "<html>not a response</html>\n")
        let large = try file(
            "large.http", "HTTP/1.0 504 Gateway Time-out\r\n\r\n" + String(repeating: "x", count: 20000))
        let missing = directory.appendingPathComponent("missing.http").path
        let config = try file(
            "haproxy.cfg",
            """
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
                errorfile 503 \(unavailable)
                errorfile 502 \(notHTTP)
            frontend f
                bind :8080
                errorfile 400 \(missing)
                default_backend b
            backend b
                errorfile 200 \(maintenance)
                errorfile 504 \(large)
                server s 127.0.0.1:8081

            """)

        let result = BalancerConfig.load(paths: [config])
        #expect(
            result.diagnostics.map(\.description) == [
                "[ALERT] parsing [\(config):10] : 'errorfile' : error opening file '\(missing)'.",
                "[ALERT] parsing [\(config):7] : 'errorfile' : '\(notHTTP)': not an HTTP response (it must start "
                    + "with a status line such as 'HTTP/1.0 503 Service Unavailable' and end its header fields with "
                    + "an empty line).",
                "[ALERT] parsing [\(config):14] : 'errorfile' : '\(large)' is 20033 bytes, larger than tune.bufsize "
                    + "(16384).",
            ], "\(result.diagnostics.map(\.description))")
        let backend = try #require(result.config.backends.first)
        let page = try #require(backend.errorFiles[503])
        #expect(page.responseStatus == 503)
        let body = "<html><body>down</body></html>\n"
        #expect(page.response.map { String(decoding: $0, as: UTF8.self) }?.hasSuffix(body) == true)
        #expect(page.headLength == page.response.map { $0.count - body.utf8.count })
        let ok = try #require(backend.errorFiles[200])
        #expect(ok.responseStatus == 200)
        #expect(ok.headLength == "HTTP/1.1 200 OK\nContent-Length: 3\n\n".utf8.count)
        // The defaults line reaches the frontend too, read once.
        #expect(result.config.frontends.first?.errorFiles[503]?.response == page.response)
    }

    @Test("status lines errorfile accepts and refuses")
    func responseHeads() {
        func head(_ text: String) -> Int? { ErrorFile.responseHead(Array(text.utf8))?.status }
        #expect(head("HTTP/1.0 503 Service Unavailable\r\n\r\n") == 503)
        #expect(head("HTTP/1.1 200\r\n\r\n") == 200)
        #expect(head("HTTP/1.1 200 OK\r\nX: y\r\n") == nil, "no empty line ends the head")
        #expect(head("HTTP/2 200 OK\r\n\r\n") == nil)
        #expect(head("HTTP/1.1 20 OK\r\n\r\n") == nil)
        #expect(head("HTTP/1.1 2000 OK\r\n\r\n") == nil)
        #expect(head("HTTP/1.1 099 Low\r\n\r\n") == nil)
    }

    @Test(
        "Debian's stock /etc/haproxy/haproxy.cfg plus a proxy loads with only the chroot warning, its pages read",
        .enabled(
            if: FileManager.default.fileExists(atPath: "/etc/haproxy/haproxy.cfg"),
            "needs Debian's haproxy package (scripts/test.sh installs it)"))
    func debianStockFile() throws {
        // As an operator adds their proxies: a second file after the stock one (its defaults apply).
        let proxies = FileManager.default.temporaryDirectory.appendingPathComponent("proxies-\(UUID().uuidString).cfg")
        try "listen web\n    bind 127.0.0.1:8080\n    server web01 127.0.0.1:8081\n"
            .write(to: proxies, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: proxies) }

        let result = BalancerConfig.load(paths: ["/etc/haproxy/haproxy.cfg", proxies.path])
        #expect(!result.hasAlerts, "\(result.diagnostics.map(\.description))")
        #expect(result.diagnostics.count == 1, "\(result.diagnostics.map(\.description))")
        #expect(result.diagnostics.first?.description.contains("'chroot /var/lib/haproxy'") == true)
        let pages = try #require(result.config.frontends.first?.errorFiles)
        #expect(Set(pages.keys) == [400, 403, 408, 500, 502, 503, 504])
        #expect(pages.values.allSatisfy { $0.response != nil && $0.responseStatus == $0.code })
    }
}
