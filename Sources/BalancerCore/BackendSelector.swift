/// The outcome of one server pick.
public enum Pick: Sendable, Equatable {
    /// Send the request to the server at this index; its connection count has been taken.
    /// Call `release` when the request is done (response sent or failed).
    case server(Int)
    /// Servers are usable but all at their `maxconn`: queue the request (`timeout queue` → 503).
    case queue
    /// No server is usable (all DOWN, MAINT, DRAIN or weight 0): answer 503.
    case noServer
}

/// Server selection for one backend, as a value: the slots plus one algorithm instance for the
/// active servers and one for the backup servers. Tests drive this type directly;
/// the proxy uses `SharedBackendSelector`, which wraps it behind a lock.
///
/// Backup servers take traffic only when no active server is eligible. Without `option allbackups`
/// only the first eligible backup (lowest id) is used, as in HAProxy; with it, the algorithm
/// balances over all backups.
public struct BackendSelector: Sendable {
    public private(set) var servers: [ServerSlot]
    public let algorithm: BalanceAlgorithm
    public let allBackups: Bool

    private var active: any ServerSelection
    private var backup: any ServerSelection
    private let activeMembers: [Int]
    private let backupMembers: [Int]
    /// Eligible servers per group, recounted on state changes so that a pick stays O(log n).
    private var eligibleActive = 0
    private var eligibleBackup = 0

    /// - Parameters:
    ///   - servers: the backend's servers in configuration order (their `id`s should be 1...n).
    ///   - seed: seeds `balance random`; pass a fixed value in tests, a random one in production.
    public init(servers: [ServerSlot], algorithm: BalanceAlgorithm, allBackups: Bool = false, seed: UInt64 = 0) {
        self.servers = servers
        self.algorithm = algorithm
        self.allBackups = allBackups
        let activeMembers = servers.indices.filter { !servers[$0].isBackup }
        let backupMembers = servers.indices.filter { servers[$0].isBackup }
        self.activeMembers = activeMembers
        self.backupMembers = backupMembers
        active = Self.makeSelection(algorithm, members: activeMembers, slots: servers, seed: seed)
        backup = Self.makeSelection(algorithm, members: backupMembers, slots: servers, seed: seed &+ 1)
        recount()
    }

    /// Index of the server with this name, for runtime commands (`set server B/S ...`).
    public func index(of name: String) -> Int? {
        servers.firstIndex { $0.name == name }
    }

    /// Picks a server for a new request and counts a connection on it.
    public mutating func pick(_ request: PickRequest = PickRequest()) -> Pick {
        let chosen: Int?
        if eligibleActive > 0 {
            chosen = Self.pick(in: &active, members: activeMembers, request, servers)
        } else if allBackups {
            guard eligibleBackup > 0 else { return .noServer }
            chosen = Self.pick(in: &backup, members: backupMembers, request, servers)
        } else {
            guard let firstBackup = backupMembers.first(where: { servers[$0].isEligible }) else { return .noServer }
            chosen = servers[firstBackup].hasFreeSlot ? firstBackup : nil
        }
        guard let index = chosen else { return .queue }
        servers[index].connections += 1
        return .server(index)
    }

    /// The request that `pick` counted on this server is finished.
    public mutating func release(_ index: Int) {
        guard servers.indices.contains(index), servers[index].connections > 0 else { return }
        // No notification: the algorithms that weigh load read `connections` from the slots at pick time.
        servers[index].connections -= 1
    }

    /// UP and READY (true) or DOWN / MAINT / DRAIN (false). In-flight requests keep their count.
    public mutating func setUsable(_ index: Int, _ usable: Bool) {
        guard servers.indices.contains(index), servers[index].isUsable != usable else { return }
        servers[index].isUsable = usable
        notify(index)
    }

    /// Sets the effective weight (configured weight × `ServerSlot.weightScale`), as carried by
    /// `BackendAction.setWeight`. A runtime `set server B/S weight N` goes through `BackendState.setWeight`,
    /// which returns that action, so that slowstart and the stats page stay consistent.
    public mutating func setWeight(_ index: Int, _ weight: Int) {
        let clamped = min(ServerSlot.maxEffectiveWeight, max(0, weight))
        guard servers.indices.contains(index), servers[index].weight != clamped else { return }
        servers[index].weight = clamped
        notify(index)
    }

    private static func pick(
        in selection: inout any ServerSelection,
        members: [Int],
        _ request: PickRequest,
        _ servers: [ServerSlot]
    ) -> Int? {
        if let found = selection.pick(client: request.client, excluding: request.avoiding, slots: servers) {
            return found
        }
        // HAProxy's srvtoavoid: the avoided server is still better than no server at all.
        if let avoided = request.avoiding, members.contains(avoided),
            servers[avoided].isEligible, servers[avoided].hasFreeSlot
        {
            return avoided
        }
        return nil
    }

    private mutating func recount() {
        eligibleActive = activeMembers.reduce(0) { $0 + (servers[$1].isEligible ? 1 : 0) }
        eligibleBackup = backupMembers.reduce(0) { $0 + (servers[$1].isEligible ? 1 : 0) }
    }

    private mutating func notify(_ index: Int) {
        recount()
        if servers[index].isBackup {
            backup.serverChanged(index, slots: servers)
        } else {
            active.serverChanged(index, slots: servers)
        }
    }

    private static func makeSelection(
        _ algorithm: BalanceAlgorithm,
        members: [Int],
        slots: [ServerSlot],
        seed: UInt64
    ) -> any ServerSelection {
        switch algorithm {
        case .roundRobin: return RoundRobinSelection(members: members, slots: slots, seed: seed)
        case .staticRoundRobin: return StaticRoundRobinSelection(members: members, slots: slots, seed: seed)
        case .leastConnections: return LeastConnectionsSelection(members: members, slots: slots, seed: seed)
        case .source: return SourceHashSelection(members: members, slots: slots, seed: seed)
        case .first: return FirstSelection(members: members, slots: slots, seed: seed)
        case .random(let draws): return RandomSelection(members: members, slots: slots, seed: seed, draws: draws)
        }
    }
}
