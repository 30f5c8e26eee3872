/// What `portico vrrp status` (and the SIGUSR1-style dump) shows for one instance. Codable, so the daemon
/// can print it as JSON like Keepalived's `keepalived.json`.
public struct VRRPInstanceStatus: Hashable, Sendable, Codable {
    public struct Tracker: Hashable, Sendable, Codable {
        public var name: String
        public var kind: String
        public var weight: Int
        public var reverse: Bool
        public var up: Bool
    }

    public var name: String
    public var state: String
    public var version: Int
    public var virtualRouterID: Int
    public var basePriority: Int
    public var effectivePriority: Int
    /// Dotted quad of the current master (this node while MASTER), if known.
    public var masterAddress: String?
    public var masterPriority: Int?
    /// Master_Adver_Interval in milliseconds.
    public var masterAdvertIntervalMilliseconds: Int
    public var virtualAddresses: [String]
    public var trackers: [Tracker]
    public var handingOver: Bool
    public var heldBack: Bool
    public var counters: VRRPCounters
}

extension VRRPInstance {
    /// A snapshot for status output.
    public var status: VRRPInstanceStatus {
        VRRPInstanceStatus(
            name: config.name, state: state.rawValue, version: Int(config.version.rawValue),
            virtualRouterID: Int(config.virtualRouterID), basePriority: Int(config.priority),
            effectivePriority: Int(effectivePriority), masterAddress: masterAddress?.description,
            masterPriority: masterPriority.map(Int.init),
            masterAdvertIntervalMilliseconds: Int(Self.milliseconds(masterAdvertInterval)),
            virtualAddresses: config.virtualAddresses.map(\.description),
            trackers: config.trackedItems.map { item in
                VRRPInstanceStatus.Tracker(
                    name: item.name, kind: "\(item.kind)", weight: item.weight, reverse: item.reverse,
                    up: trackerStates[item.name] ?? item.initiallyUp)
            },
            handingOver: isHandingOver, heldBack: isHeldBack, counters: counters)
    }
}
