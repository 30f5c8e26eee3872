/// A server map as HAProxy builds for `static-rr` and map-based hashing: each server appears as many
/// times as its weight, interleaved smoothly (weights 3:1 → A A B A), ordered by id on ties.
enum WeightedMap {
    static func build(_ members: [(index: Int, id: Int, weight: Int)]) -> [Int] {
        var heap = DeadlineHeap()
        let scale = RoundRobinSelection.scale
        var remaining: [Int: Int] = [:]
        for member in members where member.weight > 0 {
            let step = scale / member.weight
            heap.push(.init(deadline: step / 2, id: member.id, index: member.index))
            remaining[member.index] = member.weight
        }
        var steps: [Int: Int] = [:]
        for member in members where member.weight > 0 { steps[member.index] = scale / member.weight }
        var map: [Int] = []
        map.reserveCapacity(members.reduce(0) { $0 + max(0, $1.weight) })
        while var entry = heap.popMin() {
            map.append(entry.index)
            let left = (remaining[entry.index] ?? 1) - 1
            remaining[entry.index] = left
            if left > 0 {
                entry.deadline += steps[entry.index] ?? scale
                heap.push(entry)
            }
        }
        return map
    }
}
