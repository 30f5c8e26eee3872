/// `balance random(N)`: N weighted random draws among eligible servers; the least loaded draw wins
/// (ties go to the earlier draw). `random(2)` is the power-of-two-choices scheme HAProxy defaults to:
/// nearly as even as leastconn without a global ordering. The generator is seeded, so tests replay.
public struct RandomSelection: ServerSelection {
    private let members: [Int]
    private let draws: Int
    private var generator: SplitMix64

    public init(members: [Int], slots: [ServerSlot], seed: UInt64) {
        self.init(members: members, slots: slots, seed: seed, draws: 2)
    }

    public init(members: [Int], slots: [ServerSlot], seed: UInt64, draws: Int) {
        self.members = members
        self.draws = max(1, draws)
        generator = SplitMix64(seed: seed)
    }

    public mutating func serverChanged(_ index: Int, slots: [ServerSlot]) {}

    public mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int? {
        var totalWeight = 0
        for index in members where Self.candidate(index, excluding, slots) {
            totalWeight += slots[index].weight
        }
        guard totalWeight > 0 else { return nil }
        var best: Int?
        for _ in 0..<draws {
            var ticket = Int(generator.next() % UInt64(totalWeight))
            for index in members where Self.candidate(index, excluding, slots) {
                ticket -= slots[index].weight
                guard ticket < 0 else { continue }
                if let current = best, !LeastConnectionsSelection.lighter(index, than: current, slots) {
                    break
                }
                best = index
                break
            }
        }
        return best
    }

    private static func candidate(_ index: Int, _ excluding: Int?, _ slots: [ServerSlot]) -> Bool {
        index != excluding && slots[index].isEligible && slots[index].hasFreeSlot
    }
}

/// A small, fast, seedable generator (Steele, Lea, Flood: "Fast splittable pseudorandom number
/// generators", 2014). Not for secrets: only to spread load.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
