import Foundation
import Testing

@testable import BalancerCore

/// The seed's proxies (frontend web_entry, backend web_backend with web01/web02 checked `inter 2s fall 3
/// rise 2`, listen stats) as the balancer would hand them to the stats renderers.
struct SeedStats {
    var backend = BackendState(
        name: "web_backend",
        servers: [
            ServerSettings(name: "web01", check: CheckSettings(rise: 2, fall: 3, inter: .seconds(2))),
            ServerSettings(name: "web02", check: CheckSettings(rise: 2, fall: 3, inter: .seconds(2))),
        ]
    )
    var frontendCounters = TrafficCounters()
    var serverCounters = [TrafficCounters(), TrafficCounters()]

    func snapshot(now: Duration = .seconds(30)) -> StatsSnapshot {
        let servers = backend.servers.enumerated().map { index, state in
            ServerStatsInput(
                state: state, counters: serverCounters[index], address: "192.168.10.2\(index + 1):80",
                selectedTotal: serverCounters[index].totalSessions)
        }
        let backendCounters = serverCounters.reduce(TrafficCounters(), +)
        return StatsSnapshot(
            process: ProcessStatsInput(pid: 4242, threads: 2, uptimeSeconds: 30, maxConnections: 10000),
            proxies: [
                ProxyStatsInput(
                    name: "web_entry", id: 2,
                    frontend: FrontendStatsInput(counters: frontendCounters, sessionLimit: 10000)),
                ProxyStatsInput(
                    name: "web_backend", id: 3,
                    backend: BackendStatsInput(counters: backendCounters, servers: servers, sessionLimit: 1000)),
                ProxyStatsInput(
                    name: "stats", id: 4, frontend: FrontendStatsInput(sessionLimit: 10000),
                    backend: BackendStatsInput()),
            ],
            now: now
        )
    }

    mutating func check(_ server: Int, _ report: CheckReport, at seconds: Int64) {
        _ = backend.checkCompleted(server: server, report, now: .seconds(seconds))
    }

    mutating func serve(_ server: Int, status: Int, bytesIn: UInt64, bytesOut: UInt64) {
        for counters in [\SeedStats.frontendCounters, \SeedStats.serverCounters[server]] {
            self[keyPath: counters].sessionOpened()
            self[keyPath: counters].sessionClosed()
            self[keyPath: counters].requests += 1
            self[keyPath: counters].recordResponse(status: status)
            self[keyPath: counters].bytesIn += bytesIn
            self[keyPath: counters].bytesOut += bytesOut
        }
    }
}

/// The CSV header haproxy 2.6.12 sends on `/stats;csv` and `show stat` (captured from the Debian
/// package). Its first 103 fields are the list of the management guide's section 9.1.
let haproxy26Header =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
    + "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,"
    + "rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,"
    + "hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,"
    + "last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,"
    + "check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
    + "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,"
    + "qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,"
    + "uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,"
    + "ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    + "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,"
    + "h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,"
    + "h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,"
    + "h1_spliced_bytes_in,h1_spliced_bytes_out,"

/// Management guide 2.6, §9.1: the documented positions of the fields tools most often read.
let documentedPositions: [String: Int] = [
    "pxname": 0, "svname": 1, "qcur": 2, "scur": 4, "slim": 6, "stot": 7, "bin": 8, "bout": 9, "ereq": 12,
    "econ": 13, "eresp": 14, "wretr": 15, "wredis": 16, "status": 17, "weight": 18, "act": 19, "bck": 20,
    "chkfail": 21, "chkdown": 22, "lastchg": 23, "downtime": 24, "iid": 27, "sid": 28, "lbtot": 30, "type": 32,
    "check_status": 36, "check_code": 37, "check_duration": 38, "hrsp_2xx": 40, "req_tot": 48, "lastsess": 55,
    "last_chk": 56, "check_desc": 65, "check_rise": 67, "check_fall": 68, "check_health": 69, "addr": 73,
    "mode": 75, "algo": 76, "conn_tot": 79, "uweight": 99, "agg_check_status": 102,
]

/// Splits a CSV line as HAProxy-reading tools do (no quoted fields appear in these tests).
func fields(_ line: Substring) -> [String] {
    line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
}

@Suite("Stats: CSV, JSON, Prometheus, page")
struct StatsTests {
    @Test("CSV header is HAProxy 2.6's line, with the documented positions")
    func csvHeader() {
        #expect(StatsCSV.headerLine == haproxy26Header)
        for (name, position) in documentedPositions {
            #expect(StatsCSV.fieldNames[position] == name, "\(name)")
        }
        let csv = StatsCSV.render(SeedStats().snapshot())
        #expect(csv.hasPrefix(haproxy26Header + "\n"))
        #expect(csv.hasSuffix(",\n\n"))
    }

    @Test("seed rows: order, names, types, and one value per header column")
    func seedRows() {
        let csv = StatsCSV.render(SeedStats().snapshot())
        let lines = csv.split(separator: "\n").dropFirst()
        #expect(
            lines.map { fields($0)[0] + "/" + fields($0)[1] } == [
                "web_entry/FRONTEND", "web_backend/web01", "web_backend/web02", "web_backend/BACKEND",
                "stats/FRONTEND", "stats/BACKEND",
            ])
        let columnCount = fields(Substring(haproxy26Header)).count
        for line in lines {
            #expect(fields(line).count == columnCount)
        }
        let type = StatsCSV.fieldNames.firstIndex(of: "type") ?? -1
        #expect(lines.map { fields($0)[type] } == ["0", "2", "2", "1", "0", "1"])
    }

    @Test("a fresh checked server is 'UP 1/3' with INI; after a passing check UP with L7OK/200")
    func serverCheckColumns() throws {
        var seed = SeedStats()
        let fresh = try #require(seed.snapshot().row("web_backend", "web01"))
        #expect(fresh.status == "UP 1/3")
        #expect(StatsCSV.value("check_status", of: fresh) == "INI")
        #expect(StatsCSV.value("check_duration", of: fresh) == nil)

        seed.check(0, CheckReport(status: .layer7Passed, code: 200, info: "OK", duration: .milliseconds(3)), at: 2)
        let snapshot = seed.snapshot(now: .seconds(12))
        let web01 = try #require(snapshot.row("web_backend", "web01"))
        let expected: [String: String] = [
            "status": "UP", "check_status": "L7OK", "check_code": "200", "check_duration": "3", "weight": "1",
            "act": "1", "bck": "0", "chkfail": "0", "chkdown": "0", "lastchg": "12", "downtime": "0",
            "check_desc": "Layer7 check passed", "last_chk": "OK", "check_rise": "2", "check_fall": "3",
            "check_health": "4", "addr": "192.168.10.21:80", "mode": "http", "iid": "3", "sid": "1", "type": "2",
            "lastsess": "-1",
        ]
        for (name, value) in expected {
            #expect(StatsCSV.value(name, of: web01) == value, "\(name)")
        }
        #expect(StatsCSV.value("ereq", of: web01) == nil)
        #expect(StatsCSV.value("algo", of: web01) == nil)
    }

    @Test("a failed check takes the server DOWN; both DOWN makes the backend DOWN with downtime")
    func downRows() throws {
        var seed = SeedStats()
        seed.check(0, .connectionRefused(), at: 1)
        seed.check(1, .connectionRefused(), at: 2)
        let snapshot = seed.snapshot(now: .seconds(10))
        let web01 = try #require(snapshot.row("web_backend", "web01"))
        #expect(web01.status == "DOWN")
        #expect(StatsCSV.value("check_status", of: web01) == "L4CON")
        #expect(StatsCSV.value("chkdown", of: web01) == "1")
        #expect(StatsCSV.value("downtime", of: web01) == "9")
        #expect(StatsCSV.value("last_chk", of: web01) == "Connection refused")
        let backend = try #require(snapshot.row("web_backend", "BACKEND"))
        #expect(backend.status == "DOWN")
        #expect(StatsCSV.value("act", of: backend) == "0")
        #expect(StatsCSV.value("weight", of: backend) == "0")
        #expect(StatsCSV.value("algo", of: backend) == "roundrobin")
        // Recovery: DOWN 1/2 after one success, UP after two.
        seed.check(0, CheckReport(status: .layer7Passed, code: 200), at: 11)
        #expect(seed.snapshot(now: .seconds(11)).row("web_backend", "web01")?.status == "DOWN 1/2")
        seed.check(0, CheckReport(status: .layer7Passed, code: 200), at: 13)
        #expect(seed.snapshot(now: .seconds(13)).row("web_backend", "BACKEND")?.status == "UP")
    }

    @Test("traffic counters reach the frontend, server and backend rows")
    func trafficColumns() throws {
        var seed = SeedStats()
        seed.serve(0, status: 200, bytesIn: 100, bytesOut: 500)
        seed.serve(1, status: 200, bytesIn: 100, bytesOut: 500)
        seed.serve(0, status: 404, bytesIn: 80, bytesOut: 300)
        let snapshot = seed.snapshot()
        let frontend = try #require(snapshot.row("web_entry", "FRONTEND"))
        #expect(StatsCSV.value("stot", of: frontend) == "3")
        #expect(StatsCSV.value("bin", of: frontend) == "280")
        #expect(StatsCSV.value("bout", of: frontend) == "1300")
        #expect(StatsCSV.value("hrsp_2xx", of: frontend) == "2")
        #expect(StatsCSV.value("hrsp_4xx", of: frontend) == "1")
        #expect(StatsCSV.value("req_tot", of: frontend) == "3")
        #expect(StatsCSV.value("conn_tot", of: frontend) == "3")
        #expect(StatsCSV.value("slim", of: frontend) == "10000")
        let web01 = try #require(snapshot.row("web_backend", "web01"))
        #expect(StatsCSV.value("stot", of: web01) == "2")
        #expect(StatsCSV.value("lbtot", of: web01) == "2")
        let backend = try #require(snapshot.row("web_backend", "BACKEND"))
        #expect(StatsCSV.value("stot", of: backend) == "3")
        #expect(StatsCSV.value("lbtot", of: backend) == "3")
    }

    @Test("JSON parses as HAProxy's typed rows with field names, positions and values")
    func json() throws {
        var seed = SeedStats()
        seed.check(0, CheckReport(status: .layer7Passed, code: 200), at: 1)
        let text = StatsJSON.render(seed.snapshot())
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let rows = try #require(parsed as? [[[String: Any]]])
        #expect(rows.count == 6)
        func field(_ row: [[String: Any]], _ name: String) -> [String: Any]? {
            row.first { (($0["field"] as? [String: Any])?["name"] as? String) == name }
        }
        let web01 = rows[1]
        let status = try #require(field(web01, "status"))
        #expect((status["value"] as? [String: Any])?["value"] as? String == "UP")
        #expect(status["objType"] as? String == "Server")
        #expect((status["field"] as? [String: Any])?["pos"] as? Int == 17)
        let scur = try #require(field(web01, "scur"))
        #expect((scur["value"] as? [String: Any])?["value"] as? Int == 0)
        #expect(field(web01, "ereq") == nil)
        #expect(
            field(rows[0], "pxname").flatMap { ($0["value"] as? [String: Any])?["value"] as? String }
                == "web_entry")
    }

    @Test("Prometheus text uses HAProxy exporter names and labels")
    func prometheus() {
        var seed = SeedStats()
        seed.serve(0, status: 200, bytesIn: 10, bytesOut: 20)
        seed.check(1, .connectionRefused(), at: 1)
        _ = seed.backend.setAdmin(server: 0, .drain, now: .seconds(2))
        let text = PrometheusExposition.render(seed.snapshot())
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "# TYPE haproxy_server_status gauge",
            "haproxy_server_status{proxy=\"web_backend\",server=\"web01\",state=\"DRAIN\"} 1",
            "haproxy_server_status{proxy=\"web_backend\",server=\"web01\",state=\"UP\"} 0",
            "haproxy_server_status{proxy=\"web_backend\",server=\"web02\",state=\"DOWN\"} 1",
            "haproxy_backend_status{proxy=\"web_backend\",state=\"DOWN\"} 1",
            "haproxy_frontend_http_responses_total{proxy=\"web_entry\",code=\"2xx\"} 1",
            "haproxy_backend_http_responses_total{proxy=\"web_backend\",code=\"2xx\"} 1",
            "haproxy_server_http_responses_total{proxy=\"web_backend\",server=\"web01\",code=\"2xx\"} 1",
            "haproxy_frontend_bytes_in_total{proxy=\"web_entry\"} 10",
            "haproxy_server_check_status{proxy=\"web_backend\",server=\"web02\",state=\"L4CON\"} 1",
            "# TYPE haproxy_backend_http_responses_total counter",
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
        // Every sample line is `name{labels} value` with a numeric value.
        for line in lines where !line.hasPrefix("#") {
            let value = line.split(separator: " ").last.map(String.init) ?? ""
            #expect(Double(value) != nil || value == "NaN", "\(line)")
        }
    }

    @Test("the page: statuses, refresh, hide-version, escaping, admin form only when allowed")
    func page() {
        var seed = SeedStats()
        seed.check(1, .connectionRefused(), at: 1)
        _ = seed.backend.setAdmin(server: 0, .maintenance, now: .seconds(2))
        let snapshot = seed.snapshot()
        let html = StatsPageHTML.render(snapshot, options: .init(uri: "/stats", refreshSeconds: 10))
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
        #expect(html.contains("version \(PorticoVersion.current)"))
        #expect(html.contains("MAINT"))
        #expect(html.contains("<tr class=\"down\">"))
        #expect(html.contains("L4CON"))
        #expect(html.contains("/stats;csv"))
        #expect(!html.contains("<form"))
        let hidden = StatsPageHTML.render(snapshot, options: .init(uri: "/stats", hideVersion: true, admin: true))
        #expect(!hidden.contains("version \(PorticoVersion.current)"))
        #expect(!hidden.contains("http-equiv"))
        #expect(hidden.contains("<form method=\"post\" action=\"/stats\">"))
        #expect(hidden.contains("name=\"s\" value=\"web02\""))
        #expect(StatsPageHTML.escape("<a href=\"x\">&") == "&lt;a href=&quot;x&quot;&gt;&amp;")
        #expect(StatsPageHTML.duration(59) == "59s")
        #expect(StatsPageHTML.duration(192) == "3m12s")
        #expect(StatsPageHTML.duration(7500) == "2h05m")
    }
}

@Suite("Stats: basic auth")
struct StatsAuthorizationTests {
    let auth = StatsAuthorization(
        credentials: [.init(user: "admin", password: "strong_password_here"), .init(user: "ops", password: "x:y")],
        realm: "HAProxy Statistics")

    func basic(_ text: String) -> String { "Basic " + Base64.encode(Array(text.utf8)) }

    @Test("valid credentials pass, any other answer is a challenge")
    func cases() {
        #expect(auth.check(authorization: basic("admin:strong_password_here")) == .allowed(user: "admin"))
        #expect(auth.check(authorization: basic("ops:x:y")) == .allowed(user: "ops"))
        #expect(
            auth.check(authorization: "basic " + Base64.encode(Array("admin:strong_password_here".utf8)))
                == .allowed(user: "admin"))
        for bad in [
            nil, "", "Basic", "Bearer abc", basic("admin:wrong"), basic("admin:strong_password_her"),
            basic("admin:strong_password_here!"), basic("Admin:strong_password_here"), basic("admin"),
            "Basic !!!notbase64", basic("ops:x"),
        ] as [String?] {
            #expect(auth.check(authorization: bad) == .challenge, "\(bad ?? "nil")")
        }
        #expect(StatsAuthorization(credentials: [], realm: "r").check(authorization: nil) == .allowed(user: nil))
        #expect(auth.challengeHeader == "Basic realm=\"HAProxy Statistics\"")
    }

    @Test("constant-time compare and base64 round trip")
    func primitives() {
        #expect(StatsAuthorization.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!StatsAuthorization.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!StatsAuthorization.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!StatsAuthorization.constantTimeEqual([], Array("a".utf8)))
        #expect(StatsAuthorization.constantTimeEqual([], []))
        #expect(Base64.encode(Array("admin:strong_password_here".utf8)) == "YWRtaW46c3Ryb25nX3Bhc3N3b3JkX2hlcmU=")
        #expect(Base64.decode("YWRtaW46c3Ryb25nX3Bhc3N3b3JkX2hlcmU=") == Array("admin:strong_password_here".utf8))
        #expect(Base64.decode("YQ") == Array("a".utf8))
        #expect(Base64.decode("Y=Q") == nil)
    }
}

@Suite("Runtime API")
struct RuntimeAPITests {
    typealias API = RuntimeAPI
    let web01 = API.ServerReference(backend: "web_backend", server: "web01")

    @Test("commands parse into changes; usage errors answer with HAProxy's words")
    func parsing() {
        #expect(API.parse("show info") == .command(.showInfo))
        #expect(API.parse("show stat") == .command(.showStat(json: false)))
        #expect(API.parse("show stat json") == .command(.showStat(json: true)))
        #expect(API.parse("show servers state") == .command(.showServersState(backend: nil)))
        #expect(API.parse("show servers state web_backend") == .command(.showServersState(backend: "web_backend")))
        #expect(API.parse("disable server web_backend/web01") == .command(.change(web01, .admin(.maintenance))))
        #expect(API.parse("enable server web_backend/web01") == .command(.change(web01, .admin(.ready))))
        #expect(API.parse("set server web_backend/web01 state drain") == .command(.change(web01, .admin(.drain))))
        #expect(API.parse("set server web_backend/web01 state maint") == .command(.change(web01, .admin(.maintenance))))
        #expect(API.parse("set server web_backend/web01 state ready") == .command(.change(web01, .admin(.ready))))
        #expect(API.parse("set server web_backend/web01 weight 3") == .command(.change(web01, .weight(.absolute(3)))))
        #expect(API.parse("set server web_backend/web01 weight 50%") == .command(.change(web01, .weight(.percent(50)))))
        #expect(API.parse("set server web_backend/web01 health down") == .command(.change(web01, .health(up: false))))
        #expect(API.parse("disable server web_backend") == .reply("Require 'backend/server'.\n\n"))
        #expect(
            API.parse("set server web_backend/web01 state bogus")
                == .reply("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"))
        #expect(
            API.parse("set server web_backend/web01 weight 300")
                == .reply("Absolute weight can only be between 0 and 256 inclusive.\n\n"))
        #expect(
            API.parse("set server web_backend/web01 health x")
                == .reply("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n"))
        #expect(API.parse("disable server web_backend/web01", level: .operator) == .reply(API.permissionDenied))
        guard case .reply(let unknown) = API.parse("frobnicate") else {
            Issue.record("unknown command parsed")
            return
        }
        #expect(unknown.hasPrefix("Unknown command"))
        #expect(unknown.hasSuffix("\n\n"))
    }

    @Test("changes applied to the backend state show in the stats rows")
    func changes() throws {
        var seed = SeedStats()
        seed.check(0, CheckReport(status: .layer7Passed, code: 200), at: 1)
        seed.check(1, CheckReport(status: .layer7Passed, code: 200), at: 1)
        var (reply, actions) = API.apply(.admin(.drain), to: &seed.backend, server: 0, now: .seconds(5))
        #expect(reply == "\n")
        #expect(actions.contains(.setUsable(server: 0, false)))
        var row = try #require(seed.snapshot().row("web_backend", "web01"))
        #expect(row.status == "DRAIN")
        #expect(row.weight == 0)
        #expect(
            API.serversState(seed.snapshot()).contains(
                "\n3 web_backend 1 web01 192.168.10.21 2 8 1 1 25 15 3 4 6 0 0 0 - 80 - 0 0 - - 0\n"))

        (reply, actions) = API.apply(.admin(.maintenance), to: &seed.backend, server: 0, now: .seconds(6))
        row = try #require(seed.snapshot().row("web_backend", "web01"))
        #expect(row.status == "MAINT")

        (_, actions) = API.apply(.weight(.absolute(3)), to: &seed.backend, server: 1, now: .seconds(7))
        #expect(actions.first == .setWeight(server: 1, 3 * ServerSlot.weightScale))
        #expect(seed.snapshot().row("web_backend", "web02")?.weight == 3)
        (_, actions) = API.apply(.weight(.percent(200)), to: &seed.backend, server: 1, now: .seconds(7))
        #expect(seed.snapshot().row("web_backend", "web02")?.weight == 2)

        (_, actions) = API.apply(.health(up: false), to: &seed.backend, server: 1, now: .seconds(8))
        #expect(seed.snapshot().row("web_backend", "web02")?.status == "DOWN")
        #expect(seed.snapshot().row("web_backend", "BACKEND")?.status == "DOWN")
        #expect(actions.contains(.log(.emergency, "backend web_backend has no server available!")))
    }

    @Test("show info and show servers state framing")
    func showText() {
        let info = API.info(ProcessStatsInput(pid: 77, uptimeSeconds: 3725, maxConnections: 10000))
        #expect(info.hasPrefix("Name: Portico\nVersion: \(PorticoVersion.current)\n"))
        #expect(info.contains("\nPid: 77\n"))
        #expect(info.contains("\nUptime: 0d 1h02m05s\n"))
        #expect(info.contains("\nMaxconn: 10000\n"))
        #expect(info.hasSuffix("\n\n"))
        let state = API.serversState(SeedStats().snapshot())
        #expect(state.hasPrefix("1\n# be_id be_name srv_id srv_name srv_addr "))
        #expect(state.hasSuffix("\n\n"))
        #expect(state.split(separator: "\n").count == 4)
        #expect(API.serversState(SeedStats().snapshot(), backend: "nope") == API.cannotFindBackend)
    }
}

@Suite("Reload carry-over")
struct ReloadCarryOverTests {
    let checked = CheckSettings(rise: 2, fall: 3, inter: .seconds(2))

    @Test("unchanged servers keep health, admin state, weight and times; changed or new ones start fresh")
    func carryOver() {
        var old = BackendState(
            name: "web_backend",
            servers: [
                ServerSettings(name: "web01", check: checked), ServerSettings(name: "web02", check: checked),
                ServerSettings(name: "web03", check: checked),
            ])
        _ = old.checkCompleted(server: 0, .connectionRefused(), now: .seconds(10))
        _ = old.setAdmin(server: 1, .drain, now: .seconds(12))
        _ = old.setWeight(server: 1, 5, now: .seconds(12))
        _ = old.checkCompleted(server: 2, .connectionRefused(), now: .seconds(10))
        var new = BackendState(
            name: "web_backend",
            servers: [
                ServerSettings(name: "web01", check: checked), ServerSettings(name: "web02", check: checked),
                ServerSettings(name: "web03", weight: 2, check: checked), ServerSettings(name: "web04", check: checked),
            ])
        // The new state's clock started 20 s after the old one's.
        let carried = new.carryOver(from: old, offset: .seconds(20))
        #expect(carried == [0, 1])
        #expect(new.servers[0].statusText == "DOWN")
        #expect(new.servers[0].lastChange == .seconds(-10))
        #expect(new.servers[0].downtime(at: .seconds(5)) == .seconds(15))
        #expect(new.servers[1].statusText == "DRAIN")
        #expect(new.servers[1].weight == 5)
        #expect(new.servers[2].statusText == "UP 1/3", "web03's weight changed: it starts fresh")
        #expect(new.servers[3].statusText == "UP 1/3")
        var byAddress = BackendState(name: "web_backend", servers: [ServerSettings(name: "web01", check: checked)])
        #expect(byAddress.carryOver(from: old, offset: .zero, isUnchanged: { _ in false }).isEmpty)
    }
}
