/// A calendar date and time for log lines, computed from a Unix time without reading any clock or
/// time zone database: the I/O layer passes the time and the local UTC offset.
public struct LogTimestamp: Sendable, Equatable {
    public var year: Int
    /// 1...12
    public var month: Int
    /// 1...31
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var millisecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    /// - Parameters:
    ///   - unixMilliseconds: milliseconds since 1970-01-01T00:00:00Z.
    ///   - utcOffsetSeconds: the local offset (HAProxy logs local time), 0 for UTC.
    public init(unixMilliseconds: Int64, utcOffsetSeconds: Int = 0) {
        let local = unixMilliseconds + Int64(utcOffsetSeconds) * 1000
        let (days, dayMilliseconds) = Self.floorDivide(local, 86_400_000)
        // Days to civil date (H. Hinnant's algorithm, proleptic Gregorian calendar).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.init(
            year: Int(year),
            month: Int(month),
            day: Int(day),
            hour: Int(dayMilliseconds / 3_600_000),
            minute: Int(dayMilliseconds / 60_000 % 60),
            second: Int(dayMilliseconds / 1000 % 60),
            millisecond: Int(dayMilliseconds % 1000)
        )
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    var monthName: String { Self.monthNames[min(11, max(0, month - 1))] }

    /// `06/Feb/2009:12:14:14.655`, the httplog accept date.
    public var httpLogFormat: String {
        var text = LogBytes(capacity: 24)
        self.writeHTTPLogFormat(to: &text)
        return text.text
    }

    /// Appends `httpLogFormat` to `line` (once per logged request).
    func writeHTTPLogFormat(to line: inout LogBytes) {
        line.append(day, width: 2)
        line.append(byte: UInt8(ascii: "/"))
        line.append(monthName)
        line.append(byte: UInt8(ascii: "/"))
        line.append(year)
        line.append(byte: UInt8(ascii: ":"))
        self.writeTimeOfDay(to: &line)
        line.append(byte: UInt8(ascii: "."))
        line.append(millisecond, width: 3)
    }

    /// `Feb  6 12:14:14`, the RFC 3164 TIMESTAMP (day padded with a space).
    public var syslogFormat: String {
        var text = LogBytes(capacity: 16)
        self.writeSyslogFormat(to: &text)
        return text.text
    }

    /// Appends `syslogFormat` to `line`.
    func writeSyslogFormat(to line: inout LogBytes) {
        line.append(monthName)
        line.append(day < 10 ? "  " as StaticString : " " as StaticString)
        line.append(day)
        line.append(byte: UInt8(ascii: " "))
        self.writeTimeOfDay(to: &line)
    }

    /// `12:14:14`
    private func writeTimeOfDay(to line: inout LogBytes) {
        line.append(hour, width: 2)
        line.append(byte: UInt8(ascii: ":"))
        line.append(minute, width: 2)
        line.append(byte: UInt8(ascii: ":"))
        line.append(second, width: 2)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
