/// `balance leastconn`: the eligible server with the fewest connections relative to its weight
/// (HAProxy's key `(served + 1) / weight`); servers with equal load take turns in round robin.
/// A pick scans the group, O(n): backends have a handful of servers and the scan touches no memory
/// besides the slots, so this is cheaper in practice than maintaining a tree on every release.
public struct LeastConnectionsSelection: ServerSelection {
    private let members: [Int]
    private var cursor = 0

    public init(members: [Int], slots: [ServerSlot], seed: UInt64) {
        self.members = members
    }

    public mutating func serverChanged(_ index: Int, slots: [ServerSlot]) {}

    public mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int? {
        guard !members.isEmpty else { return nil }
        var best: (position: Int, index: Int)?
        for offset in 0..<members.count {
            let position = (cursor + offset) % members.count
            let index = members[position]
            guard index != excluding, slots[index].isEligible, slots[index].hasFreeSlot else { continue }
            if let current = best, !Self.lighter(index, than: current.index, slots) { continue }
            best = (position, index)
        }
        guard let chosen = best else { return nil }
        cursor = (chosen.position + 1) % members.count
        return chosen.index
    }

    /// (a.connections + 1) / a.weight < (b.connections + 1) / b.weight, without division.
    /// Takes indexes so that no slot (and its name) is copied on the request path.
    static func lighter(_ a: Int, than b: Int, _ slots: [ServerSlot]) -> Bool {
        (slots[a].connections + 1) * slots[b].weight < (slots[b].connections + 1) * slots[a].weight
    }
}
