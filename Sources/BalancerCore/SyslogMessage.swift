/// Syslog facilities, with the names haproxy.cfg uses (`log 127.0.0.1 local2`), numbered per RFC 3164 §4.1.1.
public enum SyslogFacility: Int, Sendable, Equatable, CaseIterable {
    case kern = 0
    case user, mail, daemon, auth, syslog, lpr, news, uucp, cron, auth2, ftp, ntp, audit, alert, cron2
    case local0, local1, local2, local3, local4, local5, local6, local7

    /// From the configuration keyword; `nil` for an unknown name.
    public init?(name: String) {
        guard let facility = Self.allCases.first(where: { "\($0)" == name }) else { return nil }
        self = facility
    }
}

/// An RFC 3164 syslog datagram as HAProxy sends it: `<PRI>Mmm dd hh:mm:ss haproxy[PID]: MESSAGE\n`
/// (no HOSTNAME unless `log-send-hostname`; checked against haproxy 2.6, which sends
/// `<150>Nov 26 06:58:06 haproxy[25110]: 127.0.0.1:59728 [...] ...` for `log 127.0.0.1 local2`).
public struct SyslogMessage: Sendable, Equatable {
    public var facility: SyslogFacility
    public var level: LogLevel
    public var timestamp: LogTimestamp
    public var tag: String
    public var pid: Int
    public var hostname: String?
    public var message: String

    public init(
        facility: SyslogFacility,
        level: LogLevel,
        timestamp: LogTimestamp,
        tag: String = "haproxy",
        pid: Int,
        hostname: String? = nil,
        message: String
    ) {
        self.facility = facility
        self.level = level
        self.timestamp = timestamp
        self.tag = tag
        self.pid = pid
        self.hostname = hostname
        self.message = message
    }

    /// PRI = facility × 8 + severity (RFC 3164 §4.1.1).
    public var priority: Int { facility.rawValue * 8 + level.rawValue }

    /// The datagram, cut to `maxLength` bytes (HAProxy's default `len` is 1024) and ended with a newline.
    public func bytes(maxLength: Int = 1024) -> [UInt8] {
        var header = "<"
        header += String(priority)
        header += ">"
        timestamp.appendSyslogFormat(to: &header)
        header += " "
        if let hostname {
            header += hostname
            header += " "
        }
        header += tag
        header += "["
        header += String(pid)
        header += "]: "
        var bytes: [UInt8] = []
        bytes.reserveCapacity(header.utf8.count + message.utf8.count + 1)
        bytes.append(contentsOf: header.utf8)
        bytes.append(contentsOf: message.utf8)
        let limit = max(header.utf8.count + 1, maxLength)
        if bytes.count > limit - 1 { bytes.removeLast(bytes.count - (limit - 1)) }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
