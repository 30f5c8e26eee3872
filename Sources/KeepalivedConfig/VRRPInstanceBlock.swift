/// `vrrp_instance NAME { }`: one virtual router, the unit that holds or releases the VIPs.
/// Named for the block as written in keepalived.conf; `VRRPCore.VRRPInstance` is the state machine that runs it
/// (built from it by the daemon through `VRRPInstanceConfig`).
public struct VRRPInstanceBlock: Hashable, Sendable, KeywordLocated {
    /// `state MASTER|BACKUP`: the initial state.
    public enum InitialState: String, Hashable, Sendable {
        case master = "MASTER"
        case backup = "BACKUP"
    }

    public var name: String
    public var location: ConfigLocation
    public var keywordLocations: [String: ConfigLocation]
    /// `state`. Default BACKUP (an instance without `state MASTER` waits for the master-down timer).
    public var state: InitialState
    /// `interface`: required.
    public var interface: String
    /// `virtual_router_id`: 1...255, required.
    public var virtualRouterID: Int
    /// `priority`: 1...255, 255 meaning "address owner". Default 100 (keepalived.conf(5): `priority 100`).
    public var priority: Int
    /// `advert_int` in centiseconds, the resolution of the VRRPv3 Max Adver Int field (RFC 5798 §5.2.7).
    /// Default 100 (1 s: "advert_int 1", keepalived.conf(5)). Whole seconds for VRRPv2.
    public var advertIntervalCentiseconds: Int
    /// `version 2|3`. Default `global_defs { vrrp_version }`, itself 2.
    public var version: Int
    /// False when `nopreempt` is written. Default true (`preempt` is kept "for backwards compatibility").
    public var preempt: Bool
    /// `preempt_delay`: 0...1000 s. Default 0 ("Range: 0 (default) to 1000", keepalived.conf(5)).
    public var preemptDelay: Duration
    /// `garp_master_delay`: delay of the second gratuitous-ARP burst after becoming master, 0 for none.
    /// Default `vrrp_garp_master_delay`, itself 5 s.
    public var garpMasterDelay: Duration
    /// `garp_master_repeat`: gratuitous ARPs per burst. Default `vrrp_garp_master_repeat`, itself 5.
    public var garpMasterRepeat: Int
    /// `garp_master_refresh`: interval of gratuitous ARPs while master, 0 for none.
    /// Default `vrrp_garp_master_refresh`, itself 0.
    public var garpMasterRefresh: Duration
    /// `garp_master_refresh_repeat`: gratuitous ARPs per refresh. Default `vrrp_garp_master_refresh_repeat`, itself 1.
    public var garpMasterRefreshRepeat: Int
    /// `authentication { }`; nil when absent. Always nil for VRRPv3 (v3 has no authentication; a warning says so).
    public var authentication: Authentication?
    /// `track_script { }` items, weights resolved against their `vrrp_script`.
    public var trackScripts: [TrackedCheck]
    /// `track_process { }` items, weights resolved against their `vrrp_track_process`.
    public var trackProcesses: [TrackedCheck]
    /// `track_interface { }` items.
    public var trackInterfaces: [TrackedInterface]
    /// `virtual_ipaddress { }`: the VIPs carried in adverts. At least one is required.
    public var virtualIPAddresses: [VirtualIPAddress]
    /// `virtual_ipaddress_excluded { }`: VIPs added and removed like the others but not carried in adverts.
    public var excludedVirtualIPAddresses: [VirtualIPAddress]
    /// `unicast_src_ip`: source of unicast adverts; nil means the interface's primary address.
    public var unicastSourceIP: IPv4Address?
    /// `unicast_peer { }`: when non-empty, adverts go to these peers instead of 224.0.0.18.
    public var unicastPeers: [UnicastPeer]
    /// `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`, `notify`.
    public var notify: NotifyScripts
    /// `dont_track_primary`: ignore faults of `interface` itself.
    public var dontTrackPrimary: Bool

    public init(
        name: String,
        location: ConfigLocation,
        keywordLocations: [String: ConfigLocation] = [:],
        state: InitialState = .backup,
        interface: String = "",
        virtualRouterID: Int = 0,
        priority: Int = 100,
        advertIntervalCentiseconds: Int = 100,
        version: Int = 2,
        preempt: Bool = true,
        preemptDelay: Duration = .zero,
        garpMasterDelay: Duration = .seconds(5),
        garpMasterRepeat: Int = 5,
        garpMasterRefresh: Duration = .zero,
        garpMasterRefreshRepeat: Int = 1,
        authentication: Authentication? = nil,
        trackScripts: [TrackedCheck] = [],
        trackProcesses: [TrackedCheck] = [],
        trackInterfaces: [TrackedInterface] = [],
        virtualIPAddresses: [VirtualIPAddress] = [],
        excludedVirtualIPAddresses: [VirtualIPAddress] = [],
        unicastSourceIP: IPv4Address? = nil,
        unicastPeers: [UnicastPeer] = [],
        notify: NotifyScripts = NotifyScripts(),
        dontTrackPrimary: Bool = false
    ) {
        self.name = name
        self.location = location
        self.keywordLocations = keywordLocations
        self.state = state
        self.interface = interface
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertIntervalCentiseconds = advertIntervalCentiseconds
        self.version = version
        self.preempt = preempt
        self.preemptDelay = preemptDelay
        self.garpMasterDelay = garpMasterDelay
        self.garpMasterRepeat = garpMasterRepeat
        self.garpMasterRefresh = garpMasterRefresh
        self.garpMasterRefreshRepeat = garpMasterRefreshRepeat
        self.authentication = authentication
        self.trackScripts = trackScripts
        self.trackProcesses = trackProcesses
        self.trackInterfaces = trackInterfaces
        self.virtualIPAddresses = virtualIPAddresses
        self.excludedVirtualIPAddresses = excludedVirtualIPAddresses
        self.unicastSourceIP = unicastSourceIP
        self.unicastPeers = unicastPeers
        self.notify = notify
        self.dontTrackPrimary = dontTrackPrimary
    }

    /// The advert interval as a duration.
    public var advertInterval: Duration { .milliseconds(advertIntervalCentiseconds * 10) }

    /// True when adverts go to `unicast_peer`s rather than the VRRP multicast group.
    public var isUnicast: Bool { !unicastPeers.isEmpty }
}

/// `authentication { auth_type PASS; auth_pass SECRET }` (VRRPv2 only; AH is not supported).
public struct Authentication: Hashable, Sendable {
    public var location: ConfigLocation
    /// `auth_pass` as written (may be longer than 8 characters; a warning says so).
    public var password: String
    public var passwordLocation: ConfigLocation

    public init(location: ConfigLocation, password: String, passwordLocation: ConfigLocation) {
        self.location = location
        self.password = password
        self.passwordLocation = passwordLocation
    }

    /// The 8 bytes carried in the advert's Authentication Data (RFC 2338 §5.3.10): the password truncated
    /// to 8 bytes ("Only the first eight (8) characters are used", keepalived.conf(5)) and zero-padded.
    public var wirePassword: [UInt8] {
        let bytes = Array(password.utf8.prefix(8))
        return bytes + Array(repeating: 0, count: 8 - bytes.count)
    }
}

/// One `track_script { NAME [weight N [reverse]] }` or `track_process { NAME [weight N [reverse]] }` item:
/// a check (`vrrp_script` or `vrrp_track_process`) the instance tracks by name.
public struct TrackedCheck: Hashable, Sendable {
    public var name: String
    public var location: ConfigLocation
    /// The effective weight: the item's `weight` if written, otherwise the check's (a `vrrp_script` defaults
    /// to 0, a `vrrp_track_process` to 1).
    public var weight: Int
    /// The effective direction: the item's `reverse` if it has a weight, otherwise the check's.
    public var reverse: Bool
    /// True when the item wrote its own `weight` (overriding the check's).
    public var weightOverridden: Bool

    public init(name: String, location: ConfigLocation, weight: Int, reverse: Bool = false, weightOverridden: Bool) {
        self.name = name
        self.location = location
        self.weight = weight
        self.reverse = reverse
        self.weightOverridden = weightOverridden
    }
}

/// One `track_interface { IF [weight N [reverse]] }` item. Weight 0 (the default) means the interface
/// going down puts the instance in FAULT.
public struct TrackedInterface: Hashable, Sendable {
    public var name: String
    public var location: ConfigLocation
    public var weight: Int
    public var reverse: Bool

    public init(name: String, location: ConfigLocation, weight: Int = 0, reverse: Bool = false) {
        self.name = name
        self.location = location
        self.weight = weight
        self.reverse = reverse
    }
}

/// One `virtual_ipaddress { ADDR[/PREFIX] [brd X] [dev IF] [scope S] [label L] }` line.
public struct VirtualIPAddress: Hashable, Sendable, CustomStringConvertible {
    public var location: ConfigLocation
    public var address: IPv4Address
    /// The prefix length; 32 when `/PREFIX` is omitted, as in Keepalived and `ip address add`.
    public var prefixLength: Int
    /// `brd X`; nil lets the kernel compute none (as `ip address add` without `brd`).
    public var broadcast: IPv4Address?
    /// `dev IF`; nil means the instance's `interface`.
    public var device: String?
    /// `scope S`: site|link|host|nowhere|global; nil means global.
    public var scope: String?
    /// `label L`, e.g. `eth0:1`.
    public var label: String?

    public init(
        location: ConfigLocation,
        address: IPv4Address,
        prefixLength: Int = 32,
        broadcast: IPv4Address? = nil,
        device: String? = nil,
        scope: String? = nil,
        label: String? = nil
    ) {
        self.location = location
        self.address = address
        self.prefixLength = prefixLength
        self.broadcast = broadcast
        self.device = device
        self.scope = scope
        self.label = label
    }

    /// `ADDR/PREFIX`, e.g. `192.168.10.100/24`.
    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether `other` lies in this address's subnet (for "the VIP inside the interface's subnet" checks).
    public func subnetContains(_ other: IPv4Address) -> Bool {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        return address.value & mask == other.value & mask
    }
}

/// One `unicast_peer { ADDR }` line.
public struct UnicastPeer: Hashable, Sendable {
    public var address: IPv4Address
    public var location: ConfigLocation

    public init(address: IPv4Address, location: ConfigLocation) {
        self.address = address
        self.location = location
    }
}

/// `notify_master SCRIPT [USER [GROUP]]` and its siblings. The script is a word or a quoted string with
/// arguments; Keepalived appends nothing to `notify_master/backup/fault/stop`, and appends
/// `INSTANCE NAME STATE PRIORITY` to `notify`.
public struct NotifyScript: Hashable, Sendable {
    public var location: ConfigLocation
    /// The command split into words; `[0]` is the path.
    public var command: [String]
    public var user: ScriptUser?
    /// Who runs the script, once `USER [GROUP]` / `script_user` are looked up (``ScriptPlan``); nil before that.
    public var runAs: ScriptIdentity?

    public init(location: ConfigLocation, command: [String], user: ScriptUser? = nil, runAs: ScriptIdentity? = nil) {
        self.location = location
        self.command = command
        self.user = user
        self.runAs = runAs
    }
}

/// The notify scripts of one instance; nil when not written.
public struct NotifyScripts: Hashable, Sendable {
    public var master: NotifyScript?
    public var backup: NotifyScript?
    public var fault: NotifyScript?
    public var stop: NotifyScript?
    /// `notify`: called on every transition with `INSTANCE NAME STATE PRIORITY`.
    public var any: NotifyScript?

    public init(
        master: NotifyScript? = nil,
        backup: NotifyScript? = nil,
        fault: NotifyScript? = nil,
        stop: NotifyScript? = nil,
        any: NotifyScript? = nil
    ) {
        self.master = master
        self.backup = backup
        self.fault = fault
        self.stop = stop
        self.any = any
    }
}
