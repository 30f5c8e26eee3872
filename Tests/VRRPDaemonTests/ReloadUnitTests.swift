import KeepalivedConfig
import Testing

@testable import VRRPDaemon

/// How a reload decides what changed: trackers by definition (not by where they are written), instances by
/// identity (name, interface, VRID, version, unicast mode).
@Suite struct ReloadUnitTests {
    func parse(_ text: String) throws -> VRRPConfig {
        try KeepalivedConfigParser.parse(text: text).get()
    }

    func config(scriptInterval: Int = 2, prefix: String = "", vrid: Int = 51, priority: Int = 120) -> String {
        prefix + """
            vrrp_script chk_haproxy {
                script "/etc/keepalived/check_haproxy.sh"
                interval \(scriptInterval)
                fall 3
                rise 2
                weight -30
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id \(vrid)
                priority \(priority)
                virtual_ipaddress {
                    192.168.10.100
                }
                track_script {
                    chk_haproxy
                }
            }

            """
    }

    @Test func aScriptMovedInTheFileIsTheSameCheck() throws {
        let before = try parse(config())
        let moved = try parse(config(prefix: "! a comment\n\n"))
        let a = try #require(before.script(named: "chk_haproxy"))
        let b = try #require(moved.script(named: "chk_haproxy"))
        #expect(a.location != b.location)
        #expect(VRRPService.definition(a) == VRRPService.definition(b))
        let retimed = try #require(try parse(config(scriptInterval: 1)).script(named: "chk_haproxy"))
        #expect(VRRPService.definition(a) != VRRPService.definition(retimed))
    }

    @Test func identityIgnoresPriorityButNotTheVRID() throws {
        let before = try #require(try parse(config()).instance(named: "VI_1"))
        let lowered = try #require(try parse(config(priority: 90)).instance(named: "VI_1"))
        let moved = try #require(try parse(config(vrid: 52)).instance(named: "VI_1"))
        #expect(VRRPService.sameIdentity(before, lowered))
        #expect(!VRRPService.sameIdentity(before, moved))
    }
}
