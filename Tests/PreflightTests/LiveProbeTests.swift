import Foundation
import Testing

@testable import Preflight

/// Canned answers for the probe: records what it asked.
final class CannedSystem: LiveSystem, @unchecked Sendable {
    var files: [String: String] = [:]
    var sockets: [String: String] = [:]
    var directory: [String] = []
    var http: [UInt8]?
    var httpRequests: [(host: String, port: Int, path: String, headers: [String: String])] = []
    var socketRequests: [(path: String, command: String)] = []

    func interfaces() throws -> [LocalInterface] { LiveScene.interfaces(vip: true) }
    func readText(_ path: String) throws -> String {
        guard let text = files[path] else { throw LiveProbeError("no \(path)") }
        return text
    }
    func exists(_ path: String) -> Bool { sockets[path] != nil }
    func listDirectory(_ path: String) -> [String] { path == "/run/portico" ? directory : [] }
    func httpGet(host: String, port: Int, path: String, headers: [String: String], timeout: Double) throws -> [UInt8] {
        httpRequests.append((host, port, path, headers))
        guard let http else { throw LiveProbeError("connect to \(host):\(port): Connection refused") }
        return http
    }
    var owners: [UInt64: SocketOwner] = [:]
    func socketOwners(_ inodes: Set<UInt64>) -> [UInt64: SocketOwner] { owners.filter { inodes.contains($0.key) } }
    func unixRequest(path: String, command: String, timeout: Double) throws -> String {
        socketRequests.append((path, command))
        guard let answer = sockets[path] else { throw LiveProbeError("connect \(path): No such file or directory") }
        return answer
    }
}

enum Samples {
    /// /proc/net/tcp with a listener on *:80 and 127.0.0.1:8404, and an established connection (ignored).
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
           1: 0100007F:20D4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
           2: 640AA8C0:0050 320AA8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
        """
    /// /proc/net/tcp6 with a listener on [::]:443 and [::ffff:192.168.10.100]:81.
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue
           0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000
           1: 0000000000000000FFFF0000640AA8C0:0051 00000000000000000000000000000000:0000 0A 00000000:00000000
        """
    /// HAProxy 2.6's CSV (columns cut after the ones read, as a shorter layout must work too).
    static let csv = """
        # pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,\
        status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,\
        type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,\
        hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,\
        comp_out,comp_byp,comp_rsp,lastsess,last_chk,
        web_entry,FRONTEND,,,0,1,10000,3,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,,,,,,,,,,,,,,,,,,
        web_backend,web01,0,0,0,1,,2,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,40,0,,1,3,1,,2,,2,0,,1,L7OK,200,1,,\
        ,,,,,0,,,,0,0,,,,,1,"HTTP status check returned code <3C>200<3E>",
        web_backend,web02,0,0,0,1,,1,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,5,5,,1,3,2,,1,,2,0,,1,* L4CON,,0,\
        ,,,,,,0,,,,0,0,,,,,-1,"Connection refused, at initial connection step",
        web_backend,BACKEND,0,0,0,1,1000,3,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,40,0,,1,3,0,,3,,1,0,,1,,,,,,,\
        ,,,,,,,0,0,0,0,0,0,1,,
        stats,FRONTEND,,,1,1,10000,1,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,4,0,,,,0,1,0,1,,,,,,,,,,,,,,,,,,,,,

        """
}

@Suite struct LiveParsingTests {
    @Test func procNetTCPListeners() {
        #expect(
            LiveParsing.listeners(procNetTCP: Samples.tcp, ipv6: false) == [
                ListeningSocket(address: "0.0.0.0", port: 80, isIPv6: false, inode: 1),
                ListeningSocket(address: "127.0.0.1", port: 8404, isIPv6: false, inode: 2),
            ])
        #expect(
            LiveParsing.listeners(procNetTCP: Samples.tcp6, ipv6: true) == [
                ListeningSocket(address: "::", port: 443, isIPv6: true),
                ListeningSocket(address: "::ffff:192.168.10.100", port: 81, isIPv6: true),
            ])
    }

    @Test func statsCSVServers() throws {
        let servers = try #require(LiveParsing.servers(statsCSV: Samples.csv))
        #expect(servers.map(\.server) == ["web01", "web02"])
        #expect(servers.map(\.health) == [.up, .down])
        #expect(servers[0].checkDetail == "L7OK 200 HTTP status check returned code <3C>200<3E>")
        // HAProxy marks a check in progress with "* "; the quoted comma stays inside its field.
        #expect(servers[1].checkDetail == "L4CON Connection refused, at initial connection step")
        #expect(LiveParsing.servers(statsCSV: "<html>login</html>") == nil)
    }

    @Test func httpResponses() throws {
        let plain = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello".utf8)
        #expect(LiveParsing.httpResponse(plain)?.status == 200)
        #expect(LiveParsing.httpResponse(plain)?.body == "hello")
        let chunked = Array(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".utf8)
        #expect(LiveParsing.httpResponse(chunked)?.body == "hello world")
        let refused = Array("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(LiveParsing.httpResponse(refused)?.status == 401)
        #expect(LiveParsing.httpResponse(Array("garbage".utf8)) == nil)
    }
}

@Suite struct LiveProbeTests {
    @Test func asksTheStatsPageWithTheConfigCredentials() throws {
        let system = CannedSystem()
        system.files = ["/proc/net/tcp": Samples.tcp]
        system.http = Array(("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n\r\n" + Samples.csv).utf8)
        system.owners = [1: SocketOwner(pid: 7, command: ["/usr/sbin/nginx", "-g", "daemon off;"])]
        let observation = LiveProbe().observe(LiveScene.node, system: system)
        #expect(observation.listeners.map { $0.owner?.description } == ["nginx (pid 7)", nil])
        let request = try #require(system.httpRequests.first)
        #expect(request.host == "127.0.0.1" && request.port == 8404 && request.path == "/stats;csv")
        // admin:strong_password_here, the seed's stats auth.
        #expect(request.headers["Authorization"] == "Basic YWRtaW46c3Ryb25nX3Bhc3N3b3JkX2hlcmU=")
        guard case .servers(let servers, let source) = observation.balancer else {
            Issue.record("no servers: \(observation.balancer)")
            return
        }
        #expect(source == "http://127.0.0.1:8404/stats;csv")
        #expect(servers.map(\.status) == ["UP", "DOWN"])
        #expect(observation.vrrp == .noControlSocket)
        #expect(system.socketRequests.isEmpty)

        system.http = Array("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".utf8)
        guard case .unavailable(_, let reason) = LiveProbe().observe(LiveScene.node, system: system).balancer else {
            Issue.record("401 not reported")
            return
        }
        #expect(reason.contains("401") && reason.contains("credentials"))
    }

    @Test func readsTheOnlyPorticoVRRPSocketAndDecodesItsStatus() throws {
        let system = CannedSystem()
        system.directory = ["vrrp-lb01.sock", "other.pid"]
        // The shape `portico vrrp status` prints (docs/vrrp-daemon.md), with fields the check does not read.
        system.sockets["/run/portico/vrrp-lb01.sock"] = """
            {"instances":[{"name":"VI_1","state":"MASTER","interface":"eth0","virtualRouterID":51,"version":2,\
            "basePriority":120,"effectivePriority":120,"primaryAddress":"192.168.10.11",\
            "virtualAddresses":["192.168.10.100/24"],"handover":"none","trackers":[{"name":"chk_haproxy",\
            "kind":"script","weight":-30,"reverse":false,"state":"up","detail":"0"}],"counters":{"advertsReceived":0,\
            "advertsSent":12,"droppedTotal":0,"dropped":{},"becameMaster":1,"releasedMaster":0,\
            "priorityZeroReceived":0,"priorityZeroSent":0}}],"pid":42,"routerID":"lb01","unknownVirtualRouterDrops":{}}
            """
        let observation = LiveProbe().observe(LiveScene.node, system: system)
        #expect(system.socketRequests.map(\.command) == ["status"])
        guard case .daemon(let status, let socket) = observation.vrrp else {
            Issue.record("no daemon: \(observation.vrrp)")
            return
        }
        #expect(socket == "/run/portico/vrrp-lb01.sock")
        #expect(status.instances.map(\.state) == ["MASTER"])
        #expect(status.instances.first?.trackers.map(\.state) == ["up"])
        // An explicit socket wins; a socket that does not answer is reported as such.
        let explicit = LiveProbe(vrrpSocket: "/tmp/lab/lb01/vrrp.sock").observe(LiveScene.node, system: system)
        #expect(
            explicit.vrrp
                == .unavailable(
                    socket: "/tmp/lab/lb01/vrrp.sock",
                    reason: "connect /tmp/lab/lb01/vrrp.sock: No such file or directory"))
        // Two daemons and no router_id: which one is ours is unknown.
        system.directory = ["vrrp-a.sock", "vrrp-b.sock"]
        #expect(LiveProbe().observe(LiveScene.node, system: system).vrrp == .noControlSocket)
    }
}
