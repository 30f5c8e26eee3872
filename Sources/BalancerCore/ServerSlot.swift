/// What server selection needs to know about one server of a backend.
///
/// The I/O layer never edits these fields directly: it reports changes through `BackendSelector`
/// (`setUsable`, `setWeight`) and the connection count moves with `pick`/`release`, so the
/// algorithm's own structures stay in step with the slots.
public struct ServerSlot: Sendable, Equatable {
    /// The server's name in the configuration (`server web01 ...`).
    public let name: String
    /// HAProxy's numeric server id (`puid`): 1-based position in the backend, used by `balance first`
    /// and to break ties so that sequences are deterministic.
    public let id: Int
    /// A `backup` server only takes traffic when no active server is usable.
    public let isBackup: Bool
    /// Effective weight in HAProxy's internal scale: the configured weight (0...256) × `weightScale`,
    /// lower during a slowstart ramp. Ratios between servers are those of the configured weights.
    /// A weight of 0 takes the server out of load balancing without marking it down, as in HAProxy.
    public internal(set) var weight: Int
    /// UP (from checks or because it is not checked) and READY (neither MAINT nor DRAIN).
    public internal(set) var isUsable: Bool
    /// Concurrent requests the server accepts (`maxconn`); `nil` means no limit.
    public let maxConnections: Int?
    /// Requests currently assigned to the server (HAProxy's `served`), counted by pick/release.
    public internal(set) var connections: Int

    /// HAProxy's internal weight scale (`BE_WEIGHT_SCALE`): effective weights are the configured ones × 16,
    /// which leaves room for a slowstart ramp even on a weight-1 server.
    public static let weightScale = 16

    /// Largest effective weight: configured weight 256 × `weightScale`.
    public static let maxEffectiveWeight = 256 * weightScale

    /// - Parameter weight: the configured weight (`server ... weight N`, 0...256, default 1).
    public init(
        name: String,
        id: Int,
        weight: Int = 1,
        isBackup: Bool = false,
        maxConnections: Int? = nil,
        isUsable: Bool = true
    ) {
        self.init(
            name: name,
            id: id,
            effectiveWeight: min(256, max(0, weight)) * Self.weightScale,
            isBackup: isBackup,
            maxConnections: maxConnections,
            isUsable: isUsable
        )
    }

    /// - Parameter effectiveWeight: already in the internal scale (as `BackendState` computes it).
    public init(
        name: String,
        id: Int,
        effectiveWeight: Int,
        isBackup: Bool = false,
        maxConnections: Int? = nil,
        isUsable: Bool = true
    ) {
        self.name = name
        self.id = id
        self.weight = min(Self.maxEffectiveWeight, max(0, effectiveWeight))
        self.isBackup = isBackup
        self.maxConnections = maxConnections
        self.isUsable = isUsable
        self.connections = 0
    }

    /// Eligible for new traffic: usable and with a positive weight.
    public var isEligible: Bool { isUsable && weight > 0 }

    /// Below its `maxconn` (always true without a limit).
    public var hasFreeSlot: Bool {
        guard let limit = maxConnections else { return true }
        return connections < limit
    }
}
