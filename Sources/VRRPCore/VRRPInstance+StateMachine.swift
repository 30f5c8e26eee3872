// The transitions of VRRPInstance, one function per RFC 5798 §6.4 event.

extension VRRPInstance {
    /// How often the same drop reason may be logged: a flood of bad packets must not flood the log.
    static let dropLogInterval: Duration = .seconds(60)

    var name: String { config.name }

    // MARK: Startup (RFC 5798 §6.4.1)

    mutating func start(now: VRRPInstant, into actions: inout [Action]) {
        guard state == .initialize else {
            actions.append(.log(.debug, "(\(name)) start ignored: already \(state)"))
            return
        }
        masterAdvertInterval = advertInterval
        effectivePriority = computeEffectivePriority()
        if faultCondition {
            state = .fault
            actions.append(.log(.info, "(\(name)) Entering FAULT STATE (init)"))
            removeLeftoverVIPs(into: &actions)
            actions.append(.runNotify(.fault, priority: Int(effectivePriority)))
        } else if config.isAddressOwner, config.initialState == .master {
            // RFC 5798 §6.4.1: the owner goes straight to master. Keepalived does this only for
            // `state MASTER` with priority 255; others wait Master_Down_Interval (keepalived.conf(5), `state`).
            becomeMaster(now: now, into: &actions)
        } else {
            state = .backup
            actions.append(.log(.info, "(\(name)) Entering BACKUP STATE (init)"))
            removeLeftoverVIPs(into: &actions)
            setTimer(.masterDown, at: now + masterDownInterval, into: &actions)
            actions.append(.runNotify(.backup, priority: Int(effectivePriority)))
        }
    }

    /// A VIP left by a previous run (a crash, `kill -9`) would answer beside the real master: Keepalived
    /// removes them at start too ("(VI_1) removing VIPs." before "Entering BACKUP STATE (init)").
    func removeLeftoverVIPs(into actions: inout [Action]) {
        actions.append(.log(.info, "(\(name)) removing VIPs."))
        actions.append(.removeVIPs(config.virtualAddresses))
    }

    // MARK: Receiving

    mutating func receive(
        _ advert: VRRPAdvert, header: ReceivedIPHeader, now: VRRPInstant, into actions: inout [Action]
    ) {
        let addressesMatch: Bool
        switch config.check(advert, header: header) {
        case .drop(let reason):
            drop(
                reason, from: header.source, detail: describe(reason, advert: advert, header: header), now: now,
                into: &actions)
            return
        case .accept(let matches):
            addressesMatch = matches
        }
        counters.advertsReceived += 1
        if advert.priority == VRRPAdvert.resignPriority { counters.priorityZeroReceived += 1 }
        if !addressesMatch {
            counters.addressListMismatches += 1
            if lastAddressMismatchLog.map({ now - $0 >= Self.dropLogInterval }) ?? true {
                lastAddressMismatchLog = now
                let theirs = advert.addresses.map(\.description).joined(separator: ",")
                let ours = config.virtualAddresses.map(\.description).joined(separator: ",")
                actions.append(
                    .log(
                        .warning,
                        "(\(name)) advert from \(header.source) lists addresses \(theirs), ours are \(ours)"))
            }
        }
        switch state {
        case .master:
            masterReceived(advert, from: header.source, now: now, into: &actions)
        case .backup:
            backupReceived(advert, from: header.source, now: now, into: &actions)
        case .fault, .initialize:
            // Counted, but a FAULT or stopped instance takes no part in the election.
            break
        }
    }

    /// RFC 5798 §6.4.2, "If an ADVERTISEMENT is received".
    mutating func backupReceived(
        _ advert: VRRPAdvert, from source: IPv4Address, now: VRRPInstant,
        into actions: inout [Action]
    ) {
        if advert.priority == VRRPAdvert.resignPriority {
            // The master is resigning: take over after Skew_Time, the highest-priority backup first.
            actions.append(.log(.info, "(\(name)) Backup received priority 0 advertisement"))
            setTimer(.masterDown, at: now + skewTime, into: &actions)
            return
        }
        // RFC 5798 §6.1 Preempt_Mode: the address owner always preempts, whatever `nopreempt` says. A held-back
        // instance (after a planned handover) never does.
        let mayPreempt = handover != .heldBack && (config.preempt || config.isAddressOwner)
        let preemptDelayHolds = config.preemptDelay > .zero && preemptDelayState != .expired
        if !mayPreempt || advert.priority >= effectivePriority || preemptDelayHolds {
            acceptMaster(advert, from: source, now: now, into: &actions)
            guard mayPreempt, config.preemptDelay > .zero else { return }
            if advert.priority >= effectivePriority {
                if preemptDelayState != .idle {
                    actions.append(.log(.info, "VRRP_Instance(\(name)) stop preempt delay"))
                    preemptDelayState = .idle
                    cancelTimer(.preemptDelay, into: &actions)
                }
            } else if preemptDelayState == .idle {
                actions.append(
                    .log(.info, "VRRP_Instance(\(name)) start preempt delay(\(Self.format(config.preemptDelay)))"))
                preemptDelayState = .running
                setTimer(.preemptDelay, at: now + config.preemptDelay, into: &actions)
            }
            return
        }
        // Preempting: a lower-priority master's adverts do not reset Master_Down_Timer, so it runs out.
        actions.append(
            .log(.info, "(\(name)) received lower priority (\(advert.priority)) advert from \(source) - discarding"))
        masterAddress = source
        masterPriority = advert.priority
        if config.preemptOnLowerPriorityAdvert {
            actions.append(.log(.info, "(\(name)) preempting lower priority master \(source) at once"))
            becomeMaster(now: now, into: &actions)
        }
    }

    /// A backup accepts the sender as master: learn its interval (VRRPv3) and restart Master_Down_Timer.
    mutating func acceptMaster(
        _ advert: VRRPAdvert, from source: IPv4Address, now: VRRPInstant,
        into actions: inout [Action]
    ) {
        learnInterval(from: advert, into: &actions)
        masterAddress = source
        masterPriority = advert.priority
        setTimer(.masterDown, at: now + masterDownInterval, into: &actions)
    }

    /// RFC 5798 §6.4.2: a VRRPv3 backup sets Master_Adver_Interval to the interval in the master's advert.
    mutating func learnInterval(from advert: VRRPAdvert, into actions: inout [Action]) {
        guard config.version == .v3 else { return }
        let advertised = advert.interval
        guard advertised != masterAdvertInterval, advertised > .zero else { return }
        actions.append(
            .log(
                .info,
                "(\(name)) advertisement interval updated to \(Self.milliseconds(advertised)) milli-sec from "
                    + "\(Self.milliseconds(masterAdvertInterval)) milli-sec"))
        masterAdvertInterval = advertised
    }

    /// RFC 5798 §6.4.3, "If an ADVERTISEMENT is received".
    mutating func masterReceived(
        _ advert: VRRPAdvert, from source: IPv4Address, now: VRRPInstant,
        into actions: inout [Action]
    ) {
        if handover == .resigning {
            guard advert.priority != VRRPAdvert.resignPriority else { return }
            // Another router now advertises as master: the handover is done, release the VIPs.
            actions.append(
                .log(
                    .info,
                    "(\(name)) Master received advert from \(source) with higher priority \(advert.priority), ours 0"))
            learnInterval(from: advert, into: &actions)
            leaveMasterForBackup(master: source, priority: advert.priority, now: now, into: &actions)
            handover = .heldBack
            actions.append(.handoverFinished(released: true))
            return
        }
        if advert.priority == VRRPAdvert.resignPriority {
            // Another master is resigning: advertise at once so its backups see us (RFC 5798 §6.4.3).
            actions.append(.log(.info, "(\(name)) Master received priority 0 message"))
            sendAdvert(priority: effectivePriority, into: &actions)
            setTimer(.advert, at: now + advertInterval, into: &actions)
            return
        }
        let higher = advert.priority > effectivePriority
        let sameButHigherAddress = advert.priority == effectivePriority && source > config.primaryAddress
        if higher || sameButHigherAddress {
            if higher {
                actions.append(
                    .log(
                        .info,
                        "(\(name)) Master received advert from \(source) with higher priority \(advert.priority), "
                            + "ours \(effectivePriority)"))
            } else {
                actions.append(
                    .log(
                        .info,
                        "(\(name)) Master received advert from \(source) with same priority \(advert.priority) "
                            + "but higher IP address than ours"))
            }
            learnInterval(from: advert, into: &actions)
            leaveMasterForBackup(master: source, priority: advert.priority, now: now, into: &actions)
            return
        }
        // A lower-priority router thinks it is master (it missed our adverts): answer at once, as Keepalived
        // does, so it steps down without waiting for our next periodic advert.
        actions.append(
            .log(
                .info,
                "(\(name)) Received advert from \(source) with lower priority \(advert.priority), "
                    + "ours \(effectivePriority), forcing new election"))
        sendAdvert(priority: effectivePriority, into: &actions)
    }

    // MARK: Timers

    mutating func timerFired(_ timer: VRRPTimer, now: VRRPInstant, into actions: inout [Action]) {
        // Ignore fires of cancelled or superseded timers: only the pending deadline counts.
        guard let due = timers[timer], now >= due else { return }
        timers[timer] = nil
        switch timer {
        case .masterDown:
            guard state == .backup else { return }
            actions.append(.log(.info, "(\(name)) Receive advertisement timeout"))
            becomeMaster(now: now, into: &actions)
        case .advert:
            guard state == .master else { return }
            if handover == .resigning {
                sendResign(into: &actions)
            } else {
                sendAdvert(priority: effectivePriority, into: &actions)
            }
            setTimer(.advert, at: now + advertInterval, into: &actions)
        case .preemptDelay:
            guard state == .backup else { return }
            // From now on lower-priority adverts are discarded, so Master_Down_Timer runs out.
            preemptDelayState = .expired
        case .gratuitousARP:
            guard state == .master else { return }
            switch gratuitousARPPhase {
            case .delayed:
                actions.append(.sendGratuitousARP(config.virtualAddresses, count: config.gratuitousARP.repeatCount))
            case .refresh:
                actions.append(
                    .sendGratuitousARP(config.virtualAddresses, count: config.gratuitousARP.refreshRepeatCount))
            }
            scheduleRefreshARP(now: now, into: &actions)
        case .handoverDeadline:
            guard state == .master, handover == .resigning else { return }
            handover = .none
            actions.append(
                .log(
                    .warning,
                    "(\(name)) handover: no other router took over within "
                        + "\(Self.format(handoverWait)), staying MASTER"))
            sendAdvert(priority: effectivePriority, into: &actions)
            setTimer(.advert, at: now + advertInterval, into: &actions)
            actions.append(.handoverFinished(released: false))
        }
    }

    /// After the delayed burst, `garp_master_refresh` repeats a burst for as long as we stay master.
    mutating func scheduleRefreshARP(now: VRRPInstant, into actions: inout [Action]) {
        guard let refresh = config.gratuitousARP.refresh, refresh > .zero else { return }
        gratuitousARPPhase = .refresh
        setTimer(.gratuitousARP, at: now + refresh, into: &actions)
    }

    // MARK: Tracking and interface

    /// Recomputes priority and fault after a tracked item or the interface changed.
    mutating func reevaluate(now: VRRPInstant, into actions: inout [Action]) {
        let previous = effectivePriority
        effectivePriority = computeEffectivePriority()
        if effectivePriority != previous {
            actions.append(
                .log(.info, "(\(name)) Changing effective priority from \(previous) to \(effectivePriority)"))
        }
        switch state {
        case .initialize:
            return
        case .fault:
            if !faultCondition { leaveFault(now: now, into: &actions) }
        case .master, .backup:
            if faultCondition {
                enterFault(now: now, into: &actions)
            } else if state == .master, effectivePriority != previous, handover != .resigning {
                // Tell the backups now rather than at the next interval: a backup that now outranks us (and
                // preempts on lower-priority adverts) can take over one interval sooner.
                sendAdvert(priority: effectivePriority, into: &actions)
                setTimer(.advert, at: now + advertInterval, into: &actions)
            }
        }
    }

    mutating func enterFault(now: VRRPInstant, into actions: inout [Action]) {
        actions.append(.log(.info, "(\(name)) Entering FAULT STATE"))
        if state == .master {
            // Let the backups take over after Skew_Time instead of Master_Down_Interval.
            sendResign(into: &actions)
            releaseVIPs(into: &actions)
            counters.releasedMaster += 1
            cancelTimer(.advert, into: &actions)
            cancelTimer(.gratuitousARP, into: &actions)
            if handover == .resigning {
                cancelTimer(.handoverDeadline, into: &actions)
                handover = .heldBack
                actions.append(.handoverFinished(released: true))
            }
        } else {
            cancelTimer(.masterDown, into: &actions)
            cancelTimer(.preemptDelay, into: &actions)
            preemptDelayState = .idle
        }
        state = .fault
        masterAddress = nil
        masterPriority = nil
        actions.append(.runNotify(.fault, priority: Int(effectivePriority)))
    }

    /// Leaving FAULT goes to BACKUP (an address owner with `state MASTER` goes to MASTER, as at startup).
    mutating func leaveFault(now: VRRPInstant, into actions: inout [Action]) {
        masterAdvertInterval = advertInterval
        if config.isAddressOwner, config.initialState == .master, handover == .none {
            becomeMaster(now: now, into: &actions)
            return
        }
        actions.append(.log(.info, "(\(name)) Entering BACKUP STATE"))
        state = .backup
        setTimer(.masterDown, at: now + masterDownInterval, into: &actions)
        actions.append(.runNotify(.backup, priority: Int(effectivePriority)))
    }

    // MARK: Handover and shutdown

    mutating func requestHandover(now: VRRPInstant, into actions: inout [Action]) {
        switch state {
        case .master:
            guard handover != .resigning else { return }
            handover = .resigning
            actions.append(
                .log(.info, "(\(name)) handing over: advertising priority 0 until another router takes over"))
            sendResign(into: &actions)
            setTimer(.advert, at: now + advertInterval, into: &actions)
            setTimer(.handoverDeadline, at: now + handoverWait, into: &actions)
        case .backup, .fault, .initialize:
            handover = .heldBack
            if state == .backup, preemptDelayState != .idle {
                preemptDelayState = .idle
                cancelTimer(.preemptDelay, into: &actions)
            }
            actions.append(.log(.info, "(\(name)) handover requested while \(state): will not preempt"))
            actions.append(.handoverFinished(released: true))
        }
    }

    /// How long a resigning master waits for a backup: a backup at the lowest priority takes over within
    /// Skew_Time (< one interval) of our first priority-0 advert; four intervals leave room for lost packets.
    var handoverWait: Duration { advertInterval * 4 }

    mutating func endHandover(now: VRRPInstant, into actions: inout [Action]) {
        switch handover {
        case .none:
            return
        case .heldBack:
            handover = .none
            actions.append(.log(.info, "(\(name)) handover ended: preemption enabled again"))
        case .resigning:
            handover = .none
            actions.append(.log(.info, "(\(name)) handover cancelled: staying MASTER"))
            cancelTimer(.handoverDeadline, into: &actions)
            sendAdvert(priority: effectivePriority, into: &actions)
            setTimer(.advert, at: now + advertInterval, into: &actions)
            actions.append(.handoverFinished(released: false))
        }
    }

    /// RFC 5798 §6.4.3 Shutdown: a master sends a priority-0 advert, then releases its addresses.
    mutating func shutdown(now: VRRPInstant, into actions: inout [Action]) {
        guard state != .initialize else { return }
        if state == .master {
            sendResign(into: &actions)
            releaseVIPs(into: &actions)
            counters.releasedMaster += 1
            if handover == .resigning {
                actions.append(.handoverFinished(released: true))
            }
        }
        for timer in VRRPTimer.allCases {
            cancelTimer(timer, into: &actions)
        }
        state = .initialize
        handover = .none
        preemptDelayState = .idle
        masterAddress = nil
        masterPriority = nil
        actions.append(.runNotify(.stop, priority: Int(effectivePriority)))
    }

    // MARK: Becoming and leaving master

    /// RFC 5798 §6.4.2 "If the Master_Down_Timer fires" (and §6.4.1 for the owner): take the addresses,
    /// announce them, advertise.
    mutating func becomeMaster(now: VRRPInstant, into actions: inout [Action]) {
        cancelTimer(.masterDown, into: &actions)
        cancelTimer(.preemptDelay, into: &actions)
        preemptDelayState = .idle
        handover = .none
        state = .master
        masterAdvertInterval = advertInterval
        masterAddress = config.primaryAddress
        masterPriority = effectivePriority
        counters.becameMaster += 1
        actions.append(.log(.info, "(\(name)) Entering MASTER STATE"))
        actions.append(.log(.info, "(\(name)) setting VIPs."))
        actions.append(.addVIPs(config.virtualAddresses))
        let garp = config.gratuitousARP
        actions.append(.sendGratuitousARP(config.virtualAddresses, count: garp.repeatCount))
        if garp.delay > .zero {
            gratuitousARPPhase = .delayed
            setTimer(.gratuitousARP, at: now + garp.delay, into: &actions)
        } else {
            scheduleRefreshARP(now: now, into: &actions)
        }
        actions.append(.runNotify(.master, priority: Int(effectivePriority)))
        sendAdvert(priority: effectivePriority, into: &actions)
        setTimer(.advert, at: now + advertInterval, into: &actions)
    }

    /// A master that heard a better master: release the addresses and watch the new one (RFC 5798 §6.4.3).
    mutating func leaveMasterForBackup(
        master: IPv4Address, priority: UInt8, now: VRRPInstant,
        into actions: inout [Action]
    ) {
        cancelTimer(.advert, into: &actions)
        cancelTimer(.gratuitousARP, into: &actions)
        cancelTimer(.handoverDeadline, into: &actions)
        actions.append(.log(.info, "(\(name)) Entering BACKUP STATE"))
        releaseVIPs(into: &actions)
        counters.releasedMaster += 1
        state = .backup
        preemptDelayState = .idle
        masterAddress = master
        masterPriority = priority
        setTimer(.masterDown, at: now + masterDownInterval, into: &actions)
        actions.append(.runNotify(.backup, priority: Int(effectivePriority)))
    }

    func releaseVIPs(into actions: inout [Action]) {
        actions.append(.log(.info, "(\(name)) removing VIPs."))
        actions.append(.removeVIPs(config.virtualAddresses))
    }

    // MARK: Sending

    /// The advert this instance sends at `priority`.
    public func advert(priority: UInt8) -> VRRPAdvert {
        VRRPAdvert(
            version: config.version, virtualRouterID: config.virtualRouterID, priority: priority,
            intervalCentiseconds: intervalCentiseconds, addresses: config.virtualAddresses,
            authentication: config.version == .v2 ? config.authentication : .none)
    }

    mutating func sendAdvert(priority: UInt8, into actions: inout [Action]) {
        let advert = advert(priority: priority)
        for destination in config.advertDestinations {
            do {
                let bytes = try advert.encode(
                    source: config.primaryAddress, destination: destination, v3Checksum: config.v3Checksum)
                actions.append(.sendAdvert(advert, destination: destination, bytes: bytes))
            } catch {
                // init validated interval, count and auth, so this is a programming error; say so loudly.
                actions.append(.log(.warning, "(\(name)) cannot encode advert: \(error)"))
                return
            }
        }
        counters.advertsSent += 1
        if priority == VRRPAdvert.resignPriority { counters.priorityZeroSent += 1 }
    }

    mutating func sendResign(into actions: inout [Action]) {
        sendAdvert(priority: VRRPAdvert.resignPriority, into: &actions)
        actions.append(.log(.info, "(\(name)) sent 0 priority"))
    }

    // MARK: Timers bookkeeping

    mutating func setTimer(_ timer: VRRPTimer, at instant: VRRPInstant, into actions: inout [Action]) {
        timers[timer] = instant
        actions.append(.setTimer(timer, at: instant))
    }

    mutating func cancelTimer(_ timer: VRRPTimer, into actions: inout [Action]) {
        guard timers.removeValue(forKey: timer) != nil else { return }
        actions.append(.cancelTimer(timer))
    }

    // MARK: Drops

    mutating func drop(
        _ reason: VRRPDropReason, from source: IPv4Address, detail: String, now: VRRPInstant,
        into actions: inout [Action]
    ) {
        counters.countDrop(reason)
        if let last = lastDropLog[reason], now - last < Self.dropLogInterval {
            suppressedDropLogs[reason, default: 0] += 1
            return
        }
        lastDropLog[reason] = now
        var line = "(\(name)) \(detail)"
        if let suppressed = suppressedDropLogs.removeValue(forKey: reason), suppressed > 0 {
            line += " (\(suppressed) more since last report)"
        }
        actions.append(.log(.warning, line))
    }

    func describe(_ error: VRRPPacketError) -> String {
        switch error {
        case .tooShort(let length):
            return "ip payload too short: \(length) bytes"
        case .badVersion(let version):
            return "invalid version. \(version) and expect \(config.version.rawValue)"
        case .badType(let type):
            return "Invalid type received \(type)"
        case .badChecksum(let received, let computed):
            return "Invalid VRRPv\(config.version.rawValue) checksum: received 0x\(Self.hex(received)), "
                + "expected 0x\(Self.hex(computed))"
        case .countMismatch(let count, let length):
            return "ip count \(count) does not match packet length \(length)"
        }
    }

    func describe(_ reason: VRRPDropReason, advert: VRRPAdvert, header: ReceivedIPHeader) -> String {
        switch reason {
        case .wrongTTL:
            return "invalid TTL/HL. Received \(header.ttl) and expect 255"
        case .badVersion:
            return "invalid version. \(advert.version.rawValue) and expect \(config.version.rawValue)"
        case .wrongVirtualRouterID:
            return "advert from \(header.source) for VRID \(advert.virtualRouterID), ours is \(config.virtualRouterID)"
        case .authMismatch:
            if advert.authentication.typeCode != config.authentication.typeCode {
                return "received an invalid auth type \(advert.authentication.typeCode) from \(header.source)"
            }
            return "received an invalid passwd from \(header.source)"
        case .intervalMismatch:
            return "advertisement interval mismatch mine=\(intervalCentiseconds / 100) sec "
                + "rcv'd=\(advert.intervalCentiseconds / 100) sec"
        case .ownAdvert:
            return "received our own advert (from \(header.source))"
        case .tooShort, .badType, .badChecksum, .countMismatch:
            return "dropped advert from \(header.source): \(reason)"
        }
    }

    static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// `1s`, `0.5s`: durations as an operator writes them in keepalived.conf.
    static func format(_ duration: Duration) -> String {
        let ms = milliseconds(duration)
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(Double(ms) / 1000)s"
    }
}
