/// What a `vrrp_instance` block decides, in the state machine's terms. The daemon builds it from
/// KeepalivedConfig's parsed instance.
public struct VRRPInstanceConfig: Hashable, Sendable {
    /// The state an instance asks for at start (`state MASTER|BACKUP`).
    public enum InitialState: Hashable, Sendable {
        case master
        case backup
    }

    /// The instance name used in every log line: `VI_1` gives `(VI_1) Entering MASTER STATE`.
    public var name: String
    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    /// `priority`: 1...255; 255 means this router owns the virtual addresses.
    public var priority: UInt8
    /// `advert_int`: whole seconds for VRRPv2; hundredths of a second for VRRPv3 (`advert_int 0.1`).
    public var advertInterval: Duration
    /// `state`. Only an address owner (priority 255) with `state MASTER` becomes master at once: any other
    /// instance starts as backup and waits Master_Down_Interval, as Keepalived does (keepalived.conf(5),
    /// `state`: "If the priority is 255, then the instance will transition immediately to MASTER if state
    /// MASTER is specified; otherwise the instance will wait between 3 and 4 advert intervals").
    public var initialState: InitialState
    /// `false` with `nopreempt`: a backup then never takes over from a live lower-priority master.
    public var preempt: Bool
    /// `preempt_delay`: how long a backup keeps accepting a lower-priority master before it starts to preempt.
    public var preemptDelay: Duration
    /// `authentication { auth_type PASS auth_pass ... }` (VRRPv2 only).
    public var authentication: VRRPAuthentication
    /// `virtual_ipaddress` addresses, as they go in the advert.
    public var virtualAddresses: [IPv4Address]
    /// This router's primary address on the interface (or `unicast_src_ip`): the source of its adverts and
    /// its side of the equal-priority tie-break.
    public var primaryAddress: IPv4Address
    /// `unicast_peer` addresses; empty means multicast to 224.0.0.18.
    public var unicastPeers: [IPv4Address]
    /// Gratuitous ARP schedule on becoming master.
    public var gratuitousARP: GratuitousARPSchedule
    /// `track_script`, `track_process`, `track_interface` entries with their weights.
    public var trackedItems: [TrackedItem]
    /// VRRPv3 checksum style; Keepalived's default includes the pseudo-header.
    public var v3Checksum: VRRPv3Checksum
    /// Portico extension (off by default, RFC behaviour): a preempting backup that hears a lower-priority
    /// master takes over at once instead of letting its Master_Down timer run out (saves up to 3 intervals
    /// when a tracked item lowers the master's priority). Safe with Keepalived peers: the old master steps
    /// down on the higher-priority advert.
    public var preemptOnLowerPriorityAdvert: Bool

    public init(
        name: String,
        version: VRRPVersion = .v2,
        virtualRouterID: UInt8,
        priority: UInt8 = 100,
        advertInterval: Duration = .seconds(1),
        initialState: InitialState = .backup,
        preempt: Bool = true,
        preemptDelay: Duration = .zero,
        authentication: VRRPAuthentication = .none,
        virtualAddresses: [IPv4Address],
        primaryAddress: IPv4Address,
        unicastPeers: [IPv4Address] = [],
        gratuitousARP: GratuitousARPSchedule = GratuitousARPSchedule(),
        trackedItems: [TrackedItem] = [],
        v3Checksum: VRRPv3Checksum = .withPseudoHeader,
        preemptOnLowerPriorityAdvert: Bool = false
    ) {
        self.name = name
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertInterval = advertInterval
        self.initialState = initialState
        self.preempt = preempt
        self.preemptDelay = preemptDelay
        self.authentication = authentication
        self.virtualAddresses = virtualAddresses
        self.primaryAddress = primaryAddress
        self.unicastPeers = unicastPeers
        self.gratuitousARP = gratuitousARP
        self.trackedItems = trackedItems
        self.v3Checksum = v3Checksum
        self.preemptOnLowerPriorityAdvert = preemptOnLowerPriorityAdvert
    }

    /// Where adverts go: each unicast peer, or the VRRP multicast group.
    public var advertDestinations: [IPv4Address] {
        unicastPeers.isEmpty ? [.vrrpMulticastGroup] : unicastPeers
    }

    /// True for the address owner, whose priority tracking never changes (RFC 5798 §5.2.4).
    public var isAddressOwner: Bool { priority == VRRPAdvert.ownerPriority }

    /// The advert interval in the wire's centiseconds, if the version can carry it. A parsed `0.1` may arrive
    /// as a Double-derived Duration a few attoseconds off, so the nearest centisecond within 1 µs counts.
    public var intervalCentiseconds: UInt16? {
        let (seconds, attoseconds) = advertInterval.components
        let perCentisecond: Int64 = 10_000_000_000_000_000
        guard seconds >= 0, attoseconds >= 0, seconds <= 255 else { return nil }
        let roundedCentiseconds = (attoseconds + perCentisecond / 2) / perCentisecond
        guard abs(attoseconds - roundedCentiseconds * perCentisecond) <= 1_000_000_000_000 else { return nil }
        let centiseconds = seconds * 100 + roundedCentiseconds
        switch version {
        case .v2:
            guard centiseconds % 100 == 0, (1...255).contains(centiseconds / 100) else { return nil }
        case .v3:
            guard (1...0x0FFF).contains(centiseconds) else { return nil }
        }
        return UInt16(centiseconds)
    }
}

/// Why a `VRRPInstanceConfig` cannot run.
public enum VRRPConfigError: Error, Hashable, Sendable {
    /// `advert_int` is not whole seconds 1...255 (VRRPv2) or hundredths 0.01...40.95 (VRRPv3).
    case advertInterval(Duration, VRRPVersion)
    /// `priority` 0 is reserved for a resigning master.
    case priority(UInt8)
    /// VRID 0 is not valid (1...255).
    case virtualRouterID(UInt8)
    /// An advert carries 1...255 addresses.
    case virtualAddressCount(Int)
    /// VRRPv3 has no authentication.
    case authenticationInVersion3
    /// Two tracked items share a name, so `trackerChanged` would be ambiguous.
    case duplicateTrackedItem(String)
    /// `reconfigure` was given a config for another virtual router (name, VRID or version changed): that is a
    /// new instance, to be started beside (or instead of) this one.
    case identityChanged(String)
}

/// `garp_master_delay`, `garp_master_repeat`, `garp_master_refresh`, `garp_master_refresh_repeat`.
public struct GratuitousARPSchedule: Hashable, Sendable {
    /// `garp_master_delay`: the second burst comes this long after becoming master (0 = no second burst).
    public var delay: Duration
    /// `garp_master_repeat`: gratuitous ARPs per address in each burst.
    public var repeatCount: Int
    /// `garp_master_refresh`: while master, another burst every this long (`nil` or 0 = never).
    public var refresh: Duration?
    /// `garp_master_refresh_repeat`: gratuitous ARPs per address in each refresh burst.
    public var refreshRepeatCount: Int

    /// Keepalived's defaults: delay 5 s, repeat 5, no refresh, refresh repeat 1.
    public init(
        delay: Duration = .seconds(5), repeatCount: Int = 5, refresh: Duration? = nil, refreshRepeatCount: Int = 1
    ) {
        self.delay = delay
        self.repeatCount = repeatCount
        self.refresh = refresh
        self.refreshRepeatCount = refreshRepeatCount
    }
}

/// A tracked script, process or interface as an instance sees it: a name, a weight and up/down.
public struct TrackedItem: Hashable, Sendable {
    /// Where the item comes from; only logs and status output use it.
    public enum Kind: Hashable, Sendable {
        case script
        case process
        case interface
    }

    /// The name `trackerChanged` events use (`chk_haproxy`, `eth0`).
    public var name: String
    public var kind: Kind
    /// 0: the instance goes to FAULT while the item is down. Negative: added to the priority while the item
    /// is down. Positive: added while it is up. `reverse` swaps up and down for non-zero weights.
    public var weight: Int
    public var reverse: Bool
    /// The state before the first report (a script with `init_fail` starts down).
    public var initiallyUp: Bool

    public init(name: String, kind: Kind = .script, weight: Int = 0, reverse: Bool = false, initiallyUp: Bool = true) {
        self.name = name
        self.kind = kind
        self.weight = weight
        self.reverse = reverse
        self.initiallyUp = initiallyUp
    }

    /// The priority adjustment this item makes in the given state.
    public func adjustment(up: Bool) -> Int {
        guard weight != 0 else { return 0 }
        let effectiveUp = reverse ? !up : up
        if weight < 0 { return effectiveUp ? 0 : weight }
        return effectiveUp ? weight : 0
    }

    /// Whether the item, in the given state, puts the instance in FAULT.
    public func causesFault(up: Bool) -> Bool {
        weight == 0 && !up
    }
}
