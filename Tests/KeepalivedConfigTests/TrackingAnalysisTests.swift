import Testing

@testable import KeepalivedConfig

/// A node shaped like the seed's (same line numbers: script weight on line 6, priority on line 13).
func seedLikeNode(
    file: String, state: String, priority: Int, weight: Int, trackItem: String = "chk_haproxy",
    vrid: Int = 51
) throws -> VRRPConfig {
    let text = """
        vrrp_script chk_haproxy {
            script "/etc/keepalived/check_haproxy.sh"
            interval 2
            fall 3
            rise 2
            weight \(weight)
        }

        vrrp_instance VI_1 {
            state \(state)
            interface eth0
            virtual_router_id \(vrid)
            priority \(priority)
            advert_int 1
            track_script {
                \(trackItem)
            }
            virtual_ipaddress {
                192.168.10.100/24 dev eth0
            }
        }
        """
    return try KeepalivedConfigParser.parse(text: text, file: file).get()
}

@Suite struct TrackingAnalysisTests {
    func pair(weight: Int, priorities: (Int, Int) = (120, 100), trackItem: String = "chk_haproxy") throws
        -> [VRRPConfig]
    {
        [
            try seedLikeNode(
                file: "lb01.conf", state: "MASTER", priority: priorities.0, weight: weight,
                trackItem: trackItem),
            try seedLikeNode(
                file: "lb02.conf", state: "BACKUP", priority: priorities.1, weight: weight,
                trackItem: trackItem),
        ]
    }

    @Test func theSeedsWeightMinus30MovesTheVIP() throws {
        #expect(trackingAnalysis(nodes: try pair(weight: -30)) == [])
    }

    @Test func weightMinus10CannotMoveTheVIP() throws {
        #expect(
            trackingAnalysis(nodes: try pair(weight: -10)).map(\.description) == [
                "(lb01.conf: Line 6) (VI_1) track_script chk_haproxy weight -10 cannot move the VIP: when it fails the "
                    + "priority drops from 120 to 110, not below 100 of VI_1 at lb02.conf:13"
            ])
        #expect(trackingAnalysis(nodes: try pair(weight: -10)).hasErrors)
    }

    @Test func aWeightEqualToTheGapLeavesATieAndTheMasterKeepsTheVIP() throws {
        let findings = trackingAnalysis(nodes: try pair(weight: -20))
        #expect(
            findings.map(\.message) == [
                "(VI_1) track_script chk_haproxy weight -20 cannot move the VIP: when it fails the "
                    + "priority drops from 120 to 100, not below 100 of VI_1 at lb02.conf:13"
            ])
    }

    @Test func anItemWeightIsReportedAtTheTrackScriptLine() throws {
        let findings = trackingAnalysis(nodes: try pair(weight: -30, trackItem: "chk_haproxy weight -5"))
        #expect(
            findings.map(\.description) == [
                "(lb01.conf: Line 16) (VI_1) track_script chk_haproxy weight -5 cannot move the VIP: when it fails the "
                    + "priority drops from 120 to 115, not below 100 of VI_1 at lb02.conf:13"
            ])
    }

    @Test func positiveWeightsCountOnBothNodes() throws {
        // +30: master 150 → 120 on failure, backup 130: moves. +10: master 130 → 120, backup 110: does not.
        #expect(trackingAnalysis(nodes: try pair(weight: 30)) == [])
        #expect(
            trackingAnalysis(nodes: try pair(weight: 10)).map(\.message) == [
                "(VI_1) track_script chk_haproxy weight 10 cannot move the VIP: when it fails the "
                    + "priority drops from 130 to 120, not below 110 of VI_1 at lb02.conf:13"
            ])
    }

    @Test func weightZeroOnEveryNodeFaultsThemAll() throws {
        let findings = trackingAnalysis(nodes: try pair(weight: 0))
        #expect(
            findings.map(\.description) == [
                "(lb01.conf: Line 6) (VI_1) track_script chk_haproxy has weight 0 on every node: if it fails on all of "
                    + "them at once (e.g. a shared backend down), every node enters FAULT and none holds the VIP"
            ])
        #expect(!findings.hasErrors)
    }

    @Test func equalPrioritiesAreReported() throws {
        let findings = trackingAnalysis(nodes: try pair(weight: -30, priorities: (100, 100)))
        #expect(
            findings.map(\.description) == [
                "(lb02.conf: Line 13) (VI_1) priority 100 is the same as VI_1 at lb01.conf:13: "
                    + "all nodes should have different priorities"
            ])
    }

    @Test func weightsOnAnAddressOwnerHaveNoEffect() throws {
        let findings = trackingAnalysis(nodes: try pair(weight: -30, priorities: (255, 100)))
        #expect(
            findings.map(\.description) == [
                "(lb01.conf: Line 6) (VI_1) track_script chk_haproxy weight -30 has no effect: priority 255 "
                    + "(address owner) is never changed by tracking"
            ])
    }

    @Test func instancesWithDifferentRouterIDsAreNotCompared() throws {
        let nodes = [
            try seedLikeNode(file: "lb01.conf", state: "MASTER", priority: 120, weight: -10, vrid: 51),
            try seedLikeNode(file: "lb02.conf", state: "BACKUP", priority: 100, weight: -10, vrid: 52),
        ]
        #expect(trackingAnalysis(nodes: nodes) == [])
    }

    @Test func reverseWeightsAreAppliedInTheOppositeState() {
        let location = ConfigLocation(file: "k", line: 1)
        var instance = VRRPInstanceBlock(name: "VI_1", location: location, priority: 120)
        instance.trackInterfaces = [TrackedInterface(name: "eth1", location: location, weight: -30, reverse: true)]
        let backup = VRRPInstanceBlock(name: "VI_1", location: ConfigLocation(file: "b", line: 1), priority: 100)
        // A reversed negative weight raises the priority when the interface is down: it never moves the VIP away,
        // so there is nothing to report.
        let nodes = [VRRPConfig(file: "k", instances: [instance]), VRRPConfig(file: "b", instances: [backup])]
        #expect(trackingAnalysis(nodes: nodes) == [])
    }
}
