/// The state of a VRRP instance: RFC 5798 §6.4's three states plus Keepalived's FAULT.
public enum VRRPState: String, Hashable, Sendable, CustomStringConvertible {
    /// Not started, or stopped (RFC 5798 §6.4.1 Initialize).
    case initialize = "INIT"
    /// Watching the master; takes over when Master_Down_Timer fires (§6.4.2).
    case backup = "BACKUP"
    /// Holding the virtual addresses and advertising (§6.4.3).
    case master = "MASTER"
    /// The interface is down or a tracked item with weight 0 failed: holds nothing, sends nothing.
    case fault = "FAULT"

    public var description: String { rawValue }
}

/// The timers an instance asks its shell to run. At most one of each kind is pending; a `setTimer` replaces
/// the previous one of its kind.
public enum VRRPTimer: String, Hashable, Sendable, CaseIterable {
    /// Backup: fires when the master has been silent for Master_Down_Interval (or Skew_Time after a
    /// priority-0 advert).
    case masterDown
    /// Master: time to send the next periodic advert.
    case advert
    /// Backup: `preempt_delay` has passed since a lower-priority master was first seen.
    case preemptDelay
    /// Master: the delayed (`garp_master_delay`) or periodic (`garp_master_refresh`) gratuitous ARP burst.
    case gratuitousARP
    /// Master handing over: give up waiting for a backup to take over.
    case handoverDeadline
}

/// The state a notify script is run for: `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`,
/// and `notify` with Keepalived's arguments `INSTANCE <name> <STATE> <priority>`.
public enum VRRPNotifyState: String, Hashable, Sendable {
    case master = "MASTER"
    case backup = "BACKUP"
    case fault = "FAULT"
    case stop = "STOP"
}

/// Severity of a log line an instance asks for.
public enum VRRPLogLevel: Hashable, Sendable, Comparable {
    case debug
    case info
    case warning
}

/// One VRRP instance (`vrrp_instance VI_1 { ... }`) as a pure state machine.
///
/// The shell (VRRPDaemon) feeds it events with the time they happened and carries out the actions it
/// returns, in order: it owns the socket, the netlink calls, the ARP socket, the timers and the scripts.
/// The instance never reads a clock and never does I/O, so every transition is tested with virtual time.
///
/// Behaviour follows RFC 5798 §6.4 (RFC 3768 for VRRPv2) and Keepalived 2.2 where the RFC leaves room:
/// FAULT, `nopreempt`, `preempt_delay`, the master answering lower-priority adverts with its own advert,
/// gratuitous ARP bursts, and log lines in Keepalived's words (`(VI_1) Entering MASTER STATE`).
public struct VRRPInstance: Sendable {
    /// Something that happened to the instance.
    public enum Event: Hashable, Sendable {
        /// The daemon starts the instance (RFC 5798 §6.4.1 Startup).
        case start
        /// Raw VRRP bytes (the IP payload) for this instance: decoded, checked and counted here, so every
        /// drop is counted per instance. Route by `VRRPAdvert.peekVirtualRouterID` first.
        case packetReceived([UInt8], ReceivedIPHeader)
        /// An advert the shell already decoded; it still goes through the receive checks.
        case advertReceived(VRRPAdvert, ReceivedIPHeader)
        /// A timer set by `Action.setTimer` has fired. A fire that no longer matches the pending timer of its
        /// kind (cancelled, or replaced by a later one) is ignored, so the shell need not be exact.
        case timerFired(VRRPTimer)
        /// A tracked script, process or interface (by the `TrackedItem` name) went up or down.
        case trackerChanged(name: String, up: Bool)
        /// The instance's own interface went up or down: down means FAULT.
        case interfaceChanged(up: Bool)
        /// Planned failover (issue 6): a master keeps the VIPs but advertises priority 0 until another
        /// router's advert shows it has taken over (after its Skew_Time), then becomes BACKUP and does not
        /// preempt back until `endHandover`. Answered by `Action.handoverFinished`.
        case requestHandover
        /// Cancels a pending handover and lets the instance preempt again.
        case endHandover
        /// The daemon stops: a master sends a priority-0 advert and releases its VIPs (RFC 5798 §6.4.3).
        case shutdown
    }

    /// Something the shell must do, in the order given.
    public enum Action: Hashable, Sendable {
        /// Send `bytes` as one IPv4 packet, protocol 112, TTL 255, from `config.primaryAddress` to
        /// `destination`. `advert` is the same packet decoded, for logs and tests.
        case sendAdvert(VRRPAdvert, destination: IPv4Address, bytes: [UInt8])
        /// Add the virtual addresses (with the prefix, device and label from the config). Adding one that
        /// is already present is not an error.
        case addVIPs([IPv4Address])
        /// Remove the virtual addresses. Removing one that is absent is not an error (it is also asked at
        /// start, to clear addresses a previous run left behind).
        case removeVIPs([IPv4Address])
        /// Send `count` gratuitous ARPs for each address now (spacing them by `garp_interval` if set).
        case sendGratuitousARP([IPv4Address], count: Int)
        /// Deliver `.timerFired(timer)` at `at`, replacing any pending timer of that kind.
        case setTimer(VRRPTimer, at: VRRPInstant)
        /// Forget the pending timer of that kind.
        case cancelTimer(VRRPTimer)
        /// Run the notify scripts for this state with the instance's current effective priority.
        case runNotify(VRRPNotifyState, priority: Int)
        case log(VRRPLogLevel, String)
        /// The answer to `requestHandover`: `released` is true when this node no longer holds the VIPs
        /// (another router took over, or it was not master), false when no router took over in time and
        /// it stays master.
        case handoverFinished(released: Bool)
    }

    /// Where a handover stands.
    enum Handover: Hashable, Sendable {
        case none
        /// Master advertising priority 0 and waiting for a new master's advert.
        case resigning
        /// Handed over (or asked to while not master): accept any master, never preempt.
        case heldBack
    }

    enum PreemptDelay: Hashable, Sendable {
        case idle
        case running
        case expired
    }

    enum GratuitousARPPhase: Hashable, Sendable {
        case delayed
        case refresh
    }

    /// Changed only by `reconfigure(_:now:)` (a reload).
    public internal(set) var config: VRRPInstanceConfig
    /// Advertisement_Interval exactly as the wire carries it (the config's value rounded to centiseconds).
    public internal(set) var advertInterval: Duration
    public internal(set) var state: VRRPState = .initialize
    public internal(set) var counters = VRRPCounters()
    /// Each tracked item's last reported state, by name.
    public internal(set) var trackerStates: [String: Bool]
    public internal(set) var interfaceUp = true
    /// Priority after tracking adjustments: what adverts carry and elections compare.
    public internal(set) var effectivePriority: UInt8
    /// Master_Adver_Interval: ours while master; the master's (learned from its adverts) in VRRPv3 backup.
    public internal(set) var masterAdvertInterval: Duration
    /// The current master's address as far as this instance knows (itself while master).
    public internal(set) var masterAddress: IPv4Address?
    /// The priority the current master last advertised.
    public internal(set) var masterPriority: UInt8?

    var intervalCentiseconds: UInt16
    var timers: [VRRPTimer: VRRPInstant] = [:]
    var handover = Handover.none
    var preemptDelayState = PreemptDelay.idle
    var gratuitousARPPhase = GratuitousARPPhase.delayed
    var lastDropLog: [VRRPDropReason: VRRPInstant] = [:]
    var suppressedDropLogs: [VRRPDropReason: Int] = [:]
    var lastAddressMismatchLog: VRRPInstant?

    /// Checks that the config can run (the interval fits the version's field, priority and VRID are valid).
    public init(config: VRRPInstanceConfig) throws(VRRPConfigError) {
        let centiseconds = try Self.validate(config)
        var states: [String: Bool] = [:]
        for item in config.trackedItems { states[item.name] = item.initiallyUp }
        self.config = config
        self.intervalCentiseconds = centiseconds
        self.trackerStates = states
        self.advertInterval = .milliseconds(Int(centiseconds) * 10)
        self.masterAdvertInterval = self.advertInterval
        self.effectivePriority = config.priority
        self.effectivePriority = computeEffectivePriority()
    }

    /// Checks that `config` can run; returns its advert interval in centiseconds.
    static func validate(_ config: VRRPInstanceConfig) throws(VRRPConfigError) -> UInt16 {
        guard let centiseconds = config.intervalCentiseconds else {
            throw .advertInterval(config.advertInterval, config.version)
        }
        guard config.priority >= 1 else { throw .priority(config.priority) }
        guard config.virtualRouterID >= 1 else { throw .virtualRouterID(config.virtualRouterID) }
        guard (1...255).contains(config.virtualAddresses.count) else {
            throw .virtualAddressCount(config.virtualAddresses.count)
        }
        if config.version == .v3, config.authentication != .none { throw .authenticationInVersion3 }
        var names: Set<String> = []
        for item in config.trackedItems {
            guard names.insert(item.name).inserted else { throw .duplicateTrackedItem(item.name) }
        }
        return centiseconds
    }

    /// Skew_Time for the current effective priority. VRRPv3 (RFC 5798 §6.1):
    /// ((256 − Priority) × Master_Adver_Interval) / 256. VRRPv2 (RFC 3768 §6.1): (256 − Priority) / 256 s.
    public var skewTime: Duration {
        let share = 256 - Int(effectivePriority)
        switch config.version {
        case .v2: return .seconds(share) / 256
        case .v3: return masterAdvertInterval * share / 256
        }
    }

    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (RFC 5798 §6.1; VRRPv2 uses the
    /// configured Advertisement_Interval, which equals Master_Adver_Interval there).
    public var masterDownInterval: Duration {
        masterAdvertInterval * 3 + skewTime
    }

    /// True while a master is advertising priority 0 for a planned handover.
    public var isHandingOver: Bool { handover == .resigning }

    /// True after a handover: the instance accepts any master and does not preempt until `endHandover`.
    public var isHeldBack: Bool { handover == .heldBack }

    /// When each pending timer is due.
    public var pendingTimers: [VRRPTimer: VRRPInstant] { timers }

    /// The priority from the base priority and the tracked items: an address owner stays at 255; anyone
    /// else is clamped to 1...254 so tracking can neither claim ownership nor send a resigning 0.
    func computeEffectivePriority() -> UInt8 {
        if config.isAddressOwner { return VRRPAdvert.ownerPriority }
        var priority = Int(config.priority)
        for item in config.trackedItems {
            priority += item.adjustment(up: trackerStates[item.name] ?? item.initiallyUp)
        }
        return UInt8(min(max(priority, 1), 254))
    }

    /// True while the interface is down or a weight-0 item is down.
    var faultCondition: Bool {
        if !interfaceUp { return true }
        return config.trackedItems.contains { $0.causesFault(up: trackerStates[$0.name] ?? $0.initiallyUp) }
    }

    /// Handles one event that happened at `now` and returns what the shell must do, in order.
    public mutating func handle(_ event: Event, now: VRRPInstant) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start:
            start(now: now, into: &actions)
        case .packetReceived(let bytes, let header):
            do {
                let advert = try VRRPAdvert.decode(
                    bytes, source: header.source, destination: header.destination, v3Checksum: config.v3Checksum)
                receive(advert, header: header, now: now, into: &actions)
            } catch {
                drop(error.dropReason, from: header.source, detail: describe(error), now: now, into: &actions)
            }
        case .advertReceived(let advert, let header):
            receive(advert, header: header, now: now, into: &actions)
        case .timerFired(let timer):
            timerFired(timer, now: now, into: &actions)
        case .trackerChanged(let name, let up):
            guard trackerStates[name] != nil else {
                actions.append(
                    .log(.warning, "(\(config.name)) unknown tracked item \(name) reported \(up ? "up" : "down")"))
                break
            }
            guard trackerStates[name] != up else { break }
            trackerStates[name] = up
            reevaluate(now: now, into: &actions)
        case .interfaceChanged(let up):
            guard interfaceUp != up else { break }
            interfaceUp = up
            reevaluate(now: now, into: &actions)
        case .requestHandover:
            requestHandover(now: now, into: &actions)
        case .endHandover:
            endHandover(now: now, into: &actions)
        case .shutdown:
            shutdown(now: now, into: &actions)
        }
        return actions
    }
}
