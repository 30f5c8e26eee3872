/// `balance roundrobin`: HAProxy's dynamic weighted round robin.
///
/// Each server owns a virtual deadline that advances by `scale / weight` every time it is picked; the
/// server with the earliest deadline (lowest id on a tie) goes next. Starting every server half a step
/// in gives the smooth interleaving HAProxy shows (weights 3:1 → A A B A, never A A A B), and equal
/// weights alternate strictly (web01, web02, web01, ...). A server that comes back UP, or whose weight
/// changes, is placed half a step after the current virtual time, so it neither gets a burst to "catch
/// up" nor waits a whole cycle. The members sit in a binary heap: a pick is O(log n).
///
/// Compared with HAProxy 2.6 (measured with the real binary, sequential requests): equal weights give
/// the same sequence (s1 s2 s3 s1 s2 s3); for 3:1 HAProxy sends s1 s1 s1 s2 where Portico sends
/// s1 s1 s2 s1, and for 5:2:1 HAProxy sends s1 s1 s2 s1 s1 s3 s1 s2 where Portico sends
/// s1 s2 s1 s1 s3 s1 s2 s1: the same proportions over every cycle, with shorter bursts.
public struct RoundRobinSelection: ServerSelection {
    /// Divisible by every weight 1...16, so common ratios are exact; larger weights round by < 1e-6.
    static let scale = 720_720 * 16

    private var heap = DeadlineHeap()
    private var now = 0
    private let members: [Int]

    public init(members: [Int], slots: [ServerSlot], seed: UInt64) {
        self.members = members
        for index in members where slots[index].isEligible {
            enqueue(index, slots: slots)
        }
    }

    public mutating func serverChanged(_ index: Int, slots: [ServerSlot]) {
        guard members.contains(index) else { return }
        heap.remove(index)
        if slots[index].isEligible {
            enqueue(index, slots: slots)
        }
    }

    public mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int? {
        // Servers skipped because they are excluded or full keep their deadline: they are first in line
        // again as soon as they can take a request, as in HAProxy where a full server is only set aside.
        var skipped: [DeadlineHeap.Entry] = []
        defer { for entry in skipped { heap.push(entry) } }
        while var entry = heap.popMin() {
            if entry.index == excluding || !slots[entry.index].hasFreeSlot {
                skipped.append(entry)
                continue
            }
            let picked = entry.index
            now = entry.deadline
            entry.deadline += Self.step(slots[picked].weight)
            heap.push(entry)
            rebaseIfNeeded()
            return picked
        }
        return nil
    }

    private static func step(_ weight: Int) -> Int { scale / max(1, weight) }

    private mutating func enqueue(_ index: Int, slots: [ServerSlot]) {
        let start = now + Self.step(slots[index].weight) / 2
        heap.push(.init(deadline: start, id: slots[index].id, index: index))
    }

    /// Keeps deadlines far from overflow on a process that runs for years; only relative order matters.
    private mutating func rebaseIfNeeded() {
        guard now > 1 << 60 else { return }
        let base = now
        now = 0
        heap.shift(by: -base)
    }
}

/// Binary min-heap on (deadline, server id).
struct DeadlineHeap: Sendable {
    struct Entry: Sendable {
        var deadline: Int
        var id: Int
        var index: Int

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id < other.id
        }
    }

    private(set) var entries: [Entry] = []

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        siftUp(entries.count - 1)
    }

    mutating func popMin() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        if !entries.isEmpty { siftDown(0) }
        return top
    }

    /// O(n); only used when a server changes state, never on the request path.
    mutating func remove(_ index: Int) {
        guard let position = entries.firstIndex(where: { $0.index == index }) else { return }
        entries.swapAt(position, entries.count - 1)
        entries.removeLast()
        if position < entries.count {
            siftDown(position)
            siftUp(position)
        }
    }

    mutating func shift(by delta: Int) {
        for position in entries.indices { entries[position].deadline += delta }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < entries.count, entries[left].precedes(entries[best]) { best = left }
            if right < entries.count, entries[right].precedes(entries[best]) { best = right }
            guard best != parent else { return }
            entries.swapAt(parent, best)
            parent = best
        }
    }
}
