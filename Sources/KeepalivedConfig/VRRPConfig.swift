/// A parsed keepalived.conf: the typed model `portico vrrp` runs and `portico check` compares between nodes.
///
/// Values are *effective* values: a keyword that was not written holds Keepalived's default (each default is
/// cited from keepalived.conf(5) of Keepalived 2.2.7, the version Debian ships). Whether a keyword was written,
/// and where, is in each item's `keywordLocations`.
public struct VRRPConfig: Hashable, Sendable {
    /// The file the parse started from, as the caller named it.
    public var file: String
    public var global: GlobalDefinitions
    /// `vrrp_script NAME { }` blocks, in file order.
    public var scripts: [VRRPScript]
    /// `vrrp_track_process NAME { }` blocks, in file order.
    public var trackProcesses: [VRRPTrackProcess]
    /// `vrrp_instance NAME { }` blocks, in file order.
    public var instances: [VRRPInstanceBlock]

    public init(
        file: String,
        global: GlobalDefinitions = GlobalDefinitions(),
        scripts: [VRRPScript] = [],
        trackProcesses: [VRRPTrackProcess] = [],
        instances: [VRRPInstanceBlock] = []
    ) {
        self.file = file
        self.global = global
        self.scripts = scripts
        self.trackProcesses = trackProcesses
        self.instances = instances
    }

    public func script(named name: String) -> VRRPScript? { scripts.first { $0.name == name } }
    public func trackProcess(named name: String) -> VRRPTrackProcess? { trackProcesses.first { $0.name == name } }
    public func instance(named name: String) -> VRRPInstanceBlock? { instances.first { $0.name == name } }
}

/// The keyword → line map every block keeps, so a finding about a value can point at the line that set it,
/// or at the block header when the value is a default.
public protocol KeywordLocated {
    /// The line of the block header (`vrrp_instance VI_1 {`) or of the item itself.
    var location: ConfigLocation { get }
    /// Lines of the keywords written in this block, by keyword (last occurrence wins, as in Keepalived).
    var keywordLocations: [String: ConfigLocation] { get }
}

extension KeywordLocated {
    /// The line that set `keyword`, or the block's own line when the keyword was not written (default value).
    public func location(of keyword: String) -> ConfigLocation { keywordLocations[keyword] ?? location }

    /// Whether the operator wrote `keyword` (as opposed to the value being Keepalived's default).
    public func isSet(_ keyword: String) -> Bool { keywordLocations[keyword] != nil }
}

/// A check an instance can track by name with a weight: `vrrp_script` or `vrrp_track_process`.
protocol WeightedCheck: KeywordLocated {
    var weight: Int { get }
    var reverse: Bool { get }
}

extension VRRPScript: WeightedCheck {}
extension VRRPTrackProcess: WeightedCheck {}

/// `global_defs { }`.
///
/// `vrrp_strict` is rejected as "not supported yet" rather than accepted: in Keepalived it changes the protocol
/// (no_accept mode enforced with firewall rules, no authentication, no unicast, no preempt_delay, state MASTER
/// only with priority 255), so ignoring it would run something other than what the operator configured.
public struct GlobalDefinitions: Hashable, Sendable, KeywordLocated {
    /// The `global_defs` line, or line 1 of the main file when the block is absent.
    public var location: ConfigLocation
    public var keywordLocations: [String: ConfigLocation]
    /// `router_id`. Keepalived defaults it to the host name; nil here means "not written".
    public var routerID: String?
    /// `script_user USER [GROUP]`. Default (keepalived.conf(5)): `keepalived_script` if that user exists,
    /// otherwise the user keepalived runs as; nil here means "not written".
    public var scriptUser: ScriptUser?
    /// `enable_script_security`: don't run root scripts whose path is writable by non-root users.
    public var enableScriptSecurity: Bool
    /// `vrrp_version`: the default `version` of every instance. Default 2 ("default: 2, but IPv6 instances
    /// will use version 3", keepalived.conf(5)).
    public var vrrpVersion: Int
    /// `vrrp_garp_master_delay`: default of each instance's `garp_master_delay`. Default 5 s.
    public var garpMasterDelay: Duration
    /// `vrrp_garp_master_repeat`: default of each instance's `garp_master_repeat`. Default 5.
    public var garpMasterRepeat: Int
    /// `vrrp_garp_master_refresh`: default of each instance's `garp_master_refresh`. Default 0 (no refreshing).
    public var garpMasterRefresh: Duration
    /// `vrrp_garp_master_refresh_repeat`: default of each instance's `garp_master_refresh_repeat`. Default 1.
    public var garpMasterRefreshRepeat: Int
    /// `vrrp_skip_check_adv_addr`: don't re-check the addresses of adverts from the same master. Default off.
    public var skipCheckAdvertAddresses: Bool

    public init(
        location: ConfigLocation = ConfigLocation(file: "", line: 0),
        keywordLocations: [String: ConfigLocation] = [:],
        routerID: String? = nil,
        scriptUser: ScriptUser? = nil,
        enableScriptSecurity: Bool = false,
        vrrpVersion: Int = 2,
        garpMasterDelay: Duration = .seconds(5),
        garpMasterRepeat: Int = 5,
        garpMasterRefresh: Duration = .zero,
        garpMasterRefreshRepeat: Int = 1,
        skipCheckAdvertAddresses: Bool = false
    ) {
        self.location = location
        self.keywordLocations = keywordLocations
        self.routerID = routerID
        self.scriptUser = scriptUser
        self.enableScriptSecurity = enableScriptSecurity
        self.vrrpVersion = vrrpVersion
        self.garpMasterDelay = garpMasterDelay
        self.garpMasterRepeat = garpMasterRepeat
        self.garpMasterRefresh = garpMasterRefresh
        self.garpMasterRefreshRepeat = garpMasterRefreshRepeat
        self.skipCheckAdvertAddresses = skipCheckAdvertAddresses
    }
}

/// `USER [GROUP]` as in `script_user`, `vrrp_script { user }` and notify scripts. A nil group means
/// "the user's primary group" (keepalived.conf(5)).
public struct ScriptUser: Hashable, Sendable {
    public var user: String
    public var group: String?

    public init(user: String, group: String? = nil) {
        self.user = user
        self.group = group
    }
}

/// `vrrp_script NAME { }`: a check command run periodically; its result moves the priority or faults
/// the instances that track it.
public struct VRRPScript: Hashable, Sendable, KeywordLocated {
    public var name: String
    public var location: ConfigLocation
    public var keywordLocations: [String: ConfigLocation]
    /// `script`: the command line split into words like Keepalived does (quotes group words); `[0]` is the path.
    public var command: [String]
    /// `interval`: seconds between runs. Default 1 s ("default: 1 second", keepalived.conf(5)).
    public var interval: Duration
    /// `timeout`: a run taking longer counts as a failure. Nil when not written (Keepalived stores 0,
    /// `VRRP_SCRIPT_DT`, and then bounds a run by the interval): see `effectiveTimeout`.
    public var timeout: Duration?
    /// `fall`: consecutive failures before the script is KO. Default 1: keepalived.conf(5) gives none, Keepalived's
    /// `alloc_vrrp_script()` (vrrp_data.c) sets `fall = 1`, and `fall 0` is rejected.
    public var fall: Int
    /// `rise`: consecutive successes before the script is OK. Default 1 (same source as `fall`).
    public var rise: Int
    /// `weight N`: -253...253. Default 0 ("adjust priority by this weight, (default: 0)"), meaning
    /// a KO script puts tracking instances in FAULT.
    public var weight: Int
    /// `weight N reverse`: the adjustment applies in the opposite state.
    public var reverse: Bool
    /// `user USER [GROUP]`; nil means `global_defs { script_user }` or its default.
    public var user: ScriptUser?
    /// `init_fail`: the script starts in the failed state instead of OK.
    public var initFail: Bool
    /// Who runs the script, once `user` / `script_user` are looked up (``ScriptPlan``); nil before that.
    public var runAs: ScriptIdentity?

    public init(
        name: String,
        location: ConfigLocation,
        keywordLocations: [String: ConfigLocation] = [:],
        command: [String] = [],
        interval: Duration = .seconds(1),
        timeout: Duration? = nil,
        fall: Int = 1,
        rise: Int = 1,
        weight: Int = 0,
        reverse: Bool = false,
        user: ScriptUser? = nil,
        initFail: Bool = false,
        runAs: ScriptIdentity? = nil
    ) {
        self.name = name
        self.location = location
        self.keywordLocations = keywordLocations
        self.command = command
        self.interval = interval
        self.timeout = timeout
        self.fall = fall
        self.rise = rise
        self.weight = weight
        self.reverse = reverse
        self.user = user
        self.initFail = initFail
        self.runAs = runAs
    }

    /// How long one run may take: `timeout` when written, otherwise the interval, so runs never pile up.
    public var effectiveTimeout: Duration { timeout ?? interval }
}

/// `vrrp_track_process NAME { }`: a process whose presence (a quorum of matching processes) moves the
/// priority or faults the instances that track it.
public struct VRRPTrackProcess: Hashable, Sendable, KeywordLocated {
    public enum ParameterMatch: String, Hashable, Sendable {
        /// Parameters must match exactly (the default when parameters are given).
        case exact
        /// `param_match initial`: the last configured parameter may be a prefix of the process's.
        case initial
        /// `param_match partial`: the first n parameters match exactly, further ones are ignored.
        case partial
    }

    public var name: String
    public var location: ConfigLocation
    public var keywordLocations: [String: ConfigLocation]
    /// `process NAME [PARAM ...]`: `[0]` is the process name, the rest its parameters.
    public var process: [String]
    /// `param_match`; nil when not written (Keepalived then matches the name only, unless parameters are given).
    public var parameterMatch: ParameterMatch?
    /// `weight N [reverse]`: -254...254. Default 1 ("default weight (default is 1)", keepalived.conf(5)).
    public var weight: Int
    public var reverse: Bool
    /// `quorum`: minimum matching processes for success. Default 1.
    public var quorum: Int
    /// `quorum_max`: maximum matching processes for success; nil means no maximum.
    public var quorumMax: Int?
    /// `fork_delay` (or `delay`): wait after quorum is gained before considering the process up. Default 0.
    public var forkDelay: Duration
    /// `terminate_delay` (or `delay`): wait after quorum is lost before considering the process down. Default 0.
    public var terminateDelay: Duration

    public init(
        name: String,
        location: ConfigLocation,
        keywordLocations: [String: ConfigLocation] = [:],
        process: [String] = [],
        parameterMatch: ParameterMatch? = nil,
        weight: Int = 1,
        reverse: Bool = false,
        quorum: Int = 1,
        quorumMax: Int? = nil,
        forkDelay: Duration = .zero,
        terminateDelay: Duration = .zero
    ) {
        self.name = name
        self.location = location
        self.keywordLocations = keywordLocations
        self.process = process
        self.parameterMatch = parameterMatch
        self.weight = weight
        self.reverse = reverse
        self.quorum = quorum
        self.quorumMax = quorumMax
        self.forkDelay = forkDelay
        self.terminateDelay = terminateDelay
    }
}
