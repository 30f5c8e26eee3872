import Testing

@testable import VRRPCore

/// Reload: `VRRPInstance.reconfigure` on a running instance, with virtual time.
@Suite struct VRRPReconfigureTests {
    let secondVIP = IPv4Address(192, 168, 10, 101)

    func seedPair(lb01Priority: UInt8 = 120) throws -> SimulatedNetwork {
        var net = try SimulatedNetwork([
            "lb01": .seed(address: lb01Address, priority: lb01Priority, state: .master),
            "lb02": .seed(address: lb02Address, priority: 100, state: .backup),
        ])
        net.startAll()
        net.run(for: .seconds(5))
        #expect(net.masters == ["lb01"])
        return net
    }

    /// Reconfigures one node of the network at the current instant and carries out the actions.
    func reload(
        _ net: inout SimulatedNetwork, _ node: String, resetting: Set<String> = [],
        _ edit: (inout VRRPInstanceConfig) -> Void
    ) throws -> [VRRPInstance.Action] {
        let index = net.index(node)
        var config = net.nodes[index].instance.config
        edit(&config)
        let before = net.nodes[index].instance.state
        let actions = try net.nodes[index].instance.reconfigure(config, resettingTrackers: resetting, now: net.now)
        if net.nodes[index].instance.state != before {
            net.nodes[index].states.append((net.now, net.nodes[index].instance.state))
        }
        for action in actions { net.apply(action, node: index) }
        return actions
    }

    func sent(_ actions: [VRRPInstance.Action]) -> [VRRPAdvert] {
        actions.compactMap { if case .sendAdvert(let advert, _, _) = $0 { return advert } else { return nil } }
    }

    @Test func unchangedConfigKeepsTheMasterWithoutAnyVisibleAction() throws {
        var net = try seedPair()
        let timers = net["lb01"].instance.pendingTimers
        let garps = net["lb01"].gratuitousARPs.count
        let actions = try reload(&net, "lb01") { _ in }
        #expect(actions == [.log(.debug, "(VI_1) configuration unchanged")])
        #expect(net["lb01"].instance.pendingTimers == timers)
        net.run(for: .seconds(30))
        #expect(net.masters == ["lb01"])
        #expect(net.vipHolders == ["lb01"])
        #expect(net["lb01"].states.count == 2)  // BACKUP (init), MASTER: nothing after the reload
        #expect(net["lb01"].gratuitousARPs.count == garps)
        #expect(net["lb02"].states.count == 1)
    }

    @Test func trackerStatesSurviveAReloadUnlessReset() throws {
        var net = try seedPair()
        net.send(.trackerChanged(name: "chk_haproxy", up: false), to: "lb01")
        #expect(net["lb01"].instance.effectivePriority == 90)
        _ = try reload(&net, "lb01") { _ in }
        #expect(net["lb01"].instance.effectivePriority == 90)
        #expect(net["lb01"].instance.trackerStates["chk_haproxy"] == false)
        // A changed script definition restarts its state from the start value (up).
        let actions = try reload(&net, "lb01", resetting: ["chk_haproxy"]) { _ in }
        #expect(net["lb01"].instance.effectivePriority == 120)
        #expect(sent(actions).map(\.priority) == [120])
    }

    @Test func loweringTheMasterPriorityBelowTheBackupMovesTheVIPByTheRFCTimer() throws {
        var net = try seedPair()
        let reloadedAt = net.now
        let actions = try reload(&net, "lb01") { $0.priority = 90 }
        // The master stays master and re-advertises the new priority at once.
        #expect(net["lb01"].state == .master)
        #expect(sent(actions).map(\.priority) == [90])
        #expect(actions.contains(.setTimer(.advert, at: reloadedAt + .seconds(1))))
        #expect(actions.contains(.log(.info, "(VI_1) reloaded: priority 120 -> 90")))
        // lb02 (100) discards the lower-priority adverts: its Master_Down_Timer (3 + 156/256 s) runs out.
        let holds = net.run(until: { $0.vipHolders == ["lb02"] }, within: .seconds(6))
        let moved = try #require(holds)
        #expect(moved - reloadedAt <= .seconds(3) + .seconds(156) / 256 + .milliseconds(1))
        #expect(net.masters == ["lb02"])
        #expect(net["lb01"].state == .backup)
    }

    @Test func raisingTheBackupPriorityAboveTheMasterPreemptsThroughNormalAdverts() throws {
        var net = try seedPair()
        let reloadedAt = net.now
        let actions = try reload(&net, "lb02") { $0.priority = 130 }
        #expect(sent(actions).isEmpty)
        #expect(net["lb02"].state == .backup)
        // Master_Down_Interval for priority 130: 3 + 126/256 s from the reload.
        #expect(actions.contains(.setTimer(.masterDown, at: reloadedAt + .seconds(3) + .seconds(126) / 256)))
        let holds = net.run(until: { $0.vipHolders == ["lb02"] }, within: .seconds(5))
        let moved = try #require(holds)
        #expect(moved - reloadedAt <= .seconds(3) + .seconds(126) / 256 + .milliseconds(1))
        net.run(for: .seconds(2))
        #expect(net.masters == ["lb02"])
    }

    @Test func intervalChangeOnTheMasterReschedulesAdverts() throws {
        var net = try seedPair()
        // Both nodes get the new interval (a v2 interval mismatch is dropped), the master first.
        let reloadedAt = net.now
        let actions = try reload(&net, "lb01") { $0.advertInterval = .seconds(2) }
        _ = try reload(&net, "lb02") { $0.advertInterval = .seconds(2) }
        #expect(sent(actions).map(\.intervalCentiseconds) == [200])
        #expect(actions.contains(.setTimer(.advert, at: reloadedAt + .seconds(2))))
        #expect(net["lb01"].instance.masterAdvertInterval == .seconds(2))
        let before = net["lb01"].sent.count
        net.run(for: .seconds(20))
        #expect(net["lb01"].sent.count - before == 10)
        #expect(net.masters == ["lb01"])
        #expect(net["lb02"].instance.masterDownInterval == .seconds(6) + .seconds(156) / 256)
        #expect(net["lb02"].instance.counters.dropped.isEmpty)
    }

    @Test func vipDiffOnTheMasterAddsAndRemovesOnlyTheDifference() throws {
        var net = try seedPair()
        let added = try reload(&net, "lb01") { $0.virtualAddresses = [seedVIP, secondVIP] }
        #expect(added.contains(.addVIPs([secondVIP])))
        #expect(added.contains(.sendGratuitousARP([secondVIP], count: 5)))
        #expect(!added.contains { if case .removeVIPs = $0 { return true } else { return false } })
        #expect(net["lb01"].vips == [seedVIP, secondVIP])
        #expect(sent(added).first?.addresses == [seedVIP, secondVIP])
        // The backup learns the new list by config, never holds it.
        let backup = try reload(&net, "lb02") { $0.virtualAddresses = [seedVIP, secondVIP] }
        #expect(!backup.contains { if case .addVIPs = $0 { return true } else { return false } })
        #expect(net["lb02"].vips.isEmpty)

        let removed = try reload(&net, "lb01") { $0.virtualAddresses = [secondVIP] }
        #expect(removed.contains(.removeVIPs([seedVIP])))
        #expect(!removed.contains { if case .addVIPs = $0 { return true } else { return false } })
        #expect(!removed.contains { if case .sendGratuitousARP = $0 { return true } else { return false } })
        #expect(net["lb01"].vips == [secondVIP])
        #expect(net["lb01"].state == .master)
    }

    @Test func addingAFailedWeightZeroTrackerPutsTheMasterInFault() throws {
        var net = try seedPair()
        let reloadedAt = net.now
        let actions = try reload(&net, "lb01") {
            $0.trackedItems.append(TrackedItem(name: "trk_lb", kind: .process, weight: 0, initiallyUp: false))
        }
        #expect(net["lb01"].state == .fault)
        #expect(sent(actions).map(\.priority) == [0])
        #expect(net["lb01"].vips.isEmpty)
        let holds = net.run(until: { $0.vipHolders == ["lb02"] }, within: .seconds(2))
        let moved = try #require(holds)
        // The priority-0 advert lets lb02 take over after its Skew_Time (156/256 s), not Master_Down_Interval.
        #expect(moved - reloadedAt <= .seconds(156) / 256 + .milliseconds(1))
        // Removing it again leaves FAULT for BACKUP; lb01 preempts back by the RFC timer.
        _ = try reload(&net, "lb01") { $0.trackedItems.removeAll { $0.name == "trk_lb" } }
        #expect(net["lb01"].state == .backup)
        let back = net.run(until: { $0.vipHolders == ["lb01"] }, within: .seconds(5))
        #expect(back != nil)
    }

    @Test func addingAHealthyTrackerKeepsTheMaster() throws {
        var net = try seedPair()
        let actions = try reload(&net, "lb01") {
            $0.trackedItems.append(TrackedItem(name: "trk_lb", kind: .process, weight: 0, initiallyUp: true))
        }
        #expect(net["lb01"].state == .master)
        #expect(sent(actions).isEmpty)
        #expect(actions.contains(.log(.info, "(VI_1) reloaded: tracking trk_lb")))
    }

    @Test func identityChangesAreRefused() throws {
        var instance = try VRRPInstance(config: .seed(address: lb01Address, priority: 120, state: .master))
        _ = instance.handle(.start, now: .zero)
        var other = instance.config
        other.virtualRouterID = 52
        #expect(throws: VRRPConfigError.identityChanged("virtual_router_id 51 -> 52")) {
            _ = try instance.reconfigure(other, now: .seconds(1))
        }
        var invalid = instance.config
        invalid.advertInterval = .milliseconds(500)
        #expect(throws: VRRPConfigError.advertInterval(.milliseconds(500), .v2)) {
            _ = try instance.reconfigure(invalid, now: .seconds(1))
        }
        // A refused config leaves the running one in place.
        #expect(instance.config.virtualRouterID == 51)
        #expect(instance.advertInterval == .seconds(1))
    }

    @Test func backupKeepsItsLearnedMasterAcrossAReload() throws {
        var net = try seedPair()
        let master = net["lb02"].instance.masterAddress
        #expect(master == lb01Address)
        let actions = try reload(&net, "lb02") { $0.preempt = false }
        #expect(net["lb02"].instance.masterAddress == lb01Address)
        #expect(!actions.contains { if case .setTimer = $0 { return true } else { return false } })
        #expect(actions.contains(.log(.info, "(VI_1) reloaded: nopreempt")))
    }
}
