/// The `balance` algorithms Portico implements, as named in haproxy.cfg.
public enum BalanceAlgorithm: Sendable, Equatable {
    /// `balance roundrobin`: dynamic weighted round robin; weight changes apply at once.
    case roundRobin
    /// `balance static-rr`: weighted round robin over a precomputed map; runtime weight changes are ignored.
    case staticRoundRobin
    /// `balance leastconn`: fewest connections relative to weight; round robin among equal loads.
    case leastConnections
    /// `balance source`: hash of the client address over the weighted server map (HAProxy's map-based hashing).
    case source
    /// `balance first`: the usable server with the lowest id that still has a free `maxconn` slot.
    case first
    /// `balance random(N)`: N weighted random draws, the least loaded one wins (`random(2)` is
    /// power-of-two-choices; HAProxy's default is 2 draws).
    case random(draws: Int)

    /// `balance random` without an argument.
    public static let random: BalanceAlgorithm = .random(draws: 2)
}

/// The client address that `balance source` hashes. Built without allocating, per request.
public enum ClientAddress: Sendable, Hashable {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// From the 4 or 16 bytes of an address in network order; `nil` for any other length.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }
}

/// Inputs of one pick besides the server slots.
public struct PickRequest: Sendable {
    /// Hashed by `balance source`; ignored by the other algorithms.
    public var client: ClientAddress?
    /// A server to avoid for this pick (the one a retry just failed on). As HAProxy's `srvtoavoid`,
    /// it is still returned when it is the only candidate: a redispatch with one server left retries it.
    public var avoiding: Int?

    public init(client: ClientAddress? = nil, avoiding: Int? = nil) {
        self.client = client
        self.avoiding = avoiding
    }
}

/// One balancing algorithm over a group of servers (the active or the backup servers of a backend),
/// like HAProxy's `struct lb_ops`. Conforming types keep whatever index they need (a heap, a map)
/// and are told about every change; `BackendSelector` owns the slots and calls them.
///
/// Indexes are positions in the backend's `[ServerSlot]`; `members` are the indexes of the group.
public protocol ServerSelection: Sendable {
    /// Builds the algorithm's state for a group. `seed` feeds algorithms that draw random numbers.
    init(members: [Int], slots: [ServerSlot], seed: UInt64)

    /// A member became usable or unusable, or its weight changed.
    mutating func serverChanged(_ index: Int, slots: [ServerSlot])

    /// Picks an eligible member with a free slot other than `excluding`, or `nil` when there is none.
    /// (`BackendSelector` falls back to the excluded server itself when it is the only candidate.)
    mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int?
}
