/// Multi-node checks of tracking weights against priorities, used by `portico check` (all nodes) and
/// `portico vrrp -t` (one node). Instances are matched across nodes by `virtual_router_id`.
///
/// Effective priority follows keepalived.conf(5) ("track_interface", "track_script"): a positive weight is
/// added while the tracked item is up, a negative weight while it is down, `reverse` swaps the sign and
/// the state; the result is clamped to 1...254, and priority 255 (address owner) is never changed.
/// A weight of 0 puts the instance in FAULT when the item fails.
///
/// Findings:
/// - error: a tracked failure on the intended master that cannot move the VIP (its effective priority
///   after the failure is not below the best backup's), e.g. weight -10 with priorities 120/100;
/// - warning: an unweighted (FAULT) tracker of the same name on every node, so one shared failure leaves
///   no node holding the VIP;
/// - warning: equal priorities (keepalived.conf(5): "All systems should have different priorities");
/// - warning: weights on an instance of priority 255, which tracking cannot change.
public func trackingAnalysis(nodes: [VRRPConfig]) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    let members = nodes.flatMap { node in node.instances.map { TrackedMember(node: node, instance: $0) } }

    for member in members where member.instance.priority == 255 {
        for tracker in member.trackers where tracker.weight != 0 {
            diagnostics.append(
                .warning(
                    tracker.weightLocation,
                    "(\(member.instance.name)) \(tracker.kind) \(tracker.name) weight \(tracker.weight) has no effect: "
                        + "priority 255 (address owner) is never changed by tracking"
                ))
        }
    }

    var groups: [Int: [TrackedMember]] = [:]
    var order: [Int] = []
    for member in members {
        let vrid = member.instance.virtualRouterID
        if groups[vrid] == nil { order.append(vrid) }
        groups[vrid, default: []].append(member)
    }

    for vrid in order {
        guard let group = groups[vrid], group.count >= 2 else { continue }
        diagnostics += equalPriorities(group)
        diagnostics += immovableVIP(group)
        diagnostics += faultEverywhere(group)
    }
    return diagnostics
}

/// One instance with the trackers that can change its priority, weights resolved.
private struct TrackedMember {
    struct Tracker {
        var kind: String
        var name: String
        var weight: Int
        var reverse: Bool
        var location: ConfigLocation
        /// Where the effective weight was written: the track item, or the vrrp_script/vrrp_track_process line.
        var weightLocation: ConfigLocation

        /// The priority change while the item is up (`ok`) or down; nil for weight 0 (FAULT on failure).
        func contribution(ok: Bool) -> Int? {
            if weight == 0 { return ok ? 0 : nil }
            let applies = weight > 0 ? ok : !ok
            guard applies else { return 0 }
            return reverse ? -weight : weight
        }
    }

    var node: VRRPConfig
    var instance: VRRPInstanceBlock
    var trackers: [Tracker]

    init(node: VRRPConfig, instance: VRRPInstanceBlock) {
        self.node = node
        self.instance = instance
        var trackers: [Tracker] = []
        func add(_ items: [TrackedCheck], kind: String, check: (String) -> (any WeightedCheck)?) {
            for item in items {
                let weightLocation =
                    item.weightOverridden ? item.location : (check(item.name)?.location(of: "weight") ?? item.location)
                trackers.append(
                    Tracker(
                        kind: kind, name: item.name, weight: item.weight, reverse: item.reverse,
                        location: item.location, weightLocation: weightLocation))
            }
        }
        add(instance.trackScripts, kind: "track_script", check: node.script(named:))
        add(instance.trackProcesses, kind: "track_process", check: node.trackProcess(named:))
        for item in instance.trackInterfaces {
            trackers.append(
                Tracker(
                    kind: "track_interface", name: item.name, weight: item.weight,
                    reverse: item.reverse, location: item.location, weightLocation: item.location))
        }
        self.trackers = trackers
    }

    /// Effective priority with every tracked item up except `failing`; nil when that puts the instance in FAULT.
    func effectivePriority(failing: Int? = nil) -> Int? {
        var total = instance.priority
        for (index, tracker) in trackers.enumerated() {
            guard let change = tracker.contribution(ok: index != failing) else { return nil }
            total += change
        }
        if instance.priority == 255 { return 255 }
        return min(254, max(1, total))
    }

    var label: String { "\(instance.name) at \(instance.location(of: "priority"))" }
}

private func equalPriorities(_ group: [TrackedMember]) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    for (index, member) in group.enumerated() {
        guard let earlier = group[..<index].first(where: { $0.instance.priority == member.instance.priority })
        else { continue }
        diagnostics.append(
            .warning(
                member.instance.location(of: "priority"),
                "(\(member.instance.name)) priority \(member.instance.priority) is the same as \(earlier.label): "
                    + "all nodes should have different priorities"
            ))
    }
    return diagnostics
}

/// The intended master is the highest healthy effective priority (ties: `state MASTER`); each of its trackers
/// that lowers its priority on failure must bring it below the best backup.
private func immovableVIP(_ group: [TrackedMember]) -> [Diagnostic] {
    func rank(_ member: TrackedMember) -> (Int, Int) {
        (member.effectivePriority() ?? 0, member.instance.state == .master ? 1 : 0)
    }
    guard let masterIndex = group.indices.max(by: { rank(group[$0]) < rank(group[$1]) }) else { return [] }
    let master = group[masterIndex]
    guard let healthy = master.effectivePriority() else { return [] }
    let backups = group.indices.filter { $0 != masterIndex }.map { group[$0] }
    guard let backup = backups.max(by: { rank($0) < rank($1) }), let backupPriority = backup.effectivePriority()
    else { return [] }

    var diagnostics: [Diagnostic] = []
    for (index, tracker) in master.trackers.enumerated() {
        guard let failed = master.effectivePriority(failing: index), failed < healthy else { continue }
        guard failed >= backupPriority else { continue }
        let name = master.instance.name
        diagnostics.append(
            .error(
                tracker.weightLocation,
                "(\(name)) \(tracker.kind) \(tracker.name) weight \(tracker.weight) cannot move the VIP: when it fails "
                    + "the priority drops from \(healthy) to \(failed), not below \(backupPriority) of \(backup.label)"
            ))
    }
    return diagnostics
}

private func faultEverywhere(_ group: [TrackedMember]) -> [Diagnostic] {
    guard let first = group.first else { return [] }
    var diagnostics: [Diagnostic] = []
    for tracker in first.trackers where tracker.weight == 0 {
        let everywhere = group.dropFirst().allSatisfy { member in
            member.trackers.contains { $0.kind == tracker.kind && $0.name == tracker.name && $0.weight == 0 }
        }
        guard everywhere else { continue }
        diagnostics.append(
            .warning(
                tracker.weightLocation,
                "(\(first.instance.name)) \(tracker.kind) \(tracker.name) has weight 0 on every node: "
                    + "if it fails on all "
                    + "of them at once (e.g. a shared backend down), every node enters FAULT and none holds the VIP"
            ))
    }
    return diagnostics
}
