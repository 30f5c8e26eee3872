/// A point in time as the VRRP state machine sees it: a distance from an arbitrary origin the caller
/// picks (the daemon uses the moment it started; tests start at zero).
///
/// The state machine never reads a clock: every event arrives with the `now` it happened at, and every
/// timer it wants is returned as an instant for the caller to schedule. This keeps it deterministic and
/// lets tests run hours of protocol time in microseconds.
public struct VRRPInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the caller's origin.
    public var sinceOrigin: Duration

    public init(_ sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    public static let zero = VRRPInstant(.zero)

    public static func + (lhs: VRRPInstant, rhs: Duration) -> VRRPInstant {
        VRRPInstant(lhs.sinceOrigin + rhs)
    }

    public static func - (lhs: VRRPInstant, rhs: VRRPInstant) -> Duration {
        lhs.sinceOrigin - rhs.sinceOrigin
    }

    public static func < (lhs: VRRPInstant, rhs: VRRPInstant) -> Bool {
        lhs.sinceOrigin < rhs.sinceOrigin
    }

    public var description: String { "t+\(sinceOrigin)" }
}

extension VRRPInstant {
    /// The instant `instant` is past `origin`: the daemon keeps one origin (its start) and converts every
    /// clock reading with it. Converting reads no clock itself.
    public init(_ instant: ContinuousClock.Instant, origin: ContinuousClock.Instant) {
        self.init(origin.duration(to: instant))
    }

    /// The clock instant to schedule a timer at, for the same origin.
    public func continuousClockInstant(origin: ContinuousClock.Instant) -> ContinuousClock.Instant {
        origin.advanced(by: sinceOrigin)
    }
}
