import VRRPCore

/// What `portico vrrp status` prints (as JSON): one entry per instance.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var routerID: String?
    public var pid: Int32
    public var instances: [InstanceStatus]
    /// Adverts for a VRID no instance here runs, by interface.
    public var unknownVirtualRouterDrops: [String: Int]
}

public struct InstanceStatus: Codable, Sendable, Equatable {
    public var name: String
    public var state: String
    public var interface: String
    public var virtualRouterID: Int
    public var version: Int
    public var basePriority: Int
    public var effectivePriority: Int
    public var masterAddress: String?
    public var masterPriority: Int?
    public var primaryAddress: String
    public var virtualAddresses: [String]
    /// `none`, `resigning` (a planned handover is in progress) or `held_back` (handed over, not preempting).
    public var handover: String
    public var trackers: [TrackerStatus]
    public var counters: CounterStatus
}

public struct TrackerStatus: Codable, Sendable, Equatable {
    public var name: String
    /// `script`, `process` or `interface`.
    public var kind: String
    public var weight: Int
    public var reverse: Bool
    /// `up` or `down` as the instance last heard it.
    public var state: String
    /// The last script result, or the number of matching processes.
    public var detail: String?
}

public struct CounterStatus: Codable, Sendable, Equatable {
    public var advertsReceived: Int
    public var advertsSent: Int
    public var droppedTotal: Int
    /// Dropped packets by reason (`wrong_ttl`, `auth_mismatch`, `bad_checksum`, ...).
    public var dropped: [String: Int]
    public var becameMaster: Int
    public var releasedMaster: Int
    public var priorityZeroReceived: Int
    public var priorityZeroSent: Int

    init(_ c: VRRPCounters) {
        advertsReceived = c.advertsReceived
        advertsSent = c.advertsSent
        droppedTotal = c.droppedTotal
        dropped = Dictionary(uniqueKeysWithValues: c.dropped.map { ($0.key.rawValue, $0.value) })
        becameMaster = c.becameMaster
        releasedMaster = c.releasedMaster
        priorityZeroReceived = c.priorityZeroReceived
        priorityZeroSent = c.priorityZeroSent
    }
}
