/// `balance source`: the client address is hashed onto the weighted server map, so one client keeps
/// reaching the same server while the set of usable servers does not change (HAProxy's default
/// map-based hashing: a server going DOWN reshuffles clients, unlike `hash-type consistent`).
/// The hash is fixed (not seeded per process), so every balancer of a pair maps a client alike.
/// When the mapped server is full or excluded, the next different server in the map takes the request.
public struct SourceHashSelection: ServerSelection {
    private let members: [Int]
    private var map: [Int] = []

    public init(members: [Int], slots: [ServerSlot], seed: UInt64) {
        self.members = members
        rebuild(slots: slots)
    }

    public mutating func serverChanged(_ index: Int, slots: [ServerSlot]) {
        guard members.contains(index) else { return }
        rebuild(slots: slots)
    }

    public mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int? {
        guard !map.isEmpty else { return nil }
        let start = Int(Self.hash(client) % UInt64(map.count))
        for offset in 0..<map.count {
            let index = map[(start + offset) % map.count]
            if index != excluding, slots[index].hasFreeSlot { return index }
        }
        return nil
    }

    /// A stable 64-bit mix of the address (splitmix64's finalizer); no client address hashes to 0 bias.
    static func hash(_ client: ClientAddress?) -> UInt64 {
        switch client {
        case .none: return 0
        case .v4(let address): return mix(UInt64(address))
        case .v6(let high, let low): return mix(high ^ mix(low))
        }
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func rebuild(slots: [ServerSlot]) {
        let eligible = members.filter { slots[$0].isEligible }
        map = WeightedMap.build(eligible.map { ($0, slots[$0].id, slots[$0].weight) })
    }
}
