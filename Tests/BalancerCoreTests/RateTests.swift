import Foundation
import Testing

@testable import BalancerCore

@Suite("Rates: sessions and requests per second")
struct RateTests {
    /// Samples a meter at each (seconds, total) pair and returns (current, highest) after each one.
    func run(_ samples: [(Duration, Int)]) -> [(Int, Int)] {
        var meter = RateMeter()
        return samples.map { time, total in
            meter.sample(total: total, at: time)
            return (meter.current, meter.highest)
        }
    }

    @Test("the first sample is the baseline; each full second reads its own events; the max stays")
    func perSecondWindows() {
        let readings = run([
            (.seconds(10), 1000),  // baseline: whatever happened before the balancer sampled does not count
            (.seconds(11), 1050),
            (.seconds(12), 1060),
            (.seconds(13), 1060),
            (.seconds(14), 1090),
        ])
        #expect(readings.map(\.0) == [0, 50, 10, 0, 30])
        #expect(readings.map(\.1) == [0, 50, 50, 50, 50])
    }

    @Test("a late sample is scaled to one second, an early one waits for a longer window")
    func jitteredSamples() {
        let readings = run([
            (.seconds(0), 0),
            (.seconds(3), 300),  // the loop was busy for 3 s: 100/s, not 300/s
            (.milliseconds(3_100), 310),  // 100 ms later: too short to say anything, not 100/s
            (.milliseconds(4_000), 400),  // the window runs from 3 s: 100 events in 1 s
            (.milliseconds(5_250), 425),  // 25 events in 1.25 s: 20/s
        ])
        #expect(readings.map(\.0) == [0, 100, 100, 100, 20])
        #expect(readings.map(\.1) == [0, 100, 100, 100, 100])
    }

    @Test("rates are rounded, and a total that went down restarts the window instead of reading negative")
    func roundingAndReset() {
        let readings = run([
            (.zero, 0), (.milliseconds(1_500), 2), (.milliseconds(2_500), 1), (.milliseconds(3_500), 8),
        ])
        #expect(readings.map(\.0) == [0, 1, 0, 7])
        #expect(readings.map(\.1) == [0, 1, 1, 7])
    }

    /// The seed's snapshot after a second where web_entry took 40 sessions carrying 120 requests and
    /// web01 got 70 of them (a peak of 90 before).
    func busySnapshot() -> StatsSnapshot {
        var seed = SeedStats()
        seed.frontendCounters.sessionRate = 40
        seed.frontendCounters.maxSessionRate = 55
        seed.frontendCounters.requestRate = 120
        seed.frontendCounters.maxRequestRate = 150
        seed.serverCounters[0].sessionRate = 70
        seed.serverCounters[0].maxSessionRate = 90
        seed.serverCounters[1].sessionRate = 50
        seed.serverCounters[1].maxSessionRate = 60
        return seed.snapshot()
    }

    @Test("CSV: frontends have every rate column, backends and servers only rate and rate_max")
    func csvColumns() throws {
        let snapshot = busySnapshot()
        let frontend = try #require(snapshot.row("web_entry", "FRONTEND"))
        let expected: [String: String] = [
            "rate": "40", "rate_max": "55", "rate_lim": "0", "req_rate": "120", "req_rate_max": "150",
            "conn_rate": "40", "conn_rate_max": "55",
        ]
        for (name, value) in expected {
            #expect(StatsCSV.value(name, of: frontend) == value, "\(name)")
        }
        let web01 = try #require(snapshot.row("web_backend", "web01"))
        // The backend's counters are the servers' summed (SeedStats), as the balancer's would count them.
        let backend = try #require(snapshot.row("web_backend", "BACKEND"))
        for (row, rate, peak) in [(web01, "70", "90"), (backend, "120", "150")] {
            #expect(StatsCSV.value("rate", of: row) == rate)
            #expect(StatsCSV.value("rate_max", of: row) == peak)
            for name in ["rate_lim", "req_rate", "req_rate_max", "conn_rate", "conn_rate_max"] {
                #expect(StatsCSV.value(name, of: row) == nil, "\(row.service) \(name)")
            }
        }
        // At the documented positions (management guide §9.1: 33 rate, 35 rate_max, 46 req_rate, 77 conn_rate).
        let line = StatsCSV.line(frontend, process: snapshot.process)
        let values = fields(Substring(line))
        #expect([values[33], values[34], values[35], values[46], values[47], values[77], values[78]] == [
            "40", "0", "55", "120", "150", "40", "55",
        ])
    }

    @Test("JSON: rate fields typed as HAProxy types them")
    func jsonTags() throws {
        let json = StatsJSON.render(busySnapshot())
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[[String: Any]]])
        func field(_ row: Int, _ name: String) -> [String: Any]? {
            rows[row].first { (($0["field"] as? [String: Any])?["name"] as? String) == name }
        }
        let rate = try #require(field(0, "req_rate"))
        #expect((rate["value"] as? [String: Any])?["value"] as? Int == 120)
        #expect((rate["tags"] as? [String: Any])?["nature"] as? String == "Rate")
        let peak = try #require(field(1, "rate_max"))
        #expect((peak["value"] as? [String: Any])?["value"] as? Int == 90)
        #expect((peak["tags"] as? [String: Any])?["nature"] as? String == "Max")
        #expect(((field(0, "rate_lim")?["tags"]) as? [String: Any])?["origin"] as? String == "Config")
        #expect(field(1, "req_rate") == nil)
    }

    @Test("Prometheus: HAProxy 2.6's rate families, the highest rates only")
    func prometheusFamilies() {
        var snapshot = busySnapshot()
        snapshot.process.sessionRate = 41
        snapshot.process.maxSessionRate = 56
        let lines = Set(PrometheusExposition.render(snapshot).split(separator: "\n").map(String.init))
        for expected in [
            "haproxy_frontend_max_session_rate{proxy=\"web_entry\"} 55",
            "haproxy_frontend_limit_session_rate{proxy=\"web_entry\"} 0",
            "haproxy_frontend_http_requests_rate_max{proxy=\"web_entry\"} 150",
            "haproxy_frontend_connections_rate_max{proxy=\"web_entry\"} 55",
            "haproxy_backend_max_session_rate{proxy=\"web_backend\"} 150",
            "haproxy_server_max_session_rate{proxy=\"web_backend\",server=\"web01\"} 90",
            "haproxy_process_current_session_rate 41", "haproxy_process_max_session_rate 56",
            "haproxy_process_current_connection_rate 41", "haproxy_process_max_connection_rate 56",
            "# TYPE haproxy_server_max_session_rate gauge",
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
        // HAProxy 2.6's exporter has no current rate per proxy or server: no invented family either.
        #expect(!lines.contains { $0.hasPrefix("haproxy_frontend_current_session_rate") })
        #expect(!lines.contains { $0.hasPrefix("haproxy_server_http_requests_rate_max") })
    }

    @Test("the page has HAProxy's Session rate Cur/Max/Limit columns, after Queue")
    func pageColumns() throws {
        var snapshot = busySnapshot()
        snapshot.process.sessionRate = 41
        let html = StatsPageHTML.render(snapshot, options: .init(uri: "/stats"))
        #expect(html.contains("conn rate = 41/sec"))
        #expect(html.contains("<th colspan=\"3\">Queue</th><th colspan=\"3\">Session rate</th>"))
        // The first table is web_entry's.
        let frontendRow = try #require(html.split(separator: "\n").first { $0.hasPrefix("<tr class=\"frontend up\">") })
        // Name, the three empty queue cells, then the session rate: current, max, no limit.
        let cells: [String] = Array(String(frontendRow).components(separatedBy: "<td").dropFirst(5).prefix(3))
        #expect(cells[0].contains(">40</span></td>"))
        #expect(cells[0].contains("Current connection rate: 40/s"))
        #expect(cells[0].contains("current request rate: 120/s"))
        #expect(cells[1].contains(">55</span></td>"))
        #expect(cells[2] == ">-</td>")
        let web01 = try #require(html.split(separator: "\n").first { $0.contains(">web01</td>") })
        let serverCells: [String] = Array(String(web01).components(separatedBy: "<td").dropFirst(5).prefix(3))
        #expect(serverCells == [">70</td>", ">90</td>", "></td>"])
    }

    @Test("show info reports the process' connection and session rates")
    func showInfo() throws {
        let info = RuntimeAPI.info(ProcessStatsInput(pid: 77, sessionRate: 12, maxSessionRate: 30))
        for line in ["ConnRate: 12", "ConnRateLimit: 0", "MaxConnRate: 30", "SessRate: 12", "MaxSessRate: 30"] {
            #expect(info.contains("\n\(line)\n"), "\(line)")
        }
        // In HAProxy's order: after the cumulated counts, before the node name.
        let cumulated = try #require(info.range(of: "\nCumReq: ")?.lowerBound)
        let rate = try #require(info.range(of: "\nConnRate: ")?.lowerBound)
        #expect(cumulated < rate)
    }

    @Test("counters summed over loops add their rates")
    func sums() {
        var one = TrafficCounters()
        one.sessionRate = 3
        one.maxSessionRate = 9
        one.requestRate = 4
        one.maxRequestRate = 10
        let sum = one + one
        let rates: [Int] = [sum.sessionRate, sum.maxSessionRate, sum.requestRate, sum.maxRequestRate]
        #expect(rates == [6, 18, 8, 20])
    }
}
