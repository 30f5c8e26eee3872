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
        var datagram = LogBytes(capacity: 64 + message.utf8.count)
        Self.frame(
            into: &datagram, facility: facility, level: level, timestamp: timestamp, tag: tag, pid: pid,
            hostname: hostname, maxLength: maxLength
        ) { $0.append(message) }
        return datagram.bytes
    }

    /// Writes a datagram into `datagram` (emptied first): the RFC 3164 header, the message `body` appends,
    /// cut to `maxLength` bytes with the final newline. The per-request log path uses it directly, with the
    /// httplog line written straight behind the header.
    public static func frame(
        into datagram: inout LogBytes, facility: SyslogFacility, level: LogLevel, timestamp: LogTimestamp,
        tag: String = "haproxy", pid: Int, hostname: String? = nil, maxLength: Int = 1024,
        body: (inout LogBytes) -> Void
    ) {
        datagram.removeAll()
        datagram.append(byte: UInt8(ascii: "<"))
        datagram.append(facility.rawValue * 8 + level.rawValue)
        datagram.append(byte: UInt8(ascii: ">"))
        timestamp.writeSyslogFormat(to: &datagram)
        datagram.append(byte: UInt8(ascii: " "))
        if let hostname {
            datagram.append(hostname)
            datagram.append(byte: UInt8(ascii: " "))
        }
        datagram.append(tag)
        datagram.append(byte: UInt8(ascii: "["))
        datagram.append(pid)
        datagram.append("]: " as StaticString)
        let headerLength = datagram.bytes.count
        body(&datagram)
        let limit = max(headerLength + 1, maxLength)
        datagram.truncate(to: limit - 1)
        datagram.append(byte: UInt8(ascii: "\n"))
    }
}
