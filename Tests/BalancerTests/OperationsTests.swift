import Balancer
import BalancerCore
import Foundation
import Spawning
import HAProxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// Reads one column of the `web_backend/SERVER` line of a CSV document.
func csvValue(_ csv: String, _ proxy: String, _ service: String, _ column: String) -> String? {
    let lines = csv.split(separator: "\n")
    guard let header = lines.first,
        let index = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false)
            .firstIndex(where: { $0 == column })
    else { return nil }
    for line in lines.dropFirst() {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if fields.count > index, fields[0] == proxy, fields[1] == service { return fields[index] }
    }
    return nil
}

@Suite("Operations: stats page, logs, runtime API", .serialized)
struct OperationsTests {
    let admin = basicAuthorization("admin", "strong_password_here")

    /// Waits until both servers passed a check (fully UP), so traffic alternates predictably.
    func waitUp(_ topology: OperationsTopology, servers: [String] = ["web01", "web02"]) async -> Bool {
        await eventually {
            guard let state = try? await runtimeCommand(topology.socketPath, "show stat") else { return false }
            return servers.allSatisfy { csvValue(state, "web_backend", $0, "status") == "UP" }
        }
    }

    @Test("the stats page is held to the request rules too: a fragment or two differing Host fields get 400")
    func statsRequestRules() async throws {
        try await withTwoServerOperations { topology, _, _ in
            for request in [
                "GET /stats#x HTTP/1.1\r\nHost: x\r\n\r\n", "GET /stats HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            ] {
                let response = try await rawExchange(port: topology.statsPort, request, group: testGroup)
                #expect(statusCode(response) == 400, "\(request): \(response)")
            }
        }
    }

    @Test("stats auth: no, wrong or malformed credentials get 401 with the realm; the right ones get the page")
    func statsAuthentication() async throws {
        try await withTwoServerOperations { topology, _, _ in
            let port = topology.statsPort
            let anonymous = try await HTTPTestClient.get(port: port, "/stats", group: testGroup)
            #expect(anonymous.status == 401)
            #expect(anonymous.headers["www-authenticate"] == ["Basic realm=\"HAProxy Statistics\""])
            for header in [
                basicAuthorization("admin", "wrong"), basicAuthorization("admin", "strong_password_her"),
                basicAuthorization("root", "strong_password_here"), ("authorization", "Basic %%%"),
                ("authorization", "Bearer strong_password_here"),
            ] {
                let response = try await HTTPTestClient.get(
                    port: port, "/stats", group: testGroup, headers: [header])
                #expect(response.status == 401, "\(header)")
            }
            let page = try await HTTPTestClient.get(port: port, "/stats", group: testGroup, headers: [self.admin])
            #expect(page.status == 200)
            #expect(page.headers["content-type"].first?.hasPrefix("text/html") == true)
            #expect(page.body.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
            #expect(page.body.contains("web01"))
            // Read-only page without `stats admin`: posting an action is refused.
            let post = try await HTTPTestClient.get(
                port: port, "/stats", group: testGroup, method: .POST, headers: [self.admin])
            #expect(post.status == 403)
            // Other paths of the stats listen are not the page: the empty backend answers 503.
            let other = try await HTTPTestClient.get(port: port, "/", group: testGroup, headers: [self.admin])
            #expect(other.status == 503)
        }
    }

    @Test("a custom realm and hide-version reach the client")
    func realmAndHideVersion() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withOperationsBalancer({ syslog in
                var topology = OperationsTopology(
                    servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
                topology.statsLines += ["stats realm \"Portico Ops\"", "stats hide-version"]
                return topology
            }) { topology, _, _ in
                let anonymous = try await HTTPTestClient.get(port: topology.statsPort, "/stats", group: testGroup)
                #expect(anonymous.headers["www-authenticate"] == ["Basic realm=\"Portico Ops\""])
                let page = try await HTTPTestClient.get(
                    port: topology.statsPort, "/stats", group: testGroup, headers: [self.admin])
                #expect(!page.body.contains("version \(PorticoVersion.current)"))
            }
        }
    }

    @Test("CSV and JSON over HTTP: HAProxy's header, the seed's rows, counters that follow the traffic")
    func csvAndJSONOverHTTP() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            try await withOperationsBalancer({ syslog in
                OperationsTopology(
                    servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
            }) { topology, _, _ in
                #expect(await self.waitUp(topology))
                let bodies = try await answers(port: topology.frontendPort, count: 4)
                #expect(Set(bodies) == ["web01", "web02"])
                let csv = try await HTTPTestClient.get(
                    port: topology.statsPort, "/stats;csv", group: testGroup, headers: [self.admin])
                #expect(csv.status == 200)
                let lines = csv.body.split(separator: "\n")
                #expect(lines.first.map(String.init) == StatsCSV.headerLine)
                #expect(lines.first?.hasPrefix("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,") == true)
                #expect(
                    lines.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: "/") } == [
                        "web_entry/FRONTEND", "web_backend/web01", "web_backend/web02", "web_backend/BACKEND",
                        "stats/FRONTEND", "stats/BACKEND",
                    ])
                #expect(csvValue(csv.body, "web_entry", "FRONTEND", "stot") == "4")
                #expect(csvValue(csv.body, "web_entry", "FRONTEND", "hrsp_2xx") == "4")
                #expect(csvValue(csv.body, "web_backend", "web01", "stot") == "2")
                #expect(csvValue(csv.body, "web_backend", "web02", "hrsp_2xx") == "2")
                #expect(csvValue(csv.body, "web_backend", "BACKEND", "req_tot") == "4")
                #expect(csvValue(csv.body, "web_backend", "web01", "check_status") == "L7OK")
                #expect(csvValue(csv.body, "web_backend", "web01", "check_code") == "200")
                #expect(csvValue(csv.body, "web_backend", "web01", "addr") == "127.0.0.1:\(backends[0].port)")
                #expect(Int(csvValue(csv.body, "web_backend", "web01", "bout") ?? "") ?? 0 > 0)
                // Bytes read from clients: four request heads of at least `GET / HTTP/1.1\r\n\r\n` each.
                #expect(Int(csvValue(csv.body, "web_entry", "FRONTEND", "bin") ?? "") ?? 0 >= 4 * 18)
                #expect(Int(csvValue(csv.body, "web_backend", "BACKEND", "bin") ?? "") ?? 0 >= 4 * 18)

                let json = try await HTTPTestClient.get(
                    port: topology.statsPort, "/stats;json", group: testGroup, headers: [self.admin])
                #expect(json.headers["content-type"] == ["application/json"])
                let rows = try #require(
                    try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [[[String: Any]]])
                #expect(rows.count == 6)
                let names = rows.map { row in
                    row.first { (($0["field"] as? [String: Any])?["name"] as? String) == "svname" }
                        .flatMap { ($0["value"] as? [String: Any])?["value"] as? String }
                }
                #expect(names == ["FRONTEND", "web01", "web02", "BACKEND", "FRONTEND", "BACKEND"])
            }
        }
    }

    @Test("Prometheus path on the frontend: HAProxy exporter names, not proxied to a server")
    func prometheusEndpoint() async throws {
        try await withTwoServerOperations { topology, _, _ in
            #expect(await self.waitUp(topology))
            _ = try await answers(port: topology.frontendPort, count: 2)
            let metrics = try await HTTPTestClient.get(port: topology.frontendPort, "/metrics", group: testGroup)
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
            let lines = Set(metrics.body.split(separator: "\n").map(String.init))
            #expect(lines.contains("haproxy_server_status{proxy=\"web_backend\",server=\"web01\",state=\"UP\"} 1"))
            #expect(lines.contains("haproxy_backend_http_responses_total{proxy=\"web_backend\",code=\"2xx\"} 2"))
            #expect(lines.contains("haproxy_server_sessions_total{proxy=\"web_backend\",server=\"web02\"} 1"))
            // The scrape itself was answered locally: the backend counted only the two proxied requests.
            #expect(lines.contains("haproxy_backend_sessions_total{proxy=\"web_backend\"} 2"))
        }
    }

    @Test("server-side failures are logged as HAProxy logs them: PH-- for an invalid response, SD-- for a cut body")
    func serverFailuresLogged() async throws {
        try await withTwoServerOperations { topology, _, syslog in
            #expect(await self.waitUp(topology))
            let invalid = try await HTTPTestClient.get(port: topology.frontendPort, "/malformed", group: testGroup)
            #expect(invalid.status == 502)
            let cut = try await rawExchange(
                port: topology.frontendPort, "GET /cut HTTP/1.1\r\nHost: test\r\n\r\n", group: testGroup)
            #expect(cut.hasSuffix("partial"), "\(cut)")
            func fields(_ path: String) async -> [String] {
                let logged = { (line: String) in line.contains("\"GET \(path) HTTP/1.1\"") }
                _ = await eventually { syslog.lines.contains(where: logged) }
                let line = syslog.lines.first(where: logged) ?? ""
                let start = line.firstRange(of: "]: ").map { line[$0.upperBound...] } ?? ""
                return start.split(separator: " ").map(String.init)
            }
            // `... web_entry web_backend/web01 0/0/0/-1/1 502 225 - - PH-- ...`: no server response time.
            let invalidFields = await fields("/malformed")
            #expect(invalidFields.count == 15, "\(invalidFields)")
            guard invalidFields.count == 15 else { return }
            #expect(invalidFields[5] == "502" && invalidFields[9] == "PH--", "\(invalidFields)")
            #expect(invalidFields[4].split(separator: "/").map(String.init)[3] == "-1", "\(invalidFields)")
            // The server closed in the data phase: its fault, not the client's (`CD--`).
            let cutFields = await fields("/cut")
            #expect(cutFields.count == 15, "\(cutFields)")
            guard cutFields.count == 15 else { return }
            #expect(cutFields[5] == "200" && cutFields[9] == "SD--", "\(cutFields)")
        }
    }

    @Test("pipelined proxied and local requests are answered in order, and each one is logged")
    func pipelinedLocalAfterProxied() async throws {
        try await withTwoServerOperations { topology, _, syslog in
            #expect(await self.waitUp(topology))
            let raw = try await rawExchange(
                port: topology.frontendPort,
                "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                group: testGroup)
            let statuses = raw.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            #expect(statuses == ["200", "200", "200"], "\(raw.prefix(400))")
            // The metrics come last, after both proxied responses.
            let metricsStart = try #require(raw.range(of: "# HELP"))
            #expect(raw[..<metricsStart.lowerBound].components(separatedBy: "HTTP/1.1 200").count == 4)
            #expect(
                await eventually {
                    ["/first", "/second", "/metrics"].allSatisfy { path in
                        syslog.lines.contains { $0.contains("\"GET \(path) HTTP/1.1\"") }
                    }
                })
            let promex = syslog.lines.first { $0.contains(" web_entry web_entry/<PROMEX> ") } ?? ""
            // As haproxy 2.6 logs its exporter: `web_entry web_entry/<PROMEX> 0/0/0/0/0 200 55506 - - LR--`.
            #expect(promex.contains(" LR-- "), "\(promex)")
            #expect(promex.contains(#/ \d+/0/0/0/\d+ 200 /#), "\(promex)")
        }
    }

    @Test("httplog lines over UDP syslog match HAProxy's format field by field; dontlognull skips empty connections")
    func httplogOverSyslog() async throws {
        try await withTwoServerOperations { topology, _, syslog in
            #expect(await self.waitUp(topology))
            let raw = try await rawExchange(
                port: topology.frontendPort, "GET /?q=1 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
                group: testGroup)
            #expect(statusCode(raw) == 200)
            // A connection that sends nothing is not logged (option dontlognull).
            _ = try await rawExchange(
                port: topology.frontendPort, "", group: testGroup, timeout: .milliseconds(100))
            let request = { (line: String) in line.contains("\"GET /?q=1 HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: request) })
            let line = try #require(syslog.lines.first(where: request))
            // `<150>Nov 26 07:20:16 haproxy[1025]: 127.0.0.1:57138 [26/Nov/2026:07:20:16.689] web_entry
            //  web_backend/web02 0/0/0/1/2 200 190 - - ---- 1/1/0/0/0 0/0 "GET /?q=1 HTTP/1.1"`
            #expect(line.hasPrefix("<150>"), "local2.info is PRI 150")
            #expect(line.hasSuffix("\n"))
            let header = try #require(line.firstRange(of: "]: "))
            let syslogHeader = line[line.index(line.startIndex, offsetBy: 5)..<header.lowerBound]
            #expect(syslogHeader.wholeMatch(of: #/[A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d haproxy\[\d+/#) != nil)
            let fields = line[header.upperBound...].dropLast().split(separator: " ").map(String.init)
            #expect(fields.count == 15, "\(fields)")
            guard fields.count == 15 else { return }
            #expect(fields[0].wholeMatch(of: #/127\.0\.0\.1:\d+/#) != nil)
            #expect(fields[1].wholeMatch(of: #/\[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]/#) != nil)
            #expect(fields[2] == "web_entry")
            #expect(fields[3] == "web_backend/web01" || fields[3] == "web_backend/web02")
            let timers = fields[4].split(separator: "/").compactMap { Int($0) }
            #expect(timers.count == 5 && timers.allSatisfy { $0 >= 0 }, "\(fields[4])")
            #expect(timers.count == 5 && timers[4] >= timers[3], "Ta covers Tr")
            #expect(fields[5] == "200")
            #expect(fields[6] == String(raw.utf8.count), "bytes read = what the client received")
            #expect(fields[7] == "-" && fields[8] == "-")
            #expect(fields[9] == "----")
            #expect(fields[10].wholeMatch(of: #/\d+\/\d+\/\d+\/\d+\/\d+/#) != nil)
            #expect(fields[11] == "0/0")
            #expect(fields[12] + " " + fields[13] + " " + fields[14] == "\"GET /?q=1 HTTP/1.1\"")
            #expect(syslog.lines.filter { $0.contains("<BADREQ>") }.isEmpty)
        }
    }

    @Test("a request refused before balancing is logged with the frontend as its backend, as HAProxy logs it")
    func refusedRequestLogged() async throws {
        try await withTwoServerOperations { topology, _, syslog in
            let refused = try await rawExchange(
                port: topology.frontendPort, "GET /refused HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", group: testGroup)
            #expect(statusCode(refused) == 400)
            let logged = { (line: String) in line.contains("\"GET /refused HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: logged) })
            let line = syslog.lines.first(where: logged) ?? ""
            // `... web_entry web_entry/<NOSRV> 0/-1/-1/-1/0 400 207 - - PR-- ...` (HAProxy: `fe fe/<NOSRV>`).
            #expect(line.contains(" web_entry web_entry/<NOSRV> "), "\(line)")
            #expect(line.contains(" PR-- "), "\(line)")
            // A proxied request still names its backend.
            let proxied = try await HTTPTestClient.get(port: topology.frontendPort, "/proxied", group: testGroup)
            #expect(proxied.status == 200)
            let proxiedLogged = { (line: String) in line.contains("\"GET /proxied HTTP/1.1\"") }
            #expect(await eventually { syslog.lines.contains(where: proxiedLogged) })
            #expect(syslog.lines.first(where: proxiedLogged)?.contains(" web_entry web_backend/web0") == true)
        }
    }

    @Test("a queued request logs its queue time (Tw) and the backend's qmax counts it")
    func queueTimeLogged() async throws {
        try await withBackends(["web01"], group: testGroup, slowDelay: .milliseconds(400)) { backends in
            try await withOperationsBalancer({ syslog in
                var topology = OperationsTopology(
                    servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
                topology.serverOptions += " maxconn 1"
                return topology
            }) { topology, _, syslog in
                #expect(await self.waitUp(topology, servers: ["web01"]))
                let port = topology.frontendPort
                async let first = HTTPTestClient.get(port: port, "/slow?first", group: testGroup)
                try await Task.sleep(for: .milliseconds(100))
                let second = try await HTTPTestClient.get(port: port, "/slow?second", group: testGroup)
                #expect(try await first.status == 200)
                #expect(second.status == 200)
                #expect(await eventually { syslog.lines.contains { $0.contains("GET /slow?second") } })
                let line = syslog.lines.first { $0.contains("GET /slow?second") } ?? ""
                let timers = line.split(separator: " ").first { $0.split(separator: "/").count == 5 && $0.first != "[" }
                let tw = timers.flatMap { Int($0.split(separator: "/")[1]) } ?? -1
                // It waited for the first request's 400 ms, less the 100 ms head start.
                #expect(tw >= 200, "\(line)")
                let stat = try await runtimeCommand(topology.socketPath, "show stat")
                #expect(csvValue(stat, "web_backend", "BACKEND", "qmax") == "1")
                #expect(csvValue(stat, "web_backend", "BACKEND", "qcur") == "0")
            }
        }
    }

    @Test("no server left: the 503 is logged <NOSRV> with SC--, and the DOWN lines reach syslog")
    func noServerLogged() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withOperationsBalancer({ syslog in
                OperationsTopology(
                    servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
            }) { topology, _, syslog in
                #expect(await self.waitUp(topology, servers: ["web01"]))
                #expect(
                    try await runtimeCommand(topology.socketPath, "set server web_backend/web01 health down") == "\n")
                let response = try await HTTPTestClient.get(port: topology.frontendPort, "/", group: testGroup)
                #expect(response.status == 503)
                let stat = try await runtimeCommand(topology.socketPath, "show stat")
                #expect(csvValue(stat, "web_backend", "BACKEND", "status") == "DOWN")
                #expect(csvValue(stat, "web_backend", "BACKEND", "chkdown") == "1")
                #expect(csvValue(stat, "web_backend", "BACKEND", "downtime") == "0")
                #expect(csvValue(stat, "web_backend", "BACKEND", "lastchg") == "0")
                #expect(await eventually { syslog.lines.contains { $0.contains(" web_backend/<NOSRV> ") } })
                let line = syslog.lines.first { $0.contains(" web_backend/<NOSRV> ") } ?? ""
                #expect(line.contains(" 503 "))
                #expect(line.contains(" SC-- "))
                // haproxy 2.6 logs `0/-1/-1/-1/0 503 217 - - SC--`: no queue, connect or server response time.
                #expect(line.contains("/-1/-1/-1/"), "\(line)")
                #expect(
                    syslog.lines.contains {
                        $0.hasPrefix("<145>") && $0.contains("Server web_backend/web01 is DOWN, changed from CLI.")
                    })
                #expect(
                    syslog.lines.contains {
                        $0.hasPrefix("<144>") && $0.contains("backend web_backend has no server available!")
                    })
            }
        }
    }

    @Test("log ADDR local2 notice: traffic lines (info) are filtered out, state changes still reach syslog")
    func logLevelFilter() async throws {
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withOperationsBalancer({ syslog in
                var topology = OperationsTopology(
                    servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
                topology.logLevel = "notice"
                return topology
            }) { topology, _, syslog in
                #expect(await self.waitUp(topology, servers: ["web01"]))
                _ = try await answers(port: topology.frontendPort, count: 2)
                _ = try await runtimeCommand(topology.socketPath, "disable server web_backend/web01")
                #expect(await eventually { syslog.lines.contains { $0.contains("is going DOWN for maintenance") } })
                #expect(syslog.lines.filter { $0.hasPrefix("<150>") }.isEmpty, "\(syslog.lines)")
            }
        }
    }

    @Test("runtime API: drain sends no new sessions, maint takes the server out, weight shifts the ratio")
    func runtimeCommandsChangeTraffic() async throws {
        try await withTwoServerOperations { topology, _, _ in
            let socket = topology.socketPath
            #expect(await self.waitUp(topology))
            #expect(try await answers(port: topology.frontendPort, count: 4).filter { $0 == "web01" }.count == 2)

            // drain: web01 stays UP (checked) but gets nothing new.
            #expect(try await runtimeCommand(socket, "set server web_backend/web01 state drain") == "\n")
            #expect(try await answers(port: topology.frontendPort, count: 6) == Array(repeating: "web02", count: 6))
            var stat = try await runtimeCommand(socket, "show stat")
            #expect(csvValue(stat, "web_backend", "web01", "status") == "DRAIN")
            #expect(
                try await runtimeCommand(socket, "show servers state web_backend").contains(" web01 127.0.0.1 2 8 ")
            )

            // maint: out, shown MAINT, checks paused.
            #expect(try await runtimeCommand(socket, "set server web_backend/web01 state maint") == "\n")
            #expect(try await answers(port: topology.frontendPort, count: 4) == Array(repeating: "web02", count: 4))
            stat = try await runtimeCommand(socket, "show stat")
            #expect(csvValue(stat, "web_backend", "web01", "status") == "MAINT")

            // enable + weight 3: web01 takes three of every four requests once it is UP again.
            #expect(try await runtimeCommand(socket, "enable server web_backend/web01") == "\n")
            #expect(try await runtimeCommand(socket, "set server web_backend/web01 weight 3") == "\n")
            #expect(await self.waitUp(topology))
            let weighted = try await answers(port: topology.frontendPort, count: 8)
            #expect(weighted.filter { $0 == "web01" }.count == 6, "\(weighted)")
            stat = try await runtimeCommand(socket, "show stat")
            #expect(csvValue(stat, "web_backend", "web01", "weight") == "3")

            // health down: web01 out although its checks pass until the next check brings it back.
            #expect(try await runtimeCommand(socket, "disable server web_backend/web02") == "\n")
            #expect(try await runtimeCommand(socket, "set server web_backend/web01 health down") == "\n")
            let none = try await HTTPTestClient.get(port: topology.frontendPort, "/", group: testGroup)
            #expect(none.status == 503)

            // Errors are worded as HAProxy words them.
            #expect(try await runtimeCommand(socket, "disable server nope/web01") == "No such backend.\n\n")
            #expect(try await runtimeCommand(socket, "disable server web_backend/nope") == "No such server.\n\n")
            #expect(try await runtimeCommand(socket, "show info").contains("\nMaxconn: 1000\n"))
        }
    }

    @Test(
        "stats admin if TRUE / if LOCALHOST (a loopback client): the page's form drains a server",
        arguments: ["TRUE", "LOCALHOST"])
    func adminForm(condition: String) async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            try await withOperationsBalancer({ syslog in
                var topology = OperationsTopology(
                    servers: backends.map { ($0.name, $0.port) }, syslogPort: syslog, socketPath: temporarySocketPath())
                topology.statsLines.append("stats admin if \(condition)")
                return topology
            }) { topology, _, _ in
                #expect(await self.waitUp(topology))
                let page = try await HTTPTestClient.get(
                    port: topology.statsPort, "/stats", group: testGroup, headers: [self.admin])
                #expect(page.body.contains("<form method=\"post\""))
                let client = try await HTTPTestClient.connect(port: topology.statsPort, group: testGroup)
                let body = ByteBuffer(string: "s=web01&action=drain&b=web_backend")
                let response = try await client.request(
                    .POST, "/stats", headers: [self.admin, ("content-type", "application/x-www-form-urlencoded")],
                    body: [body])
                await client.close()
                #expect(response.status == 303)
                #expect(response.headers["location"] == ["/stats;st=DONE"])
                let stat = try await runtimeCommand(topology.socketPath, "show stat")
                #expect(csvValue(stat, "web_backend", "web01", "status") == "DRAIN")
                #expect(try await answers(port: topology.frontendPort, count: 3) == ["web02", "web02", "web02"])
            }
        }
    }
}

@Suite("Stats page in a browser")
struct StatsPageBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test(
        "headless Chromium renders the page served over HTTP (screenshot in the test's temporary directory)",
        .enabled(if: StatsPageBrowserTests.chromium != nil, "chromium is not installed"))
    func screenshot() async throws {
        let chromium = try #require(Self.chromium)
        try await withTwoServerOperations { topology, _, _ in
            _ = try await answers(port: topology.frontendPort, count: 4)
            _ = try await runtimeCommand(topology.socketPath, "set server web_backend/web02 state drain")
            let page = try await HTTPTestClient.get(
                port: topology.statsPort, "/stats", group: testGroup,
                headers: [basicAuthorization("admin", "strong_password_here")])
            #expect(page.status == 200)
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("pops-stats-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let html = directory.appendingPathComponent("stats.html")
            let png = directory.appendingPathComponent("stats.png")
            try page.body.write(to: html, atomically: true, encoding: .utf8)
            // Its own process group: Chromium's helpers go with it if it has to be killed.
            let process = try SpawnedProcess(
                [
                    chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1400,700", "--user-data-dir=\(directory.path)/profile", "--screenshot=\(png.path)",
                    html.absoluteString,
                ], output: .null, error: .null, newProcessGroup: true)
            // Bounded: a browser that hangs is killed after 60 s.
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning { kill(-process.pid, SIGKILL) }
            process.waitUntilExit()
            let data = try Data(contentsOf: png)
            #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG file")
            // A blank page compresses to a few kilobytes; tables, colours and text do not.
            #expect(data.count > 20_000, "\(data.count) bytes")
        }
    }
}
