import Testing

@testable import BalancerCore

@Suite("Log lines built as bytes")
struct LogBytesTests {
    @Test(
        "integers print as String(value) does, zero-padded to the width",
        arguments: [
            (0, 0, "0"), (7, 2, "07"), (12, 2, "12"), (5, 3, "005"), (1234, 3, "1234"), (-1, 0, "-1"),
            (-5, 2, "-5"), (-5, 3, "-05"), (Int.max, 0, String(Int.max)), (Int.min, 0, String(Int.min)),
            // Widths beyond 23 digits are capped; a negative width is none.
            (3, 23, String(repeating: "0", count: 22) + "3"), (7, Int.max, String(repeating: "0", count: 22) + "7"),
            (-5, Int.min, "-5"),
        ])
    func integers(value: Int, width: Int, expected: String) {
        var line = LogBytes()
        line.append(value, width: width)
        #expect(line.text == expected)
    }

    @Test("a framed datagram is the header, the body and one newline, cut to the maximum length")
    func frame() {
        var datagram = LogBytes()
        let timestamp = LogTimestamp(year: 2026, month: 2, day: 6, hour: 12, minute: 4, second: 9)
        SyslogMessage.frame(
            into: &datagram, facility: .local2, level: .info, timestamp: timestamp, pid: 42, maxLength: 1024
        ) { $0.append("hello") }
        #expect(datagram.text == "<150>Feb  6 12:04:09 haproxy[42]: hello\n")
        SyslogMessage.frame(
            into: &datagram, facility: .local2, level: .info, timestamp: timestamp, pid: 42, maxLength: 36
        ) { $0.append("hello") }
        #expect(datagram.text == "<150>Feb  6 12:04:09 haproxy[42]: h\n")
    }
}
