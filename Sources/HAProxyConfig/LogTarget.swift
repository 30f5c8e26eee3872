/// One `log` line: `log ADDR[:PORT] [len N] [format F] FACILITY [LEVEL [MINLEVEL]]`, `log stdout format raw local0`.
public struct LogTarget: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        /// Syslog over UDP; HAProxy's default port is 514.
        case udp(host: Host, port: Int)
        /// A UNIX datagram socket such as `/dev/log`.
        case unixSocket(path: String)
        /// `stdout` / `stderr`: one line per message, for containers.
        case stdout
        case stderr
    }

    /// `format` argument; HAProxy's default is `rfc3164`.
    public enum Format: String, Sendable, Equatable, CaseIterable {
        case rfc3164, rfc5424, short, raw, timed, iso, priority, local
    }

    public var destination: Destination
    public var format: Format
    /// `len N`: longest line sent; HAProxy's default is 1024.
    public var maxLength: Int
    public var facility: SyslogFacility
    /// Only messages at this level or more severe are sent; nil: all levels.
    public var level: SyslogLevel?
    /// Messages less severe than this are raised to it; nil: unchanged.
    public var minLevel: SyslogLevel?
    public var location: SourceLocation

    public init(
        destination: Destination, format: Format = .rfc3164, maxLength: Int = LogTarget.defaultMaxLength,
        facility: SyslogFacility, level: SyslogLevel? = nil, minLevel: SyslogLevel? = nil, location: SourceLocation
    ) {
        self.destination = destination
        self.format = format
        self.maxLength = maxLength
        self.facility = facility
        self.level = level
        self.minLevel = minLevel
        self.location = location
    }

    public static let defaultMaxLength = 1024
    public static let defaultSyslogPort = 514
}

/// Syslog facilities (RFC 5424 §6.2.1), numbered as on the wire.
public enum SyslogFacility: Int, Sendable, Equatable, CaseIterable {
    case kern = 0
    case user, mail, daemon, auth, syslog, lpr, news, uucp, cron, auth2, ftp, ntp, audit, alert, cron2
    case local0, local1, local2, local3, local4, local5, local6, local7

    /// The name written in haproxy.cfg.
    public var name: String {
        switch self {
        case .kern: return "kern"
        case .user: return "user"
        case .mail: return "mail"
        case .daemon: return "daemon"
        case .auth: return "auth"
        case .syslog: return "syslog"
        case .lpr: return "lpr"
        case .news: return "news"
        case .uucp: return "uucp"
        case .cron: return "cron"
        case .auth2: return "auth2"
        case .ftp: return "ftp"
        case .ntp: return "ntp"
        case .audit: return "audit"
        case .alert: return "alert"
        case .cron2: return "cron2"
        case .local0: return "local0"
        case .local1: return "local1"
        case .local2: return "local2"
        case .local3: return "local3"
        case .local4: return "local4"
        case .local5: return "local5"
        case .local6: return "local6"
        case .local7: return "local7"
        }
    }

    public init?(name: String) {
        guard let match = SyslogFacility.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

/// Syslog severities (RFC 5424 §6.2.1); a lower raw value is more severe.
public enum SyslogLevel: Int, Sendable, Equatable, Comparable, CaseIterable {
    case emerg = 0
    case alert, crit, err, warning, notice, info, debug

    public var name: String { String(describing: self) }

    public init?(name: String) {
        guard let match = SyslogLevel.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public static func < (lhs: SyslogLevel, rhs: SyslogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}
