import HAProxyConfig
import KeepalivedConfig

/// One node's files after reading and parsing: everything the pure checks look at. Built by ``NodeLoader``, or
/// directly by tests.
public struct LoadedNode: Sendable {
    public var source: NodeSource
    /// haproxy.cfg parsed with the balancer's own parser (a file that cannot be read is an alert in it).
    public var balancer: ConfigParseResult
    /// The text of haproxy.cfg, to locate lines the model keeps no location for and the "intended" markers.
    public var balancerText: String
    /// keepalived.conf parsed with the VRRP daemon's own parser.
    public var vrrp: ParseResult
    /// Every script keepalived.conf references, as found on the file system.
    public var scripts: [ScriptProbe]
    /// False when haproxy.cfg could not be read: the node is left out of the balancer comparison (the read error
    /// is reported) rather than reported as missing every section.
    public var balancerLoaded: Bool

    public init(
        source: NodeSource, balancer: ConfigParseResult, balancerText: String, vrrp: ParseResult,
        scripts: [ScriptProbe] = [], balancerLoaded: Bool = true
    ) {
        self.source = source
        self.balancer = balancer
        self.balancerText = balancerText
        self.vrrp = vrrp
        self.scripts = scripts
        self.balancerLoaded = balancerLoaded
    }

    /// False when keepalived.conf yielded no instance because of errors (e.g. it could not be read): the node is
    /// left out of the VRRP comparison, its errors are reported.
    public var vrrpLoaded: Bool { !(vrrp.config.instances.isEmpty && vrrp.diagnostics.hasErrors) }

    /// The highest priority among the node's instances that start as MASTER, else among all; nil without instances.
    var masterRank: (Int, Int)? {
        vrrp.config.instances.map { ($0.state == .master ? 1 : 0, $0.priority) }.max { $0 < $1 }
    }

    public var name: String { source.name }

    /// The node's address on the VRRP interface: the one given on the command line, else `unicast_src_ip`.
    public func address(for instance: VRRPInstanceBlock) -> NodeAddress? {
        if let address = source.address { return address }
        return instance.unicastSourceIP.map { NodeAddress(address: $0) }
    }
}

/// A script referenced from keepalived.conf and what the file system says about it.
public struct ScriptProbe: Hashable, Sendable {
    /// Who runs the script: `vrrp_script chk_haproxy`, `notify_master of VI_1`.
    public var uses: [String]
    /// The line that names the script.
    public var reference: FileLine
    /// The command as Keepalived splits it; `[0]` is the program.
    public var command: [String]
    /// Where the program was looked for; nil for a bare name (Keepalived searches PATH).
    public var checkedPath: String?
    /// True when `checkedPath` is a copy collected from the node rather than the deployed file.
    public var isCopy: Bool
    /// `stat(2)` of every component from `/` down to the file for a deployed script, only the file for a copy.
    /// A nil status means that component does not exist.
    public var chain: [PathStatus]
    /// The script's text when it is a readable regular file (for the "what does it check" heuristics).
    public var text: String?
    /// Keepalived protects only scripts run as root: false when `user` / `script_user` names another user.
    public var runsAsRoot: Bool

    public init(
        uses: [String], reference: FileLine, command: [String], checkedPath: String?, isCopy: Bool,
        chain: [PathStatus], text: String?, runsAsRoot: Bool
    ) {
        self.uses = uses
        self.reference = reference
        self.command = command
        self.checkedPath = checkedPath
        self.isCopy = isCopy
        self.chain = chain
        self.text = text
        self.runsAsRoot = runsAsRoot
    }

    public var program: String { command.first ?? "" }
    /// The status of the script file itself; nil when missing (or not looked up).
    public var fileStatus: FileStatus? { chain.last?.status }
}
