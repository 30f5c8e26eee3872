/// Why a received packet was not used. Each reason is counted on its own.
public enum VRRPDropReason: String, Hashable, Sendable, CaseIterable, CustomStringConvertible, Codable,
    CodingKeyRepresentable
{
    case tooShort = "too_short"
    /// Not VRRP version 2 or 3, or not the version this instance runs.
    case badVersion = "bad_version"
    case badType = "bad_type"
    case badChecksum = "bad_checksum"
    case countMismatch = "count_mismatch"
    /// Auth type or password differ from ours (VRRPv2).
    case authMismatch = "auth_mismatch"
    /// A multicast advert whose TTL is not 255: it was routed, so it is not from our link (RFC 5798 §7.1).
    case wrongTTL = "wrong_ttl"
    /// For another virtual router on the same link; the daemon normally routes by VRID before this.
    case wrongVirtualRouterID = "wrong_vrid"
    /// A VRRPv2 advert whose interval differs from ours (RFC 3768 §7.1).
    case intervalMismatch = "interval_mismatch"
    /// Our own advert looped back.
    case ownAdvert = "own_advert"

    public var description: String { rawValue }
}

/// What an instance has seen and done, for `portico vrrp status` and metrics.
public struct VRRPCounters: Hashable, Sendable, Codable {
    /// Adverts that passed every receive check.
    public var advertsReceived = 0
    public var advertsSent = 0
    /// Packets not used, by reason.
    public var dropped: [VRRPDropReason: Int] = [:]
    /// Times the instance entered MASTER.
    public var becameMaster = 0
    /// Times the instance left MASTER.
    public var releasedMaster = 0
    public var priorityZeroReceived = 0
    public var priorityZeroSent = 0
    /// Received adverts whose address list differed from ours (logged, still used).
    public var addressListMismatches = 0

    public init() {}

    /// Total packets dropped for any reason.
    public var droppedTotal: Int { dropped.values.reduce(0, +) }

    public subscript(dropped reason: VRRPDropReason) -> Int {
        dropped[reason, default: 0]
    }

    mutating func countDrop(_ reason: VRRPDropReason) {
        dropped[reason, default: 0] += 1
    }
}
