/// `balance first`: the eligible server with the lowest id that has a free `maxconn` slot, so traffic
/// fills servers one after the other and idle ones can be powered down. Without `maxconn` the first
/// server takes everything, as in HAProxy. O(n).
public struct FirstSelection: ServerSelection {
    private let membersByID: [Int]

    public init(members: [Int], slots: [ServerSlot], seed: UInt64) {
        membersByID = members.sorted { slots[$0].id < slots[$1].id }
    }

    public mutating func serverChanged(_ index: Int, slots: [ServerSlot]) {}

    public mutating func pick(client: ClientAddress?, excluding: Int?, slots: [ServerSlot]) -> Int? {
        membersByID.first { $0 != excluding && slots[$0].isEligible && slots[$0].hasFreeSlot }
    }
}
