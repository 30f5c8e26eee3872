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
    /// Written back to front into a stack buffer and appended in one piece: a log line has about fifteen
    /// numbers, and appending digit by digit paid the array's capacity check for every byte.
    public mutating func append(_ value: Int, width: Int = 0) {
        // 20 digits hold any Int64 magnitude; `width` beyond that is capped (no log field is that wide).
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var magnitude = value.magnitude
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            let signWidth = value < 0 ? 1 : 0
            let firstDigit = max(0, buffer.count - min(max(0, width) - signWidth, buffer.count - 1))
            while start > firstDigit {
                start -= 1
                buffer[start] = UInt8(ascii: "0")
            }
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            self.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    public var text: String { String(decoding: self.bytes, as: UTF8.self) }
}
