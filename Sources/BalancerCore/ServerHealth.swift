/// Where a checked server starts, at start-up and when it leaves maintenance (HAProxy 3.1's `init-state`).
public enum InitialCheckState: String, Sendable, Equatable {
    /// HAProxy's default (and 2.6's only behaviour): UP at once, the first failed check marks it DOWN.
    case up
    /// UP at once, `fall` failed checks to mark it DOWN.
    case fullyUp = "fully-up"
    /// No traffic until a check passes; the first passing check marks it UP.
    case down
    /// No traffic until `rise` checks have passed.
    case fullyDown = "fully-down"
}

/// The `check` parameters of one server (`server NAME ADDR check inter 2s fall 3 rise 2`).
public struct CheckSettings: Sendable, Equatable {
    /// Consecutive successes to turn a DOWN server UP.
    public var rise: Int
    /// Consecutive failures to turn an UP server DOWN.
    public var fall: Int
    /// Interval while the server is stable (fully UP).
    public var inter: Duration
    /// Interval while the server is in transition ("UP 2/3", "DOWN 1/2"); `inter` when not set.
    public var fastInter: Duration?
    /// Interval while the server is fully DOWN; `inter` when not set.
    public var downInter: Duration?
    /// State at start-up and after maintenance. `.down` keeps a server that was stopped for maintenance
    /// from taking requests before it has answered a check (HAProxy's default, `.up`, sends it traffic
    /// until its first check fails).
    public var initialState: InitialCheckState

    /// HAProxy's defaults: `inter 2s rise 2 fall 3`.
    public init(
        rise: Int = 2,
        fall: Int = 3,
        inter: Duration = .seconds(2),
        fastInter: Duration? = nil,
        downInter: Duration? = nil,
        initialState: InitialCheckState = .up
    ) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self.inter = inter
        self.fastInter = fastInter
        self.downInter = downInter
        self.initialState = initialState
    }
}

/// One server's rise/fall state with HAProxy's semantics, driven by check reports.
///
/// HAProxy keeps a single counter, `health`, from 0 to `rise + fall - 1`: the server is UP while
/// `health >= rise`. A failure decrements it and, once below `rise`, drops it to 0 (DOWN: `rise`
/// successes are needed again); a success increments it and, once it reaches `rise`, jumps it to the
/// top (fully UP: `fall` failures are needed again). So from fully UP the server goes DOWN after
/// exactly `fall` consecutive failures, showing "UP 2/3", "UP 1/3" on the way, and from DOWN it comes
/// back after exactly `rise` consecutive successes, showing "DOWN 1/2".
///
/// Initial state: a checked server starts UP with `health = rise`, shown "UP 1/3" with check status
/// "INI". It takes traffic at once; its first successful check makes it fully UP, but its first failed
/// check marks it DOWN immediately (not after `fall` failures). Sources: observed with haproxy 2.6.12
/// (`show stat` right after start: "UP 1/3", INI; a refused server logged DOWN at its first check);
/// the HAProxy manual's `init-state` (added in 3.1) documents this as the default `up`: "the server is
/// considered immediately available and will initiate a health check that can turn it to the DOWN
/// state immediately if it fails". A server leaving maintenance restarts from the same state.
///
/// Intervals follow the table under `inter` in the 2.6 manual (§5.2): "inter" when UP 100%,
/// "fastinter" (else "inter") when transitionally UP or DOWN "or yet unchecked", "downinter" (else
/// "inter") when DOWN 100%.
public struct ServerHealth: Sendable, Equatable {
    public let settings: CheckSettings
    /// HAProxy's `check->health`.
    public private(set) var health: Int
    /// The last completed check (status "INI" before the first one).
    public private(set) var lastCheck: CheckReport
    /// Failed checks counted while the server was not already fully DOWN (`chkfail`).
    public private(set) var failedChecks = 0
    /// UP → DOWN transitions (`chkdown`).
    public private(set) var downTransitions = 0

    public init(settings: CheckSettings) {
        self.settings = settings
        health = 0
        lastCheck = CheckReport(status: .initializing)
        restart()
    }

    private var top: Int { settings.rise + settings.fall - 1 }

    public var isUp: Bool { health >= settings.rise }

    /// "UP", "UP 2/3", "DOWN", "DOWN 1/2", as the stats page shows it.
    public var statusText: String {
        if isUp {
            return health == top ? "UP" : "UP \(health - settings.rise + 1)/\(settings.fall)"
        }
        return health == 0 ? "DOWN" : "DOWN \(health)/\(settings.rise)"
    }

    /// HAProxy's `srv_getinter`: `inter` when stable, `downinter` when fully DOWN, `fastinter` in between.
    public var nextInterval: Duration {
        if health == top { return settings.inter }
        if health == 0 { return settings.downInter ?? settings.inter }
        return settings.fastInter ?? settings.inter
    }

    /// Applies one check result; returns `true` when the server crossed between UP and DOWN.
    public mutating func record(_ report: CheckReport) -> Bool {
        let wasUp = isUp
        lastCheck = report
        if report.status.passed {
            if health < top {
                health += 1
                if health >= settings.rise { health = top }
            }
        } else if health > 0 {
            failedChecks += 1
            health -= 1
            if health < settings.rise { health = 0 }
        }
        if wasUp && !isUp { downTransitions += 1 }
        return wasUp != isUp
    }

    /// `set server B/S health up|down`: fully UP or fully DOWN at once.
    public mutating func force(up: Bool) -> Bool {
        let wasUp = isUp
        health = up ? top : 0
        if wasUp && !up { downTransitions += 1 }
        return wasUp != isUp
    }

    /// Start-up and leaving maintenance: by default "start OK but check immediately", as HAProxy does.
    public mutating func restart() {
        switch settings.initialState {
        case .up: health = settings.rise
        case .fullyUp: health = top
        case .down: health = settings.rise - 1
        case .fullyDown: health = 0
        }
    }
}
