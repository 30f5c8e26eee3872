// Reload: a running instance takes a new configuration in place, keeping its state.

extension VRRPInstance {
    /// Applies a reloaded configuration to the running instance without restarting it.
    ///
    /// What an operator keeps: the state (a MASTER stays master and keeps its VIPs: no election, no
    /// transition, no notify), the counters, the learned master, and the state of every tracked item whose
    /// name is still tracked and not in `resettingTrackers`. What changes takes effect at once:
    /// - VIPs: a master removes the addresses no longer configured and adds the new ones, with a gratuitous ARP
    ///   burst for the added addresses only (unchanged addresses are not re-announced).
    /// - Priority, tracked items and weights: the effective priority is recomputed. A master re-advertises at
    ///   once with it (RFC 5798 §6.4.3 leaves the election to the adverts: a backup that now outranks it
    ///   preempts by its Master_Down_Timer, as for any lower-priority advert); a weight-0 item that is down
    ///   puts the instance in FAULT, and FAULT is left when no such item remains.
    /// - advert_int: a master sends its next advert now and then every new interval; a backup restarts
    ///   Master_Down_Timer with the new Master_Down_Interval (a VRRPv3 backup keeps the interval it learned
    ///   from the master's adverts).
    /// - `nopreempt`, `preempt_delay`: a running preempt delay is cancelled and starts again on the next
    ///   lower-priority advert.
    /// `state MASTER|BACKUP` only matters at start, so changing it changes nothing in a running instance.
    ///
    /// - Parameters:
    ///   - newConfig: the same virtual router (name, VRID and version unchanged), else `.identityChanged`: that
    ///     is another instance, which the daemon stops and starts.
    ///   - resettingTrackers: tracked items whose definition changed (a new script command, a new process
    ///     pattern): their state restarts from `initiallyUp` instead of being kept.
    /// - Returns: what the shell must do, in order. An unchanged configuration returns no action that an
    ///   operator would notice (no advert, no VIP or timer change).
    public mutating func reconfigure(
        _ newConfig: VRRPInstanceConfig, resettingTrackers: Set<String> = [], now: VRRPInstant
    ) throws(VRRPConfigError) -> [Action] {
        guard newConfig.name == config.name else {
            throw .identityChanged("name \(config.name) -> \(newConfig.name)")
        }
        guard newConfig.virtualRouterID == config.virtualRouterID else {
            throw .identityChanged("virtual_router_id \(config.virtualRouterID) -> \(newConfig.virtualRouterID)")
        }
        guard newConfig.version == config.version else {
            throw .identityChanged("version \(config.version.rawValue) -> \(newConfig.version.rawValue)")
        }
        let centiseconds = try Self.validate(newConfig)

        let old = config
        let oldPriority = effectivePriority
        let oldMasterDownInterval = masterDownInterval
        var states: [String: Bool] = [:]
        for item in newConfig.trackedItems {
            if !resettingTrackers.contains(item.name), let known = trackerStates[item.name] {
                states[item.name] = known
            } else {
                states[item.name] = item.initiallyUp
            }
        }
        let oldTrackerStates = trackerStates
        config = newConfig
        trackerStates = states
        intervalCentiseconds = centiseconds
        advertInterval = .milliseconds(Int(centiseconds) * 10)
        effectivePriority = computeEffectivePriority()

        var actions: [Action] = []
        let changes = Self.describeChanges(from: old, to: newConfig, trackersBefore: oldTrackerStates, after: states)
        if changes.isEmpty {
            actions.append(.log(.debug, "(\(name)) configuration unchanged"))
        } else {
            actions.append(.log(.info, "(\(name)) reloaded: \(changes.joined(separator: ", "))"))
        }
        if effectivePriority != oldPriority {
            actions.append(
                .log(.info, "(\(name)) Changing effective priority from \(oldPriority) to \(effectivePriority)"))
        }

        switch state {
        case .initialize:
            // Not started: everything takes effect at `.start`.
            masterAdvertInterval = advertInterval
        case .fault:
            if !faultCondition { leaveFault(now: now, into: &actions) }
        case .master:
            reconfigureMaster(from: old, priorityBefore: oldPriority, now: now, into: &actions)
        case .backup:
            reconfigureBackup(from: old, masterDownBefore: oldMasterDownInterval, now: now, into: &actions)
        }
        return actions
    }

    private mutating func reconfigureMaster(
        from old: VRRPInstanceConfig, priorityBefore: UInt8, now: VRRPInstant, into actions: inout [Action]
    ) {
        // The VIP diff first: whatever follows (FAULT, a later step-down) releases the new set.
        let kept = Set(config.virtualAddresses)
        let removed = old.virtualAddresses.filter { !kept.contains($0) }
        let previous = Set(old.virtualAddresses)
        let added = config.virtualAddresses.filter { !previous.contains($0) }
        if !removed.isEmpty {
            actions.append(
                .log(.info, "(\(name)) removing VIPs \(removed.map(\.description).joined(separator: ","))."))
            actions.append(.removeVIPs(removed))
        }
        if !added.isEmpty {
            actions.append(.log(.info, "(\(name)) setting VIPs \(added.map(\.description).joined(separator: ","))."))
            actions.append(.addVIPs(added))
            actions.append(.sendGratuitousARP(added, count: config.gratuitousARP.repeatCount))
        }
        if faultCondition {
            enterFault(now: now, into: &actions)
            return
        }
        masterAdvertInterval = advertInterval
        masterAddress = config.primaryAddress
        masterPriority = effectivePriority
        if old.gratuitousARP != config.gratuitousARP, gratuitousARPPhase == .refresh {
            cancelTimer(.gratuitousARP, into: &actions)
            scheduleRefreshARP(now: now, into: &actions)
        }
        let advertChanged =
            priorityBefore != effectivePriority || old.advertInterval != config.advertInterval
            || old.virtualAddresses != config.virtualAddresses || old.authentication != config.authentication
            || old.primaryAddress != config.primaryAddress || old.unicastPeers != config.unicastPeers
            || old.v3Checksum != config.v3Checksum
        guard advertChanged, handover != .resigning else { return }
        // Tell the backups now: they compare the new priority at once, and the new interval starts here.
        sendAdvert(priority: effectivePriority, into: &actions)
        setTimer(.advert, at: now + advertInterval, into: &actions)
    }

    private mutating func reconfigureBackup(
        from old: VRRPInstanceConfig, masterDownBefore: Duration, now: VRRPInstant, into actions: inout [Action]
    ) {
        if faultCondition {
            enterFault(now: now, into: &actions)
            return
        }
        // VRRPv2 uses its own interval; a VRRPv3 backup keeps the one it learned from the master's adverts.
        if config.version == .v2 || masterAddress == nil { masterAdvertInterval = advertInterval }
        if old.preempt != config.preempt || old.preemptDelay != config.preemptDelay, preemptDelayState != .idle {
            preemptDelayState = .idle
            cancelTimer(.preemptDelay, into: &actions)
        }
        if masterDownInterval != masterDownBefore {
            setTimer(.masterDown, at: now + masterDownInterval, into: &actions)
        }
    }

    /// The changes an operator made, in keepalived.conf's words, for the reload log line.
    static func describeChanges(
        from old: VRRPInstanceConfig, to new: VRRPInstanceConfig, trackersBefore: [String: Bool],
        after: [String: Bool]
    ) -> [String] {
        var changes: [String] = []
        if old.priority != new.priority { changes.append("priority \(old.priority) -> \(new.priority)") }
        if old.advertInterval != new.advertInterval {
            changes.append("advert_int \(format(old.advertInterval)) -> \(format(new.advertInterval))")
        }
        let oldVIPs = Set(old.virtualAddresses)
        let newVIPs = Set(new.virtualAddresses)
        let added = new.virtualAddresses.filter { !oldVIPs.contains($0) }
        let removed = old.virtualAddresses.filter { !newVIPs.contains($0) }
        if !added.isEmpty { changes.append("VIPs added \(added.map(\.description).joined(separator: ","))") }
        if !removed.isEmpty { changes.append("VIPs removed \(removed.map(\.description).joined(separator: ","))") }
        let oldNames = Set(trackersBefore.keys)
        let newNames = Set(after.keys)
        let trackedAdded = newNames.subtracting(oldNames).sorted()
        let trackedRemoved = oldNames.subtracting(newNames).sorted()
        if !trackedAdded.isEmpty { changes.append("tracking \(trackedAdded.joined(separator: ","))") }
        if !trackedRemoved.isEmpty { changes.append("no longer tracking \(trackedRemoved.joined(separator: ","))") }
        let oldItems = Dictionary(old.trackedItems.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let reweighted = new.trackedItems.filter { item in
            oldItems[item.name].map { $0.weight != item.weight || $0.reverse != item.reverse } ?? false
        }
        if !reweighted.isEmpty {
            changes.append("weights of \(reweighted.map(\.name).joined(separator: ","))")
        }
        if old.preempt != new.preempt { changes.append(new.preempt ? "preempt" : "nopreempt") }
        if old.preemptDelay != new.preemptDelay {
            changes.append("preempt_delay \(format(old.preemptDelay)) -> \(format(new.preemptDelay))")
        }
        if old.authentication != new.authentication { changes.append("authentication") }
        if old.unicastPeers != new.unicastPeers { changes.append("unicast_peer") }
        if old.primaryAddress != new.primaryAddress {
            changes.append("source address \(old.primaryAddress) -> \(new.primaryAddress)")
        }
        if old.gratuitousARP != new.gratuitousARP { changes.append("garp_master_*") }
        if old.initialState != new.initialState {
            changes.append("state (applies at the next start only)")
        }
        return changes
    }
}
