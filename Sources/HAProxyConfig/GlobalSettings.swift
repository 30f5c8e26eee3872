/// The `global` section: process-wide settings.
public struct GlobalSettings: Sendable, Equatable {
    /// `log` lines; proxies with `log global` send to these.
    public var logTargets: [LogTarget]
    /// `maxconn`: process-wide concurrent connections as configured; nil: derived from the descriptor limit.
    /// Pass it through ``effectiveMaxConn(configured:fileDescriptorLimit:reservedDescriptors:location:)``
    /// with the real hard RLIMIT_NOFILE before using it.
    public var maxConn: Int?
    /// Line of `maxconn`, for the capping warning.
    public var maxConnLocation: SourceLocation?
    /// `daemon`: detach into the background (the `-D` flag does the same).
    public var daemon: Bool
    /// `pidfile PATH` (the `-p` flag overrides it).
    public var pidFile: String?
    /// `nbthread N`: event loops; nil: one per CPU, as HAProxy 2.x.
    public var threadCount: Int?
    /// `cpu-map` lines, resolved per thread: which CPUs each event loop is pinned to.
    public var cpuMap: CPUMap
    /// `user` / `group`: accepted and stored; dropping privileges is up to the balancer.
    public var user: String?
    public var group: String?
    /// `stats socket PATH [mode M] [level L] ...` lines, for the runtime API.
    public var statsSockets: [StatsSocket]
    /// `stats timeout`: idle timeout on the runtime API socket; HAProxy's default is 10s.
    public var statsTimeout: Duration
    /// `tune.bufsize`: request/response buffer size; header blocks larger than this are refused.
    /// HAProxy's default is 16384.
    public var bufferSize: Int
    /// `chroot DIR`: accepted and kept, never applied (in-process reloads re-read the configuration files and
    /// resolve hostnames at run time); the parser warns.
    public var chroot: String?
    /// `ca-base`, `crt-base`, `ssl-default-*` and the DH settings: kept for `ssl` bind/server lines, which
    /// Portico refuses for now.
    public var tls: GlobalTLS

    public init(
        logTargets: [LogTarget] = [], maxConn: Int? = nil, maxConnLocation: SourceLocation? = nil, daemon: Bool = false,
        pidFile: String? = nil, threadCount: Int? = nil, user: String? = nil, group: String? = nil,
        statsSockets: [StatsSocket] = [], statsTimeout: Duration = .seconds(10),
        bufferSize: Int = GlobalSettings.defaultBufferSize, cpuMap: CPUMap = CPUMap(), chroot: String? = nil,
        tls: GlobalTLS = GlobalTLS()
    ) {
        self.chroot = chroot
        self.tls = tls
        self.cpuMap = cpuMap
        self.logTargets = logTargets
        self.maxConn = maxConn
        self.maxConnLocation = maxConnLocation
        self.daemon = daemon
        self.pidFile = pidFile
        self.threadCount = threadCount
        self.user = user
        self.group = group
        self.statsSockets = statsSockets
        self.statsTimeout = statsTimeout
        self.bufferSize = bufferSize
    }

    public static let defaultBufferSize = 16384
}

/// `stats socket PATH [mode OCTAL] [level user|operator|admin] [expose-fd listeners] [user U] [group G]`.
public struct StatsSocket: Sendable, Equatable {
    /// A UNIX socket path, or `ipv4@ADDR:PORT` / `ADDR:PORT` text for a TCP runtime API.
    public var path: String
    /// `mode`: permission bits of the UNIX socket (written in octal, e.g. `660`).
    public var mode: UInt16?
    public var level: Level
    /// `expose-fd listeners`: the socket may hand listening sockets to a new process (seamless reload).
    public var exposesListeners: Bool
    public var user: String?
    public var group: String?
    public var location: SourceLocation

    /// What commands the socket accepts; HAProxy's default is `operator`.
    public enum Level: String, Sendable, Equatable, CaseIterable {
        case user, `operator`, admin
    }

    public init(
        path: String, mode: UInt16? = nil, level: Level = .`operator`, exposesListeners: Bool = false,
        user: String? = nil, group: String? = nil, location: SourceLocation
    ) {
        self.path = path
        self.mode = mode
        self.level = level
        self.exposesListeners = exposesListeners
        self.user = user
        self.group = group
        self.location = location
    }
}
