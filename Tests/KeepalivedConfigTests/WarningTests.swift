import Testing

@testable import KeepalivedConfig

@Suite struct WarningTests {
    /// Parses, expects exactly `expected` as warnings and no error, and returns the only instance.
    func warned(_ text: String, _ expected: [String]) throws -> VRRPInstanceBlock {
        let result = parse(text)
        #expect(result.diagnostics.map(\.description) == expected)
        #expect(result.diagnostics.allSatisfy { $0.severity == .warning })
        let config = try result.get()
        return try #require(config.instances.first)
    }

    @Test func nopreemptWithStateMasterIsClearedLikeKeepalived() throws {
        let vi = try warned(
            instance("    state MASTER\n    nopreempt"),
            ["(keepalived.conf: Line 6) (VI_1) nopreempt will not work with initial state MASTER - clearing"]
        )
        #expect(vi.preempt)
    }

    @Test func nopreemptWithStateBackupWorks() throws {
        let vi = try warned(instance("    state BACKUP\n    nopreempt"), [])
        #expect(!vi.preempt)
    }

    @Test func nopreemptWithPriority255IsCleared() throws {
        let vi = try warned(
            instance("    priority 255\n    nopreempt"),
            ["(keepalived.conf: Line 6) (VI_1) nopreempt is incompatible with priority 255. resetting nopreempt"]
        )
        #expect(vi.preempt)
    }

    @Test func authPassLongerThan8IsTruncatedOnTheWire() throws {
        let vi = try warned(
            instance("    authentication {\n        auth_type PASS\n        auth_pass 1234567890\n    }"),
            [
                "(keepalived.conf: Line 7) Truncating auth_pass to 8 characters "
                    + "(only the first 8 are sent: all nodes must agree on them)"
            ]
        )
        #expect(vi.authentication?.password == "1234567890")
        #expect(vi.authentication?.wirePassword == Array("12345678".utf8))
        #expect(vi.authentication?.passwordLocation == at(7))
    }

    @Test func authenticationWithVersion3IsIgnored() throws {
        let vi = try warned(
            instance("    version 3\n    authentication {\n        auth_type PASS\n        auth_pass secret\n    }"),
            ["(keepalived.conf: Line 6) (VI_1) VRRP version 3 does not support authentication. Ignoring."]
        )
        #expect(vi.authentication == nil)
    }

    @Test func authenticationWithGlobalVersion3IsIgnored() throws {
        let vi = try warned(
            "global_defs {\n    vrrp_version 3\n}\n"
                + instance("    authentication {\n        auth_type PASS\n        auth_pass secret\n    }"),
            ["(keepalived.conf: Line 8) (VI_1) VRRP version 3 does not support authentication. Ignoring."]
        )
        #expect(vi.authentication == nil && vi.version == 3)
    }

    @Test func unicastPeersIncludingThisNode() throws {
        let vi = try warned(
            instance("    unicast_src_ip 10.0.0.11\n    unicast_peer {\n        10.0.0.11\n        10.0.0.12\n    }"),
            ["(keepalived.conf: Line 7) (VI_1) unicast_peer 10.0.0.11 is this node's own unicast_src_ip"]
        )
        #expect(vi.unicastPeers.count == 2)
    }

    @Test func fractionalAdvertIntervalWithVersion2IsRounded() throws {
        let vi = try warned(
            instance("    advert_int 1.5"),
            ["(keepalived.conf: Line 5) (VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding"]
        )
        #expect(vi.advertIntervalCentiseconds == 200)
    }

    @Test func advertIntervalWithVersion3IsRoundedToCentiseconds() throws {
        let vi = try warned(
            instance("    advert_int 0.055\n    version 3"),
            [
                "(keepalived.conf: Line 5) (VI_1) VRRPv3 advertisement interval 0.055000s "
                    + "must be in units of 10ms - rounding"
            ]
        )
        #expect(vi.advertIntervalCentiseconds == 6)
    }

    @Test func duplicateTrackedScriptIsIgnored() throws {
        let vi = try warned(
            "vrrp_script chk {\n    script /bin/true\n}\n"
                + instance("    track_script {\n        chk\n        chk weight 10\n    }"),
            ["(keepalived.conf: Line 10) (VI_1) duplicate track_script chk - ignoring"]
        )
        #expect(vi.trackScripts.map(\.weight) == [0])
    }

    @Test func trackingTheInstancesOwnInterfaceIsIgnored() throws {
        let vi = try warned(
            instance("    track_interface {\n        eth0\n        eth1\n    }"),
            ["(keepalived.conf: Line 6) (VI_1) Ignoring track_interface eth0 since own interface"]
        )
        #expect(vi.trackInterfaces.map(\.name) == ["eth1"])
    }
}
