/// Descriptors kept aside beyond two per proxied connection: listeners, health-check connections, log sockets,
/// the runtime API socket, stdio. HAProxy keeps a similar margin when it sizes `maxsock`.
public let defaultReservedDescriptors = 100

/// The `maxconn` the process can actually honour under the hard RLIMIT_NOFILE.
///
/// Each proxied connection holds about two descriptors (client side and server side), plus
/// `reservedDescriptors` for everything else. When the configured value does not fit, HAProxy 2.6 refuses to start;
/// Portico caps it instead and returns a warning with both numbers and the fix. The seed's `maxconn 10000` on a
/// machine whose hard limit is 20,000 is capped to 9,950.
///
/// - Parameters:
///   - configured: `global.maxconn`, or nil to derive it from the limit (as HAProxy does when it is absent;
///     no warning then).
///   - fileDescriptorLimit: the hard RLIMIT_NOFILE (`Int.max` when unlimited).
///   - location: the `maxconn` line, so the warning points at it.
/// - Returns: the effective maxconn (at least 1) and a warning when it was capped.
public func effectiveMaxConn(
    configured: Int?,
    fileDescriptorLimit: Int,
    reservedDescriptors: Int = defaultReservedDescriptors,
    location: SourceLocation? = nil
) -> (Int, Diagnostic?) {
    let available = max(0, fileDescriptorLimit - reservedDescriptors)
    let fitting = max(1, available / 2)
    guard let configured else {
        // Without maxconn HAProxy sizes itself from the limit; keep a sane ceiling for "unlimited" systems.
        return (min(fitting, 1_000_000), nil)
    }
    let requested = max(1, configured)
    if requested <= fitting { return (requested, nil) }
    let (doubled, overflow) = requested.multipliedReportingOverflow(by: 2)
    let needed = overflow ? Int.max : doubled.addingReportingOverflow(reservedDescriptors).partialValue
    let message =
        "maxconn \(requested) needs about \(needed) file descriptors (2 per connection + \(reservedDescriptors) "
        + "reserved) but the hard limit (RLIMIT_NOFILE) is \(fileDescriptorLimit); capping maxconn to \(fitting). "
        + "To honour maxconn \(requested), raise the limit to at least \(needed) (ulimit -n \(needed), or "
        + "LimitNOFILE=\(needed) in the systemd unit) or lower maxconn to \(fitting)."
    return (fitting, .warning(message, at: location))
}

/// Convenience for a configured (non-optional) maxconn.
public func effectiveMaxConn(
    configured: Int,
    fileDescriptorLimit: Int,
    reservedDescriptors: Int = defaultReservedDescriptors,
    location: SourceLocation? = nil
) -> (Int, Diagnostic?) {
    effectiveMaxConn(
        configured: Optional(configured), fileDescriptorLimit: fileDescriptorLimit,
        reservedDescriptors: reservedDescriptors, location: location)
}

extension BalancerConfig {
    /// The process-wide maxconn to run with under the hard RLIMIT_NOFILE `fileDescriptorLimit`, and the warning
    /// (pointing at the `maxconn` line) when `global.maxconn` had to be capped. `portico lb` and `portico lb -c`
    /// print the warning with the parse diagnostics.
    public func effectiveGlobalMaxConn(fileDescriptorLimit: Int) -> (Int, Diagnostic?) {
        effectiveMaxConn(
            configured: global.maxConn, fileDescriptorLimit: fileDescriptorLimit,
            reservedDescriptors: reservedDescriptors, location: global.maxConnLocation)
    }

    /// Descriptors this configuration holds besides proxied connections: one per listener, one per checked server
    /// (a check in flight), one per log target and runtime API socket, plus a margin for stdio and reloads;
    /// never less than ``defaultReservedDescriptors``.
    public var reservedDescriptors: Int {
        let listeners = frontends.reduce(0) { $0 + $1.binds.count }
        let checks = backends.reduce(0) { $0 + $1.servers.filter(\.checkEnabled).count }
        let logs =
            global.logTargets.count
            + frontends.reduce(0) { $0 + $1.logging.targets.count }
            + backends.reduce(0) { $0 + $1.logging.targets.count }
        let margin = 16
        return max(defaultReservedDescriptors, listeners + checks + logs + global.statsSockets.count + margin)
    }
}
