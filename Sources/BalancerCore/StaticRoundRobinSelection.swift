/// `balance static-rr`: round robin over a precomputed weighted map. As in HAProxy, weights are fixed
/// at start (runtime weight changes have no effect) but servers going DOWN or UP rebuild the map.
/// A pick is O(1) unless servers have to be skipped (full or excluded).
public struct StaticRoundRobinSelection: ServerSelection {
    private let members: [Int]
    private let initialWeight: [Int: Int]
    private var map: [Int] = []
    private var cursor = 0

    public init(members: [Int], slots: [ServerSlot], seed: UInt64) {
        self.members = members
        var weights: [Int: Int] = [:]
        for index in members { weights[index] = slots[index].weight }
        initialWeight = weights
        rebuild(slots: slots)
    }

    public mutating func serverChanged(_ index: Int, slots: [ServerSlot]) {
        guard members.contains(index) else { return }
        rebuild(slots: slots)
    }

    public mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int? {
        guard !map.isEmpty else { return nil }
        for offset in 0..<map.count {
            let position = (cursor + offset) % map.count
            let index = map[position]
            if index != excluding, slots[index].hasFreeSlot {
                cursor = (position + 1) % map.count
                return index
            }
        }
        return nil
    }

    private mutating func rebuild(slots: [ServerSlot]) {
        let usable = members.filter { slots[$0].isUsable }
        map = WeightedMap.build(usable.map { ($0, slots[$0].id, initialWeight[$0] ?? 0) })
        cursor = map.isEmpty ? 0 : cursor % map.count
    }
}
