/// A `server NAME ADDR:PORT [options]` line, with `default-server` options and HAProxy's defaults applied.
///
/// HAProxy defaults applied when neither the line nor a `default-server` sets them: `inter 2s`, `fastinter` and
/// `downinter` equal to `inter`, `fall 3`, `rise 2`, `weight 1`, `maxconn 0` (no limit, stored as nil),
/// no `slowstart`, checks on the server's own address and port.
public struct Server: Sendable, Equatable {
    public var name: String
    public var address: ServerAddress
    public var location: SourceLocation
    /// `check`: active health checks are enabled. Without it the server is always considered UP.
    public var checkEnabled: Bool
    /// `inter`: interval between checks while the server is UP and stable.
    public var checkInterval: Duration
    /// `fastinter`: interval while the server is transitioning (UP but failing, or DOWN but succeeding).
    public var fastInterval: Duration
    /// `downinter`: interval while the server is DOWN.
    public var downInterval: Duration
    /// `fall`: consecutive failed checks that mark an UP server DOWN.
    public var fall: Int
    /// `rise`: consecutive successful checks that mark a DOWN server UP.
    public var rise: Int
    /// `weight` (0...256); 0 means the server receives no new traffic from load balancing.
    public var weight: Int
    /// `backup`: only used when every non-backup server is DOWN.
    public var isBackup: Bool
    /// `disabled`: starts in maintenance mode.
    public var isDisabled: Bool
    /// `maxconn`: concurrent connections to this server; nil means unlimited (HAProxy's `maxconn 0`).
    public var maxConn: Int?
    /// `port`: health checks go to this port instead of the server's.
    public var checkPort: Int?
    /// `addr`: health checks go to this address instead of the server's (the host, no port).
    public var checkAddress: Host?
    /// `slowstart`: after coming UP, the weight ramps up over this time.
    public var slowStart: Duration?

    public init(
        name: String, address: ServerAddress, location: SourceLocation, checkEnabled: Bool = false,
        checkInterval: Duration = Server.defaultInterval, fastInterval: Duration? = nil, downInterval: Duration? = nil,
        fall: Int = Server.defaultFall, rise: Int = Server.defaultRise, weight: Int = Server.defaultWeight,
        isBackup: Bool = false, isDisabled: Bool = false, maxConn: Int? = nil, checkPort: Int? = nil,
        checkAddress: Host? = nil, slowStart: Duration? = nil
    ) {
        self.name = name
        self.address = address
        self.location = location
        self.checkEnabled = checkEnabled
        self.checkInterval = checkInterval
        self.fastInterval = fastInterval ?? checkInterval
        self.downInterval = downInterval ?? checkInterval
        self.fall = fall
        self.rise = rise
        self.weight = weight
        self.isBackup = isBackup
        self.isDisabled = isDisabled
        self.maxConn = maxConn
        self.checkPort = checkPort
        self.checkAddress = checkAddress
        self.slowStart = slowStart
    }

    /// HAProxy's default `inter`: 2 seconds.
    public static let defaultInterval: Duration = .seconds(2)
    /// HAProxy's default `fall`: 3.
    public static let defaultFall = 3
    /// HAProxy's default `rise`: 2.
    public static let defaultRise = 2
    /// HAProxy's default `weight`: 1.
    public static let defaultWeight = 1
    /// HAProxy's maximum `weight`.
    public static let maxWeight = 256
}
