import Testing

@testable import VRRPCore

/// Single-instance transitions, asserting the exact actions the daemon would carry out.
@Suite struct VRRPInstanceTests {
    let group = IPv4Address.vrrpMulticastGroup
    let peer = IPv4Address(192, 168, 10, 12)

    func config(
        priority: UInt8 = 100, state: VRRPInstanceConfig.InitialState = .backup, version: VRRPVersion = .v2,
        interval: Duration = .seconds(1), preempt: Bool = true, preemptDelay: Duration = .zero,
        trackedItems: [TrackedItem] = [], garp: GratuitousARPSchedule = GratuitousARPSchedule(),
        peers: [IPv4Address] = []
    ) -> VRRPInstanceConfig {
        VRRPInstanceConfig(
            name: "VI_1", version: version, virtualRouterID: 51, priority: priority, advertInterval: interval,
            initialState: state, preempt: preempt, preemptDelay: preemptDelay,
            authentication: version == .v2 ? .password("12345678") : .none, virtualAddresses: [seedVIP],
            primaryAddress: lb01Address, unicastPeers: peers, gratuitousARP: garp, trackedItems: trackedItems)
    }

    func advert(priority: UInt8, version: VRRPVersion = .v2, centiseconds: UInt16 = 100) -> VRRPAdvert {
        VRRPAdvert(
            version: version, virtualRouterID: 51, priority: priority, intervalCentiseconds: centiseconds,
            addresses: [seedVIP], authentication: version == .v2 ? .password("12345678") : .none)
    }

    func received(
        _ priority: UInt8, from source: IPv4Address? = nil, version: VRRPVersion = .v2,
        centiseconds: UInt16 = 100
    ) -> VRRPInstance.Event {
        .advertReceived(
            advert(priority: priority, version: version, centiseconds: centiseconds),
            ReceivedIPHeader(source: source ?? peer))
    }

    func t(_ seconds: Double) -> VRRPInstant { .seconds(seconds) }

    func sentPriorities(_ actions: [VRRPInstance.Action]) -> [UInt8] {
        actions.compactMap { if case .sendAdvert(let advert, _, _) = $0 { return advert.priority } else { return nil } }
    }

    func logs(_ actions: [VRRPInstance.Action]) -> [String] {
        actions.compactMap { if case .log(_, let text) = $0 { return text } else { return nil } }
    }

    /// An instance that has become master at t = 3.609375 (priority 100, no competitor).
    func master(_ config: VRRPInstanceConfig) throws -> VRRPInstance {
        var instance = try VRRPInstance(config: config)
        _ = instance.handle(.start, now: .zero)
        let due = try #require(instance.pendingTimers[.masterDown])
        _ = instance.handle(.timerFired(.masterDown), now: due)
        #expect(instance.state == .master)
        return instance
    }

    // MARK: Startup

    @Test func backupStartWaitsMasterDownInterval() throws {
        var instance = try VRRPInstance(config: config())
        let actions = instance.handle(.start, now: .zero)
        let down = VRRPInstant(.seconds(3) + .seconds(156) / 256)
        #expect(
            actions == [
                .log(.info, "(VI_1) Entering BACKUP STATE (init)"),
                .log(.info, "(VI_1) removing VIPs."),
                .removeVIPs([seedVIP]),
                .setTimer(.masterDown, at: down),
                .runNotify(.backup, priority: 100),
            ])
        #expect(instance.state == .backup)
        #expect(instance.skewTime == .seconds(156) / 256)
    }

    /// keepalived.conf(5): only priority 255 with `state MASTER` becomes master at once; `state MASTER`
    /// at 120 waits like a backup (3 + 136/256 s).
    @Test func stateMasterBelowOwnerPriorityStillWaits() throws {
        var instance = try VRRPInstance(config: config(priority: 120, state: .master))
        let actions = instance.handle(.start, now: .zero)
        #expect(instance.state == .backup)
        #expect(actions.contains(.setTimer(.masterDown, at: VRRPInstant(.seconds(3) + .seconds(136) / 256))))
    }

    @Test func addressOwnerWithStateMasterBecomesMasterAtOnce() throws {
        var instance = try VRRPInstance(config: config(priority: 255, state: .master))
        let actions = instance.handle(.start, now: .zero)
        #expect(instance.state == .master)
        #expect(actions.contains(.addVIPs([seedVIP])))
        #expect(sentPriorities(actions) == [255])
        #expect(actions.contains(.setTimer(.advert, at: t(1))))
        #expect(instance.counters.becameMaster == 1)
    }

    @Test func addressOwnerWithStateBackupWaits() throws {
        var instance = try VRRPInstance(config: config(priority: 255, state: .backup))
        _ = instance.handle(.start, now: .zero)
        #expect(instance.state == .backup)
        // Skew_Time is 1/256 s for the owner.
        #expect(instance.pendingTimers[.masterDown] == VRRPInstant(.seconds(3) + .seconds(1) / 256))
    }

    @Test func startsInFaultWhenTheInterfaceIsDownOrAWeightZeroItemFails() throws {
        var linkDown = try VRRPInstance(config: config())
        _ = linkDown.handle(.interfaceChanged(up: false), now: .zero)
        let actions = linkDown.handle(.start, now: .zero)
        #expect(linkDown.state == .fault)
        #expect(logs(actions).first == "(VI_1) Entering FAULT STATE (init)")
        #expect(actions.contains(.runNotify(.fault, priority: 100)))
        #expect(linkDown.pendingTimers.isEmpty)

        var failing = try VRRPInstance(
            config: config(trackedItems: [TrackedItem(name: "chk", weight: 0, initiallyUp: false)]))
        _ = failing.handle(.start, now: .zero)
        #expect(failing.state == .fault)
        _ = failing.handle(.trackerChanged(name: "chk", up: true), now: t(5))
        #expect(failing.state == .backup)
        #expect(failing.pendingTimers[.masterDown] == t(5) + .seconds(3) + .seconds(156) / 256)
    }

    // MARK: Becoming master

    @Test func becomingMasterTakesVIPsAnnouncesAndAdvertises() throws {
        var instance = try VRRPInstance(config: config(garp: GratuitousARPSchedule(delay: .seconds(1), repeatCount: 5)))
        _ = instance.handle(.start, now: .zero)
        let due = try #require(instance.pendingTimers[.masterDown])
        let actions = instance.handle(.timerFired(.masterDown), now: due)
        let bytes = try advert(priority: 100).encode(source: lb01Address, destination: group)
        #expect(
            actions == [
                .log(.info, "(VI_1) Receive advertisement timeout"),
                .log(.info, "(VI_1) Entering MASTER STATE"),
                .log(.info, "(VI_1) setting VIPs."),
                .addVIPs([seedVIP]),
                .sendGratuitousARP([seedVIP], count: 5),
                .setTimer(.gratuitousARP, at: due + .seconds(1)),
                .runNotify(.master, priority: 100),
                .sendAdvert(advert(priority: 100), destination: group, bytes: bytes),
                .setTimer(.advert, at: due + .seconds(1)),
            ])
        #expect(instance.masterAddress == lb01Address)
    }

    @Test func gratuitousARPFollowsDelayRepeatAndRefresh() throws {
        let garp = GratuitousARPSchedule(
            delay: .seconds(5), repeatCount: 3, refresh: .seconds(60), refreshRepeatCount: 2)
        var instance = try master(config(garp: garp))
        let became = VRRPInstant(.seconds(3) + .seconds(156) / 256)
        let delayed = instance.handle(.timerFired(.gratuitousARP), now: became + .seconds(5))
        #expect(
            delayed == [
                .sendGratuitousARP([seedVIP], count: 3),
                .setTimer(.gratuitousARP, at: became + .seconds(65)),
            ])
        let refresh = instance.handle(.timerFired(.gratuitousARP), now: became + .seconds(65))
        #expect(
            refresh == [
                .sendGratuitousARP([seedVIP], count: 2),
                .setTimer(.gratuitousARP, at: became + .seconds(125)),
            ])
    }

    @Test func gratuitousARPWithoutDelayOrRefreshIsOneBurst() throws {
        var instance = try master(config(garp: GratuitousARPSchedule(delay: .zero, repeatCount: 5)))
        #expect(instance.pendingTimers[.gratuitousARP] == nil)
        let later = instance.handle(.timerFired(.gratuitousARP), now: t(100))
        #expect(later.isEmpty)
    }

    @Test func masterSendsAnAdvertEveryInterval() throws {
        var instance = try master(config())
        let due = try #require(instance.pendingTimers[.advert])
        let actions = instance.handle(.timerFired(.advert), now: due)
        #expect(sentPriorities(actions) == [100])
        #expect(actions.last == .setTimer(.advert, at: due + .seconds(1)))
        #expect(instance.counters.advertsSent == 2)
    }

    // MARK: Master receiving

    @Test func masterAnswersPriorityZeroAtOnce() throws {
        var instance = try master(config())
        let actions = instance.handle(received(0), now: t(4))
        #expect(logs(actions) == ["(VI_1) Master received priority 0 message"])
        #expect(sentPriorities(actions) == [100])
        #expect(actions.last == .setTimer(.advert, at: t(5)))
        #expect(instance.state == .master)
        #expect(instance.counters.priorityZeroReceived == 1)
    }

    @Test func masterStepsDownOnHigherPriority() throws {
        var instance = try master(config())
        let actions = instance.handle(received(150), now: t(4))
        #expect(instance.state == .backup)
        #expect(
            logs(actions).prefix(3) == [
                "(VI_1) Master received advert from 192.168.10.12 with higher priority 150, ours 100",
                "(VI_1) Entering BACKUP STATE",
                "(VI_1) removing VIPs.",
            ])
        #expect(actions.contains(.removeVIPs([seedVIP])))
        #expect(actions.contains(.cancelTimer(.advert)))
        #expect(actions.contains(.setTimer(.masterDown, at: t(4) + .seconds(3) + .seconds(156) / 256)))
        #expect(actions.contains(.runNotify(.backup, priority: 100)))
        #expect(instance.masterAddress == peer && instance.masterPriority == 150)
        #expect(instance.counters.releasedMaster == 1)
    }

    @Test func masterKeepsItsRoleAgainstLowerPriorityOrLowerAddress() throws {
        var instance = try master(config())
        let lower = instance.handle(received(50), now: t(4))
        #expect(sentPriorities(lower) == [100])
        #expect(
            logs(lower) == [
                "(VI_1) Received advert from 192.168.10.12 with lower priority 50, ours 100, forcing new election"
            ])
        let lowerAddress = instance.handle(received(100, from: IPv4Address(192, 168, 10, 5)), now: t(4.5))
        #expect(sentPriorities(lowerAddress) == [100])
        #expect(instance.state == .master)
    }

    @Test func masterEqualPriorityHigherAddressStepsDown() throws {
        var instance = try master(config())
        _ = instance.handle(received(100), now: t(4))
        #expect(instance.state == .backup)
    }

    // MARK: Backup receiving

    @Test func backupResetsItsTimerOnEachAdvertFromABetterMaster() throws {
        var instance = try VRRPInstance(config: config())
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(received(120), now: t(2))
        #expect(actions == [.setTimer(.masterDown, at: t(2) + .seconds(3) + .seconds(156) / 256)])
        #expect(instance.masterAddress == peer)
    }

    @Test func backupReceivingPriorityZeroWaitsSkewTime() throws {
        var instance = try VRRPInstance(config: config())
        _ = instance.handle(.start, now: .zero)
        _ = instance.handle(received(120), now: t(2))
        let actions = instance.handle(received(0), now: t(2.5))
        #expect(
            actions == [
                .log(.info, "(VI_1) Backup received priority 0 advertisement"),
                .setTimer(.masterDown, at: t(2.5) + .seconds(156) / 256),
            ])
    }

    @Test func preemptingBackupIgnoresLowerPriorityAdverts() throws {
        var instance = try VRRPInstance(config: config(priority: 120))
        _ = instance.handle(.start, now: .zero)
        let before = instance.pendingTimers[.masterDown]
        let actions = instance.handle(received(100), now: t(1))
        #expect(logs(actions) == ["(VI_1) received lower priority (100) advert from 192.168.10.12 - discarding"])
        #expect(instance.pendingTimers[.masterDown] == before)
    }

    @Test func preemptOnLowerPriorityAdvertTakesOverAtOnce() throws {
        var cfg = config(priority: 120)
        cfg.preemptOnLowerPriorityAdvert = true
        var instance = try VRRPInstance(config: cfg)
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(received(100), now: t(1))
        #expect(instance.state == .master)
        #expect(sentPriorities(actions) == [120])
    }

    @Test func nopreemptBackupAcceptsALowerPriorityMaster() throws {
        var instance = try VRRPInstance(config: config(priority: 120, preempt: false))
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(received(100), now: t(1))
        #expect(actions == [.setTimer(.masterDown, at: t(1) + .seconds(3) + .seconds(136) / 256)])
    }

    @Test func addressOwnerPreemptsEvenWithNopreempt() throws {
        var instance = try VRRPInstance(config: config(priority: 255, state: .backup, preempt: false))
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(received(100), now: t(1))
        #expect(logs(actions) == ["(VI_1) received lower priority (100) advert from 192.168.10.12 - discarding"])
    }

    /// `preempt_delay 5`: the lower-priority master is accepted for 5 s after it is first seen, then its
    /// adverts are discarded and Master_Down_Timer runs out.
    @Test func preemptDelayHoldsPreemptionThenLetsItHappen() throws {
        var instance = try VRRPInstance(config: config(priority: 120, preemptDelay: .seconds(5)))
        _ = instance.handle(.start, now: .zero)
        let first = instance.handle(received(100), now: t(1))
        #expect(logs(first) == ["VRRP_Instance(VI_1) start preempt delay(5s)"])
        #expect(first.contains(.setTimer(.preemptDelay, at: t(6))))
        for second in 2...5 {
            let actions = instance.handle(received(100), now: t(Double(second)))
            #expect(actions == [.setTimer(.masterDown, at: t(Double(second)) + .seconds(3) + .seconds(136) / 256)])
        }
        _ = instance.handle(.timerFired(.preemptDelay), now: t(6))
        let discarded = instance.handle(received(100), now: t(6))
        #expect(logs(discarded) == ["(VI_1) received lower priority (100) advert from 192.168.10.12 - discarding"])
        let due = try #require(instance.pendingTimers[.masterDown])
        #expect(due == t(5) + .seconds(3) + .seconds(136) / 256)
        _ = instance.handle(.timerFired(.masterDown), now: due)
        #expect(instance.state == .master)
    }

    @Test func preemptDelayStopsWhenAHigherMasterAppears() throws {
        var instance = try VRRPInstance(config: config(priority: 120, preemptDelay: .seconds(5)))
        _ = instance.handle(.start, now: .zero)
        _ = instance.handle(received(100), now: t(1))
        let actions = instance.handle(received(200), now: t(2))
        #expect(logs(actions) == ["VRRP_Instance(VI_1) stop preempt delay"])
        #expect(actions.contains(.cancelTimer(.preemptDelay)))
        #expect(instance.pendingTimers[.preemptDelay] == nil)
    }

    // MARK: Tracking

    @Test func effectivePriorityFollowsWeightsReverseAndClamps() throws {
        let items = [
            TrackedItem(name: "down-minus", weight: -30),
            TrackedItem(name: "up-plus", weight: 20),
            TrackedItem(name: "reverse-minus", weight: -10, reverse: true),
        ]
        var instance = try VRRPInstance(config: config(priority: 100, trackedItems: items))
        // All up: +20 applies, reverse-minus is "down" in reverse, so -10 applies.
        #expect(instance.effectivePriority == 110)
        _ = instance.handle(.trackerChanged(name: "down-minus", up: false), now: .zero)
        #expect(instance.effectivePriority == 80)
        _ = instance.handle(.trackerChanged(name: "up-plus", up: false), now: .zero)
        #expect(instance.effectivePriority == 60)
        _ = instance.handle(.trackerChanged(name: "reverse-minus", up: false), now: .zero)
        #expect(instance.effectivePriority == 70)

        var low = try VRRPInstance(config: config(priority: 20, trackedItems: [TrackedItem(name: "x", weight: -100)]))
        _ = low.handle(.trackerChanged(name: "x", up: false), now: .zero)
        #expect(low.effectivePriority == 1)
        var high = try VRRPInstance(config: config(priority: 250, trackedItems: [TrackedItem(name: "x", weight: 100)]))
        #expect(high.effectivePriority == 254)
        _ = high.handle(.trackerChanged(name: "x", up: false), now: .zero)
        #expect(high.effectivePriority == 250)
    }

    @Test func addressOwnerPriorityIsNotAdjusted() throws {
        var owner = try VRRPInstance(config: config(priority: 255, trackedItems: [TrackedItem(name: "x", weight: -50)]))
        _ = owner.handle(.trackerChanged(name: "x", up: false), now: .zero)
        #expect(owner.effectivePriority == 255)
    }

    @Test func masterAdvertisesAChangedPriorityAtOnce() throws {
        var instance = try master(config(trackedItems: [TrackedItem(name: "chk", weight: -30)]))
        let actions = instance.handle(.trackerChanged(name: "chk", up: false), now: t(4))
        #expect(logs(actions) == ["(VI_1) Changing effective priority from 100 to 70"])
        #expect(sentPriorities(actions) == [70])
        #expect(actions.last == .setTimer(.advert, at: t(5)))
        // A repeated report of the same state is not a change.
        #expect(instance.handle(.trackerChanged(name: "chk", up: false), now: t(4.5)).isEmpty)
    }

    @Test func unknownTrackedItemIsLoggedAndIgnored() throws {
        var instance = try VRRPInstance(config: config())
        let actions = instance.handle(.trackerChanged(name: "nope", up: false), now: .zero)
        #expect(actions == [.log(.warning, "(VI_1) unknown tracked item nope reported down")])
        #expect(instance.effectivePriority == 100)
    }

    // MARK: Fault

    @Test func interfaceDownOnMasterResignsAndReleases() throws {
        var instance = try master(config())
        let actions = instance.handle(.interfaceChanged(up: false), now: t(5))
        #expect(instance.state == .fault)
        #expect(logs(actions).first == "(VI_1) Entering FAULT STATE")
        #expect(sentPriorities(actions) == [0])
        #expect(actions.contains(.removeVIPs([seedVIP])))
        #expect(actions.contains(.cancelTimer(.advert)))
        #expect(actions.last == .runNotify(.fault, priority: 100))
        #expect(instance.pendingTimers.isEmpty)
        // Adverts are counted but ignored in FAULT.
        #expect(instance.handle(received(50), now: t(6)).isEmpty)
        #expect(instance.counters.advertsReceived == 1)
        let up = instance.handle(.interfaceChanged(up: true), now: t(7))
        #expect(instance.state == .backup)
        #expect(up.contains(.setTimer(.masterDown, at: t(7) + .seconds(3) + .seconds(156) / 256)))
        #expect(up.contains(.runNotify(.backup, priority: 100)))
    }

    @Test func faultFromBackupCancelsItsTimers() throws {
        var instance = try VRRPInstance(config: config())
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(.interfaceChanged(up: false), now: t(1))
        #expect(
            actions == [
                .log(.info, "(VI_1) Entering FAULT STATE"),
                .cancelTimer(.masterDown),
                .runNotify(.fault, priority: 100),
            ])
        // The stale fire of the cancelled timer changes nothing.
        #expect(instance.handle(.timerFired(.masterDown), now: t(3.609375)).isEmpty)
        #expect(instance.state == .fault)
    }

    // MARK: Timers

    @Test func earlyOrSupersededTimerFiresAreIgnored() throws {
        var instance = try VRRPInstance(config: config())
        _ = instance.handle(.start, now: .zero)
        _ = instance.handle(received(120), now: t(3))
        // The first timer (due 3.61) was replaced by one due 6.61: a late delivery of the old one is ignored.
        #expect(instance.handle(.timerFired(.masterDown), now: t(3.61)).isEmpty)
        #expect(instance.state == .backup)
        #expect(instance.handle(.timerFired(.advert), now: t(3.7)).isEmpty)
    }

    @Test func version2SkewIsInSecondsWhateverTheInterval() throws {
        let instance = try VRRPInstance(config: config(interval: .seconds(2)))
        #expect(instance.masterDownInterval == .seconds(6) + .seconds(156) / 256)
        let v3 = try VRRPInstance(config: config(version: .v3, interval: .seconds(2)))
        #expect(v3.masterDownInterval == .seconds(6) + .seconds(2) * 156 / 256)
    }

    // MARK: Stop and handover

    @Test func shutdownFromBackupJustStops() throws {
        var instance = try VRRPInstance(config: config())
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(.shutdown, now: t(1))
        #expect(actions == [.cancelTimer(.masterDown), .runNotify(.stop, priority: 100)])
        #expect(instance.state == .initialize)
        // It can be started again.
        _ = instance.handle(.start, now: t(2))
        #expect(instance.state == .backup)
    }

    @Test func handoverWhileBackupHoldsBackAtOnce() throws {
        var instance = try VRRPInstance(config: config(priority: 120))
        _ = instance.handle(.start, now: .zero)
        let actions = instance.handle(.requestHandover, now: t(1))
        #expect(actions.last == .handoverFinished(released: true))
        #expect(instance.isHeldBack)
        // Held back: a lower-priority master is accepted, not discarded.
        let accepted = instance.handle(received(100), now: t(2))
        #expect(accepted == [.setTimer(.masterDown, at: t(2) + .seconds(3) + .seconds(136) / 256)])
        _ = instance.handle(.endHandover, now: t(3))
        #expect(!instance.isHeldBack)
        #expect(logs(instance.handle(received(100), now: t(4))).first?.contains("discarding") == true)
    }

    @Test func handoverAdvertisesZeroEveryIntervalUntilTakenOver() throws {
        var instance = try master(config())
        let start = instance.handle(.requestHandover, now: t(4))
        #expect(sentPriorities(start) == [0])
        #expect(start.contains(.setTimer(.handoverDeadline, at: t(8))))
        #expect(!start.contains(.removeVIPs([seedVIP])))
        let next = instance.handle(.timerFired(.advert), now: t(5))
        #expect(sentPriorities(next) == [0])
        // Another resigning router's priority 0 does not count as a takeover.
        #expect(instance.handle(received(0), now: t(5.2)).isEmpty)
        let taken = instance.handle(received(90), now: t(5.5))
        #expect(taken.contains(.removeVIPs([seedVIP])))
        #expect(taken.last == .handoverFinished(released: true))
        #expect(instance.state == .backup)
        #expect(instance.pendingTimers[.handoverDeadline] == nil)
        #expect(instance.counters.priorityZeroSent == 2)
    }

    @Test func endHandoverWhileResigningStaysMaster() throws {
        var instance = try master(config())
        _ = instance.handle(.requestHandover, now: t(4))
        let actions = instance.handle(.endHandover, now: t(4.5))
        #expect(sentPriorities(actions) == [100])
        #expect(actions.contains(.cancelTimer(.handoverDeadline)))
        #expect(actions.last == .handoverFinished(released: false))
        #expect(instance.state == .master && !instance.isHandingOver)
    }

    // MARK: Receive checks

    @Test func dropsCountEveryReason() throws {
        var instance = try master(config())
        let wrongVRID = VRRPAdvert(
            version: .v2, virtualRouterID: 52, priority: 200, intervalCentiseconds: 100, addresses: [seedVIP],
            authentication: .password("12345678"))
        _ = instance.handle(.advertReceived(wrongVRID, ReceivedIPHeader(source: peer)), now: t(4))
        _ = instance.handle(
            .advertReceived(advert(priority: 200, version: .v3), ReceivedIPHeader(source: peer)), now: t(4))
        _ = instance.handle(.advertReceived(advert(priority: 200), ReceivedIPHeader(source: lb01Address)), now: t(4))
        _ = instance.handle(.packetReceived([0x21, 0x33], ReceivedIPHeader(source: peer)), now: t(4))
        #expect(instance.counters[dropped: .wrongVirtualRouterID] == 1)
        #expect(instance.counters[dropped: .badVersion] == 1)
        #expect(instance.counters[dropped: .ownAdvert] == 1)
        #expect(instance.counters[dropped: .tooShort] == 1)
        #expect(instance.counters.advertsReceived == 0)
        #expect(instance.state == .master)
    }

    @Test func unicastTTLIsNotChecked() {
        let cfg = config()
        let unicast = ReceivedIPHeader(source: peer, destination: lb01Address, ttl: 62)
        #expect(cfg.check(advert(priority: 100), header: unicast) == .accept(addressesMatch: true))
        let multicast = ReceivedIPHeader(source: peer, destination: group, ttl: 254)
        #expect(cfg.check(advert(priority: 100), header: multicast) == .drop(.wrongTTL))
    }

    @Test func differentAddressListIsLoggedButUsed() throws {
        var instance = try master(config())
        let other = VRRPAdvert(
            version: .v2, virtualRouterID: 51, priority: 200, intervalCentiseconds: 100,
            addresses: [IPv4Address(192, 168, 10, 200)], authentication: .password("12345678"))
        let actions = instance.handle(.advertReceived(other, ReceivedIPHeader(source: peer)), now: t(4))
        #expect(
            logs(actions).first
                == "(VI_1) advert from 192.168.10.12 lists addresses 192.168.10.200, ours are 192.168.10.100")
        #expect(instance.state == .backup)
        #expect(instance.counters.addressListMismatches == 1)
    }

    @Test func v2AcceptsPasswordsThatMatchOnTheWire() {
        var cfg = config()
        cfg.authentication = .password("1234567890")  // truncated to 8, as Keepalived does
        #expect(
            cfg.check(advert(priority: 100), header: ReceivedIPHeader(source: peer)) == .accept(addressesMatch: true))
        cfg.authentication = .none
        #expect(cfg.check(advert(priority: 100), header: ReceivedIPHeader(source: peer)) == .drop(.authMismatch))
    }

    // MARK: Unicast

    @Test func unicastPeersGetOneAdvertEachWithTheirOwnChecksum() throws {
        let peers = [IPv4Address(192, 168, 10, 12), IPv4Address(192, 168, 10, 13)]
        let instance = try master(config(version: .v3, interval: .milliseconds(100), peers: peers))
        var copy = instance
        let actions = copy.handle(.timerFired(.advert), now: try #require(instance.pendingTimers[.advert]))
        let sends = actions.compactMap { action -> (IPv4Address, [UInt8])? in
            if case .sendAdvert(_, let destination, let bytes) = action { return (destination, bytes) }
            return nil
        }
        #expect(sends.map(\.0) == peers)
        #expect(sends[0].1 != sends[1].1)
        for (destination, bytes) in sends {
            #expect(try VRRPAdvert.decode(bytes, source: lb01Address, destination: destination).priority == 100)
        }
        #expect(copy.counters.advertsSent == 2)
    }

    // MARK: Config

    @Test func rejectsConfigsThatCannotRun() {
        #expect(throws: VRRPConfigError.advertInterval(.milliseconds(500), .v2)) {
            try VRRPInstance(config: config(interval: .milliseconds(500)))
        }
        #expect(throws: VRRPConfigError.advertInterval(.seconds(41), .v3)) {
            try VRRPInstance(config: config(version: .v3, interval: .seconds(41)))
        }
        #expect(throws: VRRPConfigError.advertInterval(.milliseconds(105), .v3)) {
            try VRRPInstance(config: config(version: .v3, interval: .milliseconds(105)))
        }
        #expect(throws: VRRPConfigError.priority(0)) {
            try VRRPInstance(config: config(priority: 0))
        }
        #expect(throws: VRRPConfigError.duplicateTrackedItem("a")) {
            try VRRPInstance(config: config(trackedItems: [TrackedItem(name: "a"), TrackedItem(name: "a")]))
        }
        var noVIPs = config()
        noVIPs.virtualAddresses = []
        #expect(throws: VRRPConfigError.virtualAddressCount(0)) {
            try VRRPInstance(config: noVIPs)
        }
        var v3Auth = config(version: .v3)
        v3Auth.authentication = .password("x")
        #expect(throws: VRRPConfigError.authenticationInVersion3) {
            try VRRPInstance(config: v3Auth)
        }
        #expect(config(version: .v3, interval: .milliseconds(100)).intervalCentiseconds == 10)
        #expect(config(version: .v3, interval: .seconds(40.95)).intervalCentiseconds == 4095)
        // Durations parsed through Double are a few attoseconds off: still the same centiseconds.
        #expect(config(version: .v3, interval: .seconds(0.1)).intervalCentiseconds == 10)
        #expect(config(version: .v3, interval: .seconds(0.3)).intervalCentiseconds == 30)
        #expect(config(interval: .seconds(255)).intervalCentiseconds == 25500)
        #expect(config(interval: .seconds(256)).intervalCentiseconds == nil)
    }
}

@Suite struct VRRPInstanceStatusTests {
    @Test func statusShowsStatePrioritiesTrackersAndCounters() throws {
        var network = try SimulatedNetwork([
            "lb01": .seed(address: lb01Address, priority: 120, state: .master),
            "lb02": .seed(address: lb02Address, priority: 100, state: .backup),
        ])
        network.startAll()
        network.run(until: VRRPInstant(.seconds(10)))
        network.send(.trackerChanged(name: "chk_haproxy", up: false), to: "lb01")
        network.run(until: network.now)  // deliver the advert lb01 sent with its new priority
        let lb01 = network["lb01"].instance.status
        #expect(lb01.state == "MASTER")
        #expect(lb01.basePriority == 120 && lb01.effectivePriority == 90)
        #expect(lb01.masterAddress == "192.168.10.11")
        #expect(lb01.trackers == [.init(name: "chk_haproxy", kind: "script", weight: -30, reverse: false, up: false)])
        #expect(lb01.virtualAddresses == ["192.168.10.100"])
        let lb02 = network["lb02"].instance.status
        #expect(lb02.state == "BACKUP")
        #expect(lb02.masterPriority == 90)
        #expect(lb02.masterAdvertIntervalMilliseconds == 1000)
        #expect(lb02.counters.advertsReceived == network["lb01"].instance.counters.advertsSent)
    }
}
