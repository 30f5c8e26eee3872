import Testing

@testable import KeepalivedConfig

func parse(_ text: String, file: String = "keepalived.conf") -> ParseResult {
    KeepalivedConfigParser.parse(text: text, file: file)
}

func at(_ line: Int, _ file: String = "keepalived.conf") -> ConfigLocation { ConfigLocation(file: file, line: line) }

/// A minimal valid instance around `body` (lines 1-4, body from line 5).
func instance(_ body: String, name: String = "VI_1", vrid: Int = 51) -> String {
    """
    vrrp_instance \(name) {
        interface eth0
        virtual_router_id \(vrid)
        virtual_ipaddress { 192.168.10.100/24 }
    \(body)
    }
    """
}

@Suite struct KeywordTests {
    @Test func globalDefinitions() throws {
        let result = parse(
            """
            global_defs {
                router_id lb01
                script_user keepalived_script users
                enable_script_security
                vrrp_version 3
                vrrp_garp_master_delay 2
                vrrp_garp_master_repeat 3
                vrrp_garp_master_refresh 60
                vrrp_garp_master_refresh_repeat 2
                vrrp_skip_check_adv_addr
            }
            """ + "\n" + instance("")
        )
        #expect(result.diagnostics == [])
        let global = result.config.global
        #expect(global.location == at(1))
        #expect(global.routerID == "lb01")
        #expect(global.scriptUser == ScriptUser(user: "keepalived_script", group: "users"))
        #expect(global.enableScriptSecurity)
        #expect(global.vrrpVersion == 3)
        #expect(global.garpMasterDelay == .seconds(2))
        #expect(global.garpMasterRepeat == 3)
        #expect(global.garpMasterRefresh == .seconds(60))
        #expect(global.garpMasterRefreshRepeat == 2)
        #expect(global.skipCheckAdvertAddresses)
        #expect(global.location(of: "vrrp_version") == at(5))
        // Global values are the instance defaults.
        let vi = try #require(result.config.instances.first)
        #expect(vi.version == 3)
        #expect(vi.garpMasterDelay == .seconds(2))
        #expect(vi.garpMasterRepeat == 3)
        #expect(vi.garpMasterRefresh == .seconds(60))
        #expect(vi.garpMasterRefreshRepeat == 2)
    }

    @Test func defaultsFollowKeepalived() throws {
        let result = parse(
            """
            vrrp_script chk {
                script /bin/true
            }
            vrrp_track_process haproxy {
                process haproxy
            }
            """ + "\n" + instance("")
        )
        #expect(result.diagnostics == [])
        let config = result.config
        let script = try #require(config.script(named: "chk"))
        #expect(script.interval == .seconds(1))
        #expect(script.fall == 1 && script.rise == 1)
        #expect(script.weight == 0 && !script.reverse)
        #expect(script.timeout == nil && script.user == nil && !script.initFail)
        let process = try #require(config.trackProcess(named: "haproxy"))
        #expect(process.weight == 1 && process.quorum == 1 && process.quorumMax == nil)
        #expect(process.forkDelay == .zero && process.terminateDelay == .zero && process.parameterMatch == nil)
        let vi = try #require(config.instances.first)
        #expect(vi.state == .backup)
        #expect(vi.priority == 100)
        #expect(vi.advertIntervalCentiseconds == 100)
        #expect(vi.version == 2)
        #expect(vi.preempt)
        #expect(vi.preemptDelay == .zero)
        #expect(vi.garpMasterDelay == .seconds(5))
        #expect(vi.garpMasterRepeat == 5)
        #expect(vi.garpMasterRefresh == .zero)
        #expect(vi.garpMasterRefreshRepeat == 1)
        #expect(vi.authentication == nil)
        #expect(!vi.isUnicast)
        #expect(!vi.isSet("priority"))
        #expect(vi.location(of: "priority") == vi.location)
    }

    @Test func vrrpScriptKeywords() throws {
        let result = parse(
            """
            vrrp_script chk {
                script "/etc/keepalived/check.sh --port 80 'a b'"
                interval 2
                timeout 3
                fall 4
                rise 5
                weight 20 reverse
                user nobody nogroup
                init_fail
            }
            """ + "\n" + instance("")
        )
        #expect(result.diagnostics == [])
        let script = try #require(result.config.scripts.first)
        #expect(script.command == ["/etc/keepalived/check.sh", "--port", "80", "a b"])
        #expect(script.interval == .seconds(2))
        #expect(script.timeout == .seconds(3))
        #expect(script.fall == 4 && script.rise == 5)
        #expect(script.weight == 20 && script.reverse)
        #expect(script.user == ScriptUser(user: "nobody", group: "nogroup"))
        #expect(script.initFail)
        #expect(script.location(of: "weight") == at(7))
    }

    @Test func vrrpTrackProcessKeywords() throws {
        let result = parse(
            """
            vrrp_track_process haproxy {
                process haproxy -f "/etc/haproxy/my cfg"
                param_match initial
                weight -20 reverse
                quorum 2
                quorum_max 4
                delay 0.5
                fork_delay 1.25
            }
            vrrp_track_process nginx {
                process nginx
                param_match partial
                terminate_delay 2
            }
            """ + "\n" + instance("")
        )
        #expect(result.diagnostics == [])
        let haproxy = try #require(result.config.trackProcess(named: "haproxy"))
        #expect(haproxy.process == ["haproxy", "-f", "/etc/haproxy/my cfg"])
        #expect(haproxy.parameterMatch == .initial)
        #expect(haproxy.weight == -20 && haproxy.reverse)
        #expect(haproxy.quorum == 2 && haproxy.quorumMax == 4)
        #expect(haproxy.forkDelay == .milliseconds(1250))
        #expect(haproxy.terminateDelay == .milliseconds(500))
        let nginx = try #require(result.config.trackProcess(named: "nginx"))
        #expect(nginx.parameterMatch == .partial)
        #expect(nginx.terminateDelay == .seconds(2) && nginx.forkDelay == .zero)
    }

    @Test func vrrpInstanceKeywords() throws {
        let result = parse(
            """
            vrrp_script chk {
                script /bin/true
                weight -30
            }
            vrrp_track_process haproxy {
                process haproxy
                weight 10
            }
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id 51
                priority 254
                advert_int 0.25
                version 3
                nopreempt
                preempt_delay 4.12
                garp_master_delay 1
                garp_master_repeat 3
                garp_master_refresh 60
                garp_master_refresh_repeat 2
                track_script {
                    chk
                }
                track_process {
                    haproxy weight -50 reverse
                }
                track_interface {
                    eth1
                    eth2 weight -10
                    eth3 weight 5 reverse
                }
                virtual_ipaddress {
                    192.168.10.100/24 brd 192.168.10.255 dev eth0 scope global label eth0:vip
                    192.168.10.101
                }
                virtual_ipaddress_excluded {
                    10.0.0.5/8 dev eth1 scope link
                }
                unicast_src_ip 10.0.0.11
                unicast_peer {
                    10.0.0.12
                    10.0.0.13
                }
                notify_master "/etc/keepalived/notify.sh MASTER"
                notify_backup /etc/keepalived/backup.sh root
                notify_fault "/etc/keepalived/notify.sh FAULT" nobody nogroup
                notify_stop /etc/keepalived/stop.sh
                notify /etc/keepalived/any.sh
                dont_track_primary
            }
            """
        )
        #expect(result.diagnostics == [])
        let vi = try #require(result.config.instances.first)
        #expect(vi.name == "VI_1" && vi.location == at(9))
        #expect(vi.state == .backup)
        #expect(vi.interface == "eth0")
        #expect(vi.virtualRouterID == 51)
        #expect(vi.priority == 254)
        #expect(vi.advertIntervalCentiseconds == 25)
        #expect(vi.advertInterval == .milliseconds(250))
        #expect(vi.version == 3)
        #expect(!vi.preempt)
        #expect(vi.preemptDelay == .milliseconds(4120))
        #expect(vi.garpMasterDelay == .seconds(1) && vi.garpMasterRepeat == 3)
        #expect(vi.garpMasterRefresh == .seconds(60) && vi.garpMasterRefreshRepeat == 2)
        #expect(
            vi.trackScripts == [
                TrackedCheck(name: "chk", location: at(23), weight: -30, reverse: false, weightOverridden: false)
            ])
        #expect(
            vi.trackProcesses == [
                TrackedCheck(name: "haproxy", location: at(26), weight: -50, reverse: true, weightOverridden: true)
            ])
        #expect(
            vi.trackInterfaces == [
                TrackedInterface(name: "eth1", location: at(29)),
                TrackedInterface(name: "eth2", location: at(30), weight: -10),
                TrackedInterface(name: "eth3", location: at(31), weight: 5, reverse: true),
            ])
        #expect(
            vi.virtualIPAddresses == [
                VirtualIPAddress(
                    location: at(34), address: IPv4Address(192, 168, 10, 100), prefixLength: 24,
                    broadcast: IPv4Address(192, 168, 10, 255), device: "eth0", scope: "global",
                    label: "eth0:vip"),
                VirtualIPAddress(location: at(35), address: IPv4Address(192, 168, 10, 101), prefixLength: 32),
            ])
        #expect(
            vi.excludedVirtualIPAddresses == [
                VirtualIPAddress(
                    location: at(38), address: IPv4Address(10, 0, 0, 5), prefixLength: 8, device: "eth1",
                    scope: "link")
            ])
        #expect(vi.unicastSourceIP == IPv4Address(10, 0, 0, 11))
        #expect(
            vi.unicastPeers == [
                UnicastPeer(address: IPv4Address(10, 0, 0, 12), location: at(42)),
                UnicastPeer(address: IPv4Address(10, 0, 0, 13), location: at(43)),
            ])
        #expect(vi.isUnicast)
        #expect(vi.notify.master == NotifyScript(location: at(45), command: ["/etc/keepalived/notify.sh", "MASTER"]))
        #expect(
            vi.notify.backup
                == NotifyScript(
                    location: at(46), command: ["/etc/keepalived/backup.sh"],
                    user: ScriptUser(user: "root")))
        #expect(
            vi.notify.fault
                == NotifyScript(
                    location: at(47), command: ["/etc/keepalived/notify.sh", "FAULT"],
                    user: ScriptUser(user: "nobody", group: "nogroup")))
        #expect(vi.notify.stop?.command == ["/etc/keepalived/stop.sh"])
        #expect(vi.notify.any?.command == ["/etc/keepalived/any.sh"])
        #expect(vi.dontTrackPrimary)
        #expect(vi.location(of: "advert_int") == at(14))
    }

    @Test func trackItemWeightOverridesTheScriptWeight() throws {
        let result = parse(
            """
            vrrp_script chk {
                script /bin/true
                weight -30 reverse
            }
            """ + "\n" + instance("    track_script {\n        chk weight 10\n    }")
        )
        #expect(result.diagnostics == [])
        let tracked = try #require(result.config.instances.first?.trackScripts.first)
        #expect(tracked.weight == 10 && !tracked.reverse && tracked.weightOverridden)
    }

    @Test func advertIntervalFractionsForVersion3() throws {
        let result = parse(instance("    version 3\n    advert_int 0.1"))
        #expect(result.diagnostics == [])
        #expect(result.config.instances.first?.advertIntervalCentiseconds == 10)
    }

    @Test func vipWithoutPrefixIsSlash32() throws {
        let result = parse(
            """
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    192.168.10.100
                }
            }
            """
        )
        #expect(result.diagnostics == [])
        #expect(result.config.instances.first?.virtualIPAddresses.first?.prefixLength == 32)
    }

    @Test func commentsQuotesAndOneLineBlocks() throws {
        let result = parse(
            """
            ! a Keepalived-style comment
            vrrp_script chk { # a trailing comment
                script "/bin/check #not a comment"   ! trailing bang comment
            }
            vrrp_instance VI_1
            {
                interface eth0 # comment
                virtual_router_id 51
                virtual_ipaddress { 192.168.10.100/24 }
                track_script { chk }
            }
            """
        )
        #expect(result.diagnostics == [])
        #expect(result.config.scripts.first?.command == ["/bin/check", "#not", "a", "comment"])
        let vi = try #require(result.config.instances.first)
        #expect(vi.location == at(5))
        #expect(vi.trackScripts.map(\.name) == ["chk"])
        #expect(vi.virtualIPAddresses.first?.location == at(9))
    }

    @Test func preemptKeywordIsAccepted() throws {
        let result = parse(instance("    preempt"))
        #expect(result.diagnostics == [])
        #expect(result.config.instances.first?.preempt == true)
    }

    @Test func oneVRIDTwiceIsAllowedWithDisjointUnicastPeers() throws {
        let result = parse(
            instance("    unicast_peer {\n        10.0.0.2\n    }") + "\n"
                + instance("    unicast_peer {\n        10.0.0.3\n    }", name: "VI_2")
        )
        #expect(result.diagnostics == [])
        #expect(result.config.instances.count == 2)
    }
}
