/// A log line built as UTF-8 bytes, the form the syslog datagram needs: one request's httplog line and
/// its syslog header are appended into one reusable array without intermediate strings (this runs for
/// every logged request).
public struct LogBytes {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Empties the line, keeping its storage for the next one.
    public mutating func removeAll() {
        self.bytes.removeAll(keepingCapacity: true)
    }

    /// Cuts the line to at most `count` bytes.
    public mutating func truncate(to count: Int) {
        if self.bytes.count > count { self.bytes.removeLast(self.bytes.count - count) }
    }

    public mutating func append(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    public mutating func append(byte: UInt8) {
        self.bytes.append(byte)
    }

    public mutating func append(_ bytes: [UInt8]) {
        self.bytes.append(contentsOf: bytes)
    }

    /// Decimal, with leading zeros up to `width` digits (as `%02d`; a negative value gets its sign first).
    public mutating func append(_ value: Int, width: Int = 0) {
        var magnitude = value.magnitude
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for _ in count..<max(count, width - (value < 0 ? 1 : 0)) { self.bytes.append(UInt8(ascii: "0")) }
            for index in stride(from: count - 1, through: 0, by: -1) { self.bytes.append(buffer[index]) }
        }
    }

    public var text: String { String(decoding: self.bytes, as: UTF8.self) }
}
