import Testing

@testable import KeepalivedConfig

struct BrokenConfig: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var expected: [String]
    var testDescription: String { name }
}

/// Each broken config → the exact diagnostics, with file and line, that `portico vrrp -t` prints.
let brokenConfigs: [BrokenConfig] = [
    BrokenConfig(
        name: "typo in an instance keyword",
        text: instance("    priorty 120"),
        expected: ["(keepalived.conf: Line 5) Unknown keyword 'priorty' - did you mean 'priority'?"]
    ),
    BrokenConfig(
        name: "unknown keyword far from any",
        text: instance("    frobnicate yes"),
        expected: ["(keepalived.conf: Line 5) Unknown keyword 'frobnicate'"]
    ),
    BrokenConfig(
        name: "typo at top level",
        text: "vrrp_instanse VI_1 {\n}\n",
        expected: ["(keepalived.conf: Line 1) Unknown keyword 'vrrp_instanse' - did you mean 'vrrp_instance'?"]
    ),
    BrokenConfig(
        name: "typo in global_defs",
        text: "global_defs {\n    router_di lb01\n}\n" + instance(""),
        expected: ["(keepalived.conf: Line 2) Unknown keyword 'router_di' - did you mean 'router_id'?"]
    ),
    BrokenConfig(
        name: "typo in vrrp_script",
        text: "vrrp_script chk {\n    script /bin/true\n    intervall 2\n}\n",
        expected: ["(keepalived.conf: Line 3) Unknown keyword 'intervall' - did you mean 'interval'?"]
    ),
    BrokenConfig(
        name: "extra closing brace",
        text: instance("") + "\n}\n",
        expected: ["(keepalived.conf: Line 7) Extra '}' found"]
    ),
    BrokenConfig(
        name: "missing closing brace",
        text: "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n"
            + "        192.168.10.100/24\n}\n",
        expected: [
            "(keepalived.conf: Line 1) There are 1 missing '}'s or extra '{'s "
                + "(block 'vrrp_instance VI_1' is not closed)"
        ]
    ),
    BrokenConfig(
        name: "missing interface, virtual_router_id and VIP",
        text: "vrrp_instance VI_1 {\n    priority 100\n}\n",
        expected: [
            "(keepalived.conf: Line 1) (VI_1) interface must be set",
            "(keepalived.conf: Line 1) (VI_1) the virtual router id must be set",
            "(keepalived.conf: Line 1) (VI_1) No VIP specified; at least one is required",
        ]
    ),
    BrokenConfig(
        name: "empty virtual_ipaddress block",
        text: "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n    }\n}\n",
        expected: ["(keepalived.conf: Line 4) (VI_1) No VIP specified; at least one is required"]
    ),
    BrokenConfig(
        name: "unknown vrrp_script in track_script",
        text: instance("    track_script {\n        chk_haproxi\n    }"),
        expected: ["(keepalived.conf: Line 6) (VI_1) track script chk_haproxi not found"]
    ),
    BrokenConfig(
        name: "unknown vrrp_track_process in track_process",
        text: instance("    track_process {\n        haproxy\n    }"),
        expected: ["(keepalived.conf: Line 6) (VI_1) track process haproxy not found"]
    ),
    BrokenConfig(
        name: "virtual_router_id out of range",
        text: instance("    virtual_router_id 256"),
        expected: ["(keepalived.conf: Line 5) (VI_1): VRID '256' not valid - must be between 1 & 255"]
    ),
    BrokenConfig(
        name: "virtual_router_id not a number",
        text: instance("    virtual_router_id fifty"),
        expected: ["(keepalived.conf: Line 5) (VI_1): VRID 'fifty' not valid - must be between 1 & 255"]
    ),
    BrokenConfig(
        name: "priority 0",
        text: instance("    priority 0"),
        expected: ["(keepalived.conf: Line 5) (VI_1) Priority not valid! must be between 1 & 255"]
    ),
    BrokenConfig(
        name: "priority 256",
        text: instance("    priority 256"),
        expected: ["(keepalived.conf: Line 5) (VI_1) Priority not valid! must be between 1 & 255"]
    ),
    BrokenConfig(
        name: "version 4",
        text: instance("    version 4"),
        expected: ["(keepalived.conf: Line 5) (VI_1): Version must be either 2 or 3"]
    ),
    BrokenConfig(
        name: "unknown state",
        text: instance("    state master"),
        expected: ["(keepalived.conf: Line 5) (VI_1) unknown state 'master' - must be MASTER or BACKUP"]
    ),
    BrokenConfig(
        name: "advert_int below 10 ms",
        text: instance("    advert_int 0.001"),
        expected: ["(keepalived.conf: Line 5) (VI_1) Advert interval (0.001) not valid! must be between 0.01 and 255"]
    ),
    BrokenConfig(
        name: "advert_int below 1 s with VRRPv2",
        text: instance("    advert_int 0.5"),
        expected: [
            "(keepalived.conf: Line 5) (VI_1) VRRPv2 advertisement interval 0.500000s is out of range. "
                + "Must be at least 1s"
        ]
    ),
    BrokenConfig(
        name: "advert_int above 40.95 s with VRRPv3",
        text: instance("    version 3\n    advert_int 41"),
        expected: [
            "(keepalived.conf: Line 6) (VI_1) VRRPv3 advertisement interval 41.000000s is out of range. "
                + "Must be at most 40.95s"
        ]
    ),
    BrokenConfig(
        name: "preempt_delay above 1000",
        text: instance("    preempt_delay 2000"),
        expected: ["(keepalived.conf: Line 5) (VI_1) Preempt_delay not valid! must be between 0-1000"]
    ),
    BrokenConfig(
        name: "garp_master_delay with a fraction",
        text: instance("    garp_master_delay 1.5"),
        expected: ["(keepalived.conf: Line 5) (VI_1): garp_master_delay '1.5' invalid"]
    ),
    BrokenConfig(
        name: "garp_master_repeat 0",
        text: instance("    garp_master_repeat 0"),
        expected: ["(keepalived.conf: Line 5) (VI_1): garp_master_repeat must be greater than 0"]
    ),
    BrokenConfig(
        name: "script weight out of range",
        text: "vrrp_script chk {\n    script /bin/true\n    weight 300\n}\n" + instance(""),
        expected: ["(keepalived.conf: Line 3) vrrp_script chk weight 300 must be in [-253, 253]"]
    ),
    BrokenConfig(
        name: "script interval with a fraction and fall 0",
        text: "vrrp_script chk {\n    script /bin/true\n    interval 0.5\n    fall 0\n}\n" + instance(""),
        expected: [
            "(keepalived.conf: Line 3) (chk): vrrp script interval '0.5' must be between 1 and 4294",
            "(keepalived.conf: Line 4) (chk): vrrp script fall value '0' invalid",
        ]
    ),
    BrokenConfig(
        name: "script without a command",
        text: "vrrp_script chk {\n    interval 2\n}\n" + instance(""),
        expected: ["(keepalived.conf: Line 1) (chk): No script specified for vrrp_script"]
    ),
    BrokenConfig(
        name: "track_script item weight out of range",
        text: "vrrp_script chk {\n    script /bin/true\n}\n"
            + instance("    track_script {\n        chk weight 254\n    }"),
        expected: ["(keepalived.conf: Line 9) (VI_1) track_script chk: weight must be between [-253..253] inclusive"]
    ),
    BrokenConfig(
        name: "track_process weight and quorum out of range",
        text: "vrrp_track_process p {\n    process haproxy\n    weight 255\n    quorum 0\n}\n" + instance(""),
        expected: [
            "(keepalived.conf: Line 3) Weight (255) for vrrp_track_process p must be between [-254..254] inclusive",
            "(keepalived.conf: Line 4) Quorum (0) for vrrp_track_process p must be between [1..65535] inclusive",
        ]
    ),
    BrokenConfig(
        name: "track_interface weight out of range",
        text: instance("    track_interface {\n        eth1 weight 300\n    }"),
        expected: [
            "(keepalived.conf: Line 6) (VI_1) track_interface eth1: weight must be between [-253..253] inclusive"
        ]
    ),
    BrokenConfig(
        name: "invalid VIP, prefix, scope and option",
        text: """
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    192.168.10.300/24
                    192.168.10.100/33
                    192.168.10.101/24 scope bogus
                    192.168.10.102/24 foo bar
                    192.168.10.103/24 dev
                    192.168.10.104/24 no_track
                    fe80::1/64
                }
            }
            """,
        expected: [
            "(keepalived.conf: Line 5) VRRP parsed invalid IP 192.168.10.300/24",
            "(keepalived.conf: Line 6) Invalid address prefix len 33 for address 192.168.10.100/33",
            "(keepalived.conf: Line 7) Invalid scope 'bogus' specified for 192.168.10.101/24",
            "(keepalived.conf: Line 8) Unknown configuration entry 'foo' for ip address",
            "(keepalived.conf: Line 9) Missing value for 'dev' for ip address 192.168.10.103/24",
            "(keepalived.conf: Line 10) Option 'no_track' for ip address is not supported yet",
            "(keepalived.conf: Line 11) IPv6 virtual address fe80::1/64 is not supported yet",
        ]
    ),
    BrokenConfig(
        name: "malformed unicast peer and source",
        text: instance(
            "    unicast_src_ip 10.0.0.256\n    unicast_peer {\n        bogus\n        10.0.0.2 min_ttl 1\n    }"),
        expected: [
            "(keepalived.conf: Line 5) (VI_1) Invalid unicast_src_ip '10.0.0.256'",
            "(keepalived.conf: Line 7) Configuration error: VRRP instance[VI_1] malformed unicast peer address[bogus]",
            "(keepalived.conf: Line 8) Option 'min_ttl' for unicast_peer is not supported yet",
        ]
    ),
    BrokenConfig(
        name: "auth_type AH",
        text: instance("    authentication {\n        auth_type AH\n        auth_pass secret\n    }"),
        expected: ["(keepalived.conf: Line 6) (VI_1) auth_type AH is not supported yet"]
    ),
    BrokenConfig(
        name: "authentication without auth_pass",
        text: instance("    authentication {\n        auth_type PASS\n    }"),
        expected: ["(keepalived.conf: Line 5) (VI_1) authentication requires auth_pass"]
    ),
    BrokenConfig(
        name: "vrrp_sync_group is not supported yet",
        text: instance("") + "\nvrrp_sync_group G {\n    group {\n        VI_1\n    }\n}\n",
        expected: ["(keepalived.conf: Line 7) Keyword 'vrrp_sync_group' is not supported yet"]
    ),
    BrokenConfig(
        name: "smtp_alert and notification_email are not supported yet",
        text: "global_defs {\n    notification_email {\n        ops@example.com\n    }\n}\n"
            + instance("    smtp_alert"),
        expected: [
            "(keepalived.conf: Line 2) Keyword 'notification_email' is not supported yet",
            "(keepalived.conf: Line 10) Keyword 'smtp_alert' is not supported yet",
        ]
    ),
    BrokenConfig(
        name: "vrrp_strict is not supported yet",
        text: "global_defs {\n    vrrp_strict\n}\n" + instance(""),
        expected: ["(keepalived.conf: Line 2) Keyword 'vrrp_strict' is not supported yet"]
    ),
    BrokenConfig(
        name: "missing value and extra argument",
        text: instance("    priority\n    state BACKUP MASTER"),
        expected: [
            "(keepalived.conf: Line 5) (VI_1) 'priority' requires a value",
            "(keepalived.conf: Line 6) (VI_1) Unexpected argument 'MASTER' after 'state'",
        ]
    ),
    BrokenConfig(
        name: "block keyword without a block",
        text: instance("    track_script chk"),
        expected: ["(keepalived.conf: Line 5) (VI_1) 'track_script' requires a '{' block"]
    ),
    BrokenConfig(
        name: "duplicate instance",
        text: instance("") + "\n" + instance(""),
        expected: ["(keepalived.conf: Line 7) vrrp_instance VI_1 already defined at keepalived.conf:1"]
    ),
    BrokenConfig(
        name: "one VRID twice on one interface",
        text: instance("") + "\n" + instance("", name: "VI_2"),
        expected: ["(keepalived.conf: Line 9) VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"]
    ),
    BrokenConfig(
        name: "a block without a keyword",
        text: instance("") + "\n{\n    priority 100\n}\n",
        expected: ["(keepalived.conf: Line 7) '{' without a keyword"]
    ),
    BrokenConfig(
        name: "unterminated quote",
        text: "vrrp_script chk {\n    script \"/bin/true\n}\n" + instance(""),
        expected: [
            "(keepalived.conf: Line 2) Unterminated quoted string"
        ]
    ),
]

@Suite struct DiagnosticTests {
    @Test(arguments: brokenConfigs)
    func brokenConfigGivesExactDiagnostics(_ broken: BrokenConfig) {
        let result = parse(broken.text)
        #expect(result.diagnostics.map(\.description) == broken.expected)
        #expect(result.diagnostics.hasErrors)
        #expect(throws: ConfigError.self) { try result.get() }
    }

    @Test func allErrorsAreReportedInOneRun() {
        let result = parse(
            """
            global_defs {
                router_di lb01
            }
            vrrp_script chk {
                script /bin/true
                weight 300
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 300
                priorty 120
                advert_int 1
                track_script {
                    chk_nope
                }
                virtual_ipaddress {
                    192.168.10.100/24
                }
            }
            vrrp_instance VI_2 {
                virtual_router_id 52
                virtual_ipaddress {
                    192.168.10.101/24
                }
            }
            }
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "(keepalived.conf: Line 2) Unknown keyword 'router_di' - did you mean 'router_id'?",
                "(keepalived.conf: Line 6) vrrp_script chk weight 300 must be in [-253, 253]",
                "(keepalived.conf: Line 8) (VI_1) the virtual router id must be set",
                "(keepalived.conf: Line 10) (VI_1): VRID '300' not valid - must be between 1 & 255",
                "(keepalived.conf: Line 11) Unknown keyword 'priorty' - did you mean 'priority'?",
                "(keepalived.conf: Line 14) (VI_1) track script chk_nope not found",
                "(keepalived.conf: Line 20) (VI_2) interface must be set",
                "(keepalived.conf: Line 26) Extra '}' found",
            ])
    }

    @Test func didYouMeanUsesTheBlocksKeywordTable() {
        // `interval` exists in vrrp_script but an instance's table suggests `interface`.
        let result = parse(instance("    interfac eth1\n    advert_in 1\n    virtual_route_id 5\n    nopremept"))
        #expect(
            result.diagnostics.map(\.message) == [
                "Unknown keyword 'interfac' - did you mean 'interface'?",
                "Unknown keyword 'advert_in' - did you mean 'advert_int'?",
                "Unknown keyword 'virtual_route_id' - did you mean 'virtual_router_id'?",
                "Unknown keyword 'nopremept' - did you mean 'nopreempt'?",
            ])
        let script = parse("vrrp_script chk {\n    script /bin/true\n    interva 2\n}\n" + instance(""))
        #expect(script.diagnostics.map(\.message) == ["Unknown keyword 'interva' - did you mean 'interval'?"])
    }

    @Test func farWordsGetNoSuggestion() {
        #expect(Suggestion.closest(to: "xyz", in: ["priority", "state"]) == nil)
        #expect(Suggestion.closest(to: "priorty", in: ["priority", "state"]) == "priority")
    }
}
