import Foundation
import Testing

@testable import Lab

@Suite struct HTTPResponseParserTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func contentLengthAnswerIsCompleteWhenTheBodyIsIn() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n"
        #expect(HTTPResponseParser.parse(bytes(head + "web"), closed: false) == .incomplete)
        #expect(
            HTTPResponseParser.parse(bytes(head + "web01\n"), closed: false)
                == .complete(status: 200, body: bytes("web01\n")))
        #expect(
            HTTPResponseParser.parse(bytes(head + "web"), closed: true)
                == .malformed("body shorter than Content-Length"))
    }

    @Test func chunkedAnswerIsDecoded() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nweb01\r\n1;x=y\r\n\n\r\n0\r\n\r\n"
        #expect(HTTPResponseParser.parse(bytes(text), closed: false) == .complete(status: 200, body: bytes("web01\n")))
        let partial = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nweb01\r\n"
        #expect(HTTPResponseParser.parse(bytes(partial), closed: false) == .incomplete)
    }

    @Test func closeDelimitedAnswerEndsAtClose() {
        let text = "HTTP/1.0 503 Service Unavailable\r\n\r\n<html>No server is available</html>"
        #expect(HTTPResponseParser.parse(bytes(text), closed: false) == .incomplete)
        #expect(
            HTTPResponseParser.parse(bytes(text), closed: true)
                == .complete(status: 503, body: bytes("<html>No server is available</html>"))
        )
    }

    @Test func garbageIsMalformed() {
        #expect(
            HTTPResponseParser.parse(bytes("SSH-2.0-OpenSSH\r\n\r\n"), closed: true)
                == .malformed("not an HTTP status line: SSH-2.0-OpenSSH"))
    }
}

@Suite struct StatsCSVTests {
    // Captured from HAProxy 2.6.12 in the lab (`/stats;csv` on lb01, web01's nginx stopped a moment before),
    // cut to the first 40 columns.
    static let sample = """
        # pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,
        web_entry,FRONTEND,,,0,1,10000,4,288,812,0,0,0,,,,,OPEN,,,,,,,,,1,1,0,,,,0,0,0,4,,,,0,
        web_backend,web01,0,0,0,1,,2,144,406,,0,,0,0,0,0,UP 1/3,1,1,0,2,0,12,0,,1,2,1,,2,,2,0,,2,L4CON,,0,0,
        web_backend,web02,0,0,0,1,,2,144,406,,0,,0,0,0,0,UP,1,1,0,0,0,12,0,,1,2,2,,2,,2,0,,2,L7OK,200,0,0,
        web_backend,BACKEND,0,0,0,1,1000,4,288,812,0,0,,0,0,0,0,UP,2,2,0,,0,12,0,,1,2,0,,4,,1,0,,4,,,,0,
        stats,FRONTEND,,,1,1,10000,9,1038,23075,0,0,0,,,,,OPEN,,,,,,,,,1,3,0,,,,0,1,0,4,,,,0,
        stats,BACKEND,0,0,0,0,1000,0,1038,23075,0,0,,0,0,0,0,UP,0,0,0,,0,12,,,1,3,0,,0,,1,0,,0,,,,0,

        """

    @Test func serversAndTheirStatusAreRead() {
        let servers = StatsCSV.servers(from: Self.sample)
        #expect(servers.map(\.name) == ["web01", "web02"])
        #expect(servers.map(\.status) == ["UP 1/3", "UP"])
        // Failing its checks but not yet DOWN: still UP for the bands.
        #expect(servers.map(\.state) == ["UP", "UP"])
        #expect(servers.allSatisfy { $0.backend == "web_backend" })
        let down = StatsCSV.servers(from: Self.sample.replacingOccurrences(of: "UP 1/3", with: "DOWN"))
        #expect(down.first?.state == "DOWN")
    }

    @Test func quotedFieldsKeepTheirCommas() {
        #expect(StatsCSV.fields(of: "a,\"b,c\",\"say \"\"hi\"\"\",d") == ["a", "b,c", "say \"hi\"", "d"])
    }

    @Test func textWithoutHeaderGivesNothing() {
        #expect(StatsCSV.servers(from: "<html>401 Unauthorized</html>").isEmpty)
    }
}

@Suite struct KeepalivedLogTests {
    @Test func lastStateAndPriorityWin() {
        let log = """
            Thu Nov 26 06:56:14 2026: (VI_1) Entering BACKUP STATE (init)
            Thu Nov 26 06:56:14 2026: (VI_1) Changing effective priority from 120 to 90
            Thu Nov 26 06:56:17 2026: (VI_1) Entering MASTER STATE
            Thu Nov 26 06:56:18 2026: (VI_1) Changing effective priority from 90 to 120
            """
        #expect(KeepalivedLogView.parse(log) == KeepalivedLogView(state: "MASTER", priority: 120))
        #expect(KeepalivedLogView.parse("Starting Keepalived v2.2.7") == KeepalivedLogView(state: nil, priority: nil))
    }

    @Test func onlyTheLatestStartCounts() {
        let log = """
            --- portico lab 2026-11-26 06:55:18 +0000 starting: keepalived
            (VI_1) Entering FAULT STATE
            --- portico lab 2026-11-26 06:56:18 +0000 starting: keepalived
            (VI_1) Entering BACKUP STATE (init)
            """
        #expect(KeepalivedLogView.parse(String(log.sinceLastStart)).state == "BACKUP")
    }

    @Test func ipAddressListingGivesBareAddresses() {
        let output = """
            2: eth0    inet 192.168.10.11/24 scope global eth0\\       valid_lft forever preferred_lft forever
            2: eth0    inet 192.168.10.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
            """
        #expect(LabNetwork.parseAddresses(output) == ["192.168.10.11", "192.168.10.100"])
    }
}

@Suite struct PorticoVRRPStatusTests {
    @Test func stateAndPriorityAreReadFromTheDaemonsJSON() {
        let text = """
            {"instances":[{"name":"VI_1","state":"MASTER","interface":"eth0","virtualRouterID":51,"version":2,
            "basePriority":120,"effectivePriority":90,"handover":"none","trackers":[]}],"pid":42,"routerID":null,
            "unknownVirtualRouterDrops":{}}
            """
        let instance = PorticoVRRPStatus.parse(text)?.instances.first
        #expect(instance?.state == "MASTER")
        #expect(instance?.effectivePriority == 90)
        #expect(PorticoVRRPStatus.parse("{\"error\":\"no\"}") == nil)
    }
}

@Suite struct BalancerLogTests {
    @Test func serversStartUpAndFollowTheLog() {
        // Lines as HAProxy 2.6 (-db) and portico lb print them.
        let log = """
            [NOTICE]   (8314) : haproxy version is 2.6.12-1+deb12u4
            [WARNING]  (8314) : Server web_backend/web01 is DOWN, reason: Layer4 connection problem, \
            info: "Connection refused", check duration: 0ms. 1 active and 0 backup servers left.
            [ALERT]  (25878) : Server web_backend/web02 is DOWN, reason: Layer4 timeout, check duration: 2001ms.
            [NOTICE]  (25878) : Server web_backend/web02 is UP, reason: Layer7 check passed, code: 200.
            [WARNING]  (8314) : Server other/web09 is DOWN, reason: not in this config.
            """
        let servers = BalancerLog.servers(log: log, config: SeedFiles.haproxyConfig)
        #expect(servers.map(\.name) == ["web01", "web02"])
        #expect(servers.map(\.state) == ["DOWN", "UP"])
        #expect(BalancerLog.servers(log: "", config: SeedFiles.haproxyConfig).map(\.state) == ["UP", "UP"])
    }
}
