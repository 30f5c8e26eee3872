import Foundation

/// The text formats `portico check --live` reads from the running node, parsed without I/O.
public enum LiveParsing {
    /// Sockets in LISTEN state (`st` 0A) from `/proc/net/tcp` (`ipv6: false`) or `/proc/net/tcp6`.
    /// Addresses there are hexadecimal 32-bit words in the kernel's byte order (little-endian on x86 and arm64).
    public static func listeners(procNetTCP text: String, ipv6: Bool) -> [ListeningSocket] {
        var result: [ListeningSocket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count > 3, fields[3] == "0A" else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16) else { continue }
            let hex = String(local[0])
            guard let bytes = addressBytes(hex), bytes.count == (ipv6 ? 16 : 4) else { continue }
            let inode = fields.count > 9 ? UInt64(fields[9]) : nil
            result.append(ListeningSocket(address: addressText(bytes), port: port, isIPv6: ipv6, inode: inode))
        }
        return result
    }

    /// The hex words of /proc/net/tcp to network-order bytes: each 4-byte word is stored in host order.
    static func addressBytes(_ hex: String) -> [UInt8]? {
        guard hex.count % 8 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let end = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<end], radix: 16) else { return nil }
            // The kernel printed the address's memory as a host integer: its native bytes are the memory order.
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
            index = end
        }
        return bytes
    }

    static func addressText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let words = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        if words.allSatisfy({ $0 == 0 }) { return "::" }
        // IPv4-mapped (::ffff:a.b.c.d) as ip(8) prints it.
        if words[0..<5].allSatisfy({ $0 == 0 }) && words[5] == 0xffff {
            return "::ffff:" + bytes[12..<16].map(String.init).joined(separator: ".")
        }
        return words.map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// Servers from HAProxy's CSV statistics (`;csv` on the stats page, `show stat` on the runtime API); the columns
    /// are found by the header's names, so any HAProxy version's layout works. FRONTEND/BACKEND rows are skipped.
    public static func servers(statsCSV text: String) -> [ServerView]? {
        var columns: [String: Int]?
        var servers: [ServerView] = []
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = String(rawLine)
            if line.hasPrefix("#") {
                let names = fields(String(line.dropFirst()).trimmingCharacters(in: .whitespaces))
                columns = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                continue
            }
            guard let columns, let proxy = columns["pxname"], let server = columns["svname"],
                let status = columns["status"]
            else { continue }
            let values = fields(line)
            guard values.count > max(proxy, server, status) else { continue }
            func value(_ name: String) -> String? {
                guard let index = columns[name], index < values.count, !values[index].isEmpty else { return nil }
                return values[index]
            }
            let name = values[server]
            if name == "FRONTEND" || name == "BACKEND" { continue }
            servers.append(
                ServerView(
                    backend: values[proxy], server: name, status: values[status],
                    checkStatus: value("check_status").map { $0.hasPrefix("* ") ? String($0.dropFirst(2)) : $0 },
                    checkCode: value("check_code"), lastCheck: value("last_chk"), isBackup: value("bck") == "1"))
        }
        return columns == nil ? nil : servers
    }

    /// One CSV line; a field holding a comma is quoted, inner quotes doubled.
    static func fields(_ line: String) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var previousWasQuote = false
        for character in line {
            if quoted {
                if character == "\"" {
                    quoted = false
                    previousWasQuote = true
                    continue
                }
                current.append(character)
            } else if character == "\"" {
                if previousWasQuote { current.append("\"") }
                quoted = true
            } else if character == "," {
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
            previousWasQuote = false
        }
        result.append(current)
        return result
    }

    /// A whole HTTP/1.x response as read until the server closed: its status and body (chunked bodies decoded).
    public static func httpResponse(_ bytes: [UInt8]) -> (status: Int, body: String)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.firstRange(of: separator) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusFields = lines.first?.split(separator: " ") ?? []
        guard statusFields.count >= 2, statusFields[0].hasPrefix("HTTP/"), let status = Int(statusFields[1]) else {
            return nil
        }
        let chunked = lines.dropFirst().contains {
            $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked")
        }
        var body = Array(bytes[end.upperBound...])
        if chunked { body = dechunk(body) ?? body }
        return (status, String(decoding: body, as: UTF8.self))
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        var index = 0
        let lineEnd: [UInt8] = [13, 10]
        while index < bytes.count {
            guard let range = bytes[index...].firstRange(of: lineEnd) else { return nil }
            let sizeText =
                String(decoding: bytes[index..<range.lowerBound], as: UTF8.self)
                .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16) else { return nil }
            if size == 0 { return output }
            let start = range.upperBound
            guard start + size <= bytes.count else { return nil }
            output += bytes[start..<start + size]
            index = start + size + 2
        }
        return output
    }
}
