import KeepalivedConfig
import Testing
import VRRPDaemon

@Suite struct ScriptUserNoticeTests {
    @Test func eachScriptUserKeywordIsNamedWithItsLine() throws {
        let text = """
            global_defs {
                script_user nobody
                enable_script_security
            }
            vrrp_script chk {
                script "/bin/true"
                user nobody
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                track_script {
                    chk
                }
                virtual_ipaddress {
                    192.168.10.100/24
                }
            }
            """
        let result = KeepalivedConfigParser.parse(text: text)
        #expect(!result.diagnostics.hasErrors)
        let notices = scriptUserNotices(result.config).map(\.description)
        #expect(
            notices == [
                "(keepalived.conf: Line 2) script_user is not supported yet by Portico: "
                    + "scripts run as the daemon's user (root)",
                "(keepalived.conf: Line 3) enable_script_security is not enforced yet by Portico: unsafe scripts "
                    + "are not refused at start (`portico check` reports scripts writable by non-root users)",
                "(keepalived.conf: Line 7) vrrp_script chk user is not supported yet by Portico: the script runs as root",
            ])
    }

    @Test func theSeedNeedsNoNotice() throws {
        let seed = """
            vrrp_script chk_haproxy {
                script "/etc/keepalived/check_haproxy.sh"
                interval 2
                weight -30
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 51
                priority 120
                track_script {
                    chk_haproxy
                }
                virtual_ipaddress {
                    192.168.10.100/24 dev eth0
                }
            }
            """
        #expect(scriptUserNotices(KeepalivedConfigParser.parse(text: seed).config).isEmpty)
    }
}
