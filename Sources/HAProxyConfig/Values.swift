import ConfigSuggestion
/// Parsers for the value syntaxes of haproxy.cfg. They return nil or a small reason; the keyword parsers turn that
/// into a diagnostic naming the keyword.
enum Values {
    enum TimeError: Error, Equatable {
        case empty
        case unexpectedCharacter(Character)
        /// HAProxy timers are 32-bit milliseconds: at most 2147483647 ms (~24.8 days).
        case overflow
    }

    static let maxTimerMilliseconds: Int64 = 2_147_483_647

    /// `10`, `10ms`, `2s`, `1m`, `1h`, `1d`, `500us`: a bare number is milliseconds, as in HAProxy.
    static func time(_ text: String) -> Result<Duration, TimeError> {
        guard let first = text.first else { return .failure(.empty) }
        guard first.isASCII, first.isNumber else { return .failure(.unexpectedCharacter(first)) }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        guard let value = Int64(digits) else { return .failure(.overflow) }
        let microsecondsPerUnit: Int64
        switch unit {
        case "us": microsecondsPerUnit = 1
        case "", "ms": microsecondsPerUnit = 1_000
        case "s": microsecondsPerUnit = 1_000_000
        case "m": microsecondsPerUnit = 60_000_000
        case "h": microsecondsPerUnit = 3_600_000_000
        case "d": microsecondsPerUnit = 86_400_000_000
        default:
            // Report the first character that is not part of a known unit, as HAProxy does.
            let matched = ["us", "ms", "s", "m", "h", "d"].filter { unit.hasPrefix($0) }.map(\.count).max() ?? 0
            let offending = unit.dropFirst(matched).first
            return .failure(.unexpectedCharacter(offending ?? " "))
        }
        let (microseconds, overflow) = value.multipliedReportingOverflow(by: microsecondsPerUnit)
        if overflow || microseconds / 1_000 > maxTimerMilliseconds { return .failure(.overflow) }
        return .success(.microseconds(microseconds))
    }

    /// A non-negative decimal integer (no sign, no unit).
    static func integer(_ text: String) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// A decimal integer that may be negative (`option redispatch -1`).
    static func signedInteger(_ text: String) -> Int? {
        if text.hasPrefix("-") { return integer(String(text.dropFirst())).map { -$0 } }
        return integer(text)
    }

    /// A size with an optional `k`, `m` or `g` suffix (powers of 1024), as in `tune.bufsize 16k`.
    static func size(_ text: String) -> Int? {
        let lower = text.lowercased()
        let multipliers: [Character: Int] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024]
        if let last = lower.last, let multiplier = multipliers[last] {
            return integer(String(lower.dropLast())).flatMap { $0.multipliedReportingOverflow(by: multiplier) }
                .flatMap { $0.overflow ? nil : $0.partialValue }
        }
        return integer(lower)
    }

    // MARK: - Addresses

    /// Strict dotted-quad IPv4 → 4 bytes.
    static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// IPv6 text (RFC 4291 §2.2, with `::` and an optional dotted-quad tail) → 16 bytes.
    static func ipv6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        var halves = [String(text)]
        if let range = text.firstRange(of: "::") {
            let after = text[range.upperBound...]
            guard !after.contains("::") else { return nil }
            halves = [String(text[..<range.lowerBound]), String(after)]
        }

        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if allowIPv4Tail, index == fields.count - 1, field.contains(".") {
                    guard let tail = ipv4(field) else { return nil }
                    bytes += tail
                    continue
                }
                guard (1...4).contains(field.count), let value = UInt16(field, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
            return bytes
        }

        if halves.count == 1 {
            guard let bytes = groups(halves[0], allowIPv4Tail: true), bytes.count == 16 else { return nil }
            return bytes
        }
        guard let head = groups(halves[0], allowIPv4Tail: false),
            let tail = groups(halves[1], allowIPv4Tail: true), head.count + tail.count <= 14
        else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// A DNS name (RFC 1123 labels); an all-numeric last label is refused so that `1.2.3` or `1.2.3.4.5` are
    /// reported as invalid addresses rather than taken for names.
    static func isHostName(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count), label.first != "-", label.last != "-",
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { return false }
        }
        if let last = labels.last, last.allSatisfy({ $0.isNumber }) { return false }
        return true
    }

    enum AddressError: Error, Equatable {
        case invalidAddress(String)
        case missingPort
        case invalidPort(String)
        /// A real HAProxy address family (`unix@`, `abns@`, `fd@`, a socket path...) Portico does not do yet.
        case unsupportedFamily(String)
    }

    /// `[family@]HOST:PORT` as written in `bind` and `server` lines.
    /// An empty host or `*` means every IPv4 address (only meaningful for `bind`).
    static func hostAndPort(_ text: String) -> Result<(Host, Int), AddressError> {
        var rest = Substring(text)
        var family: String? = nil
        if let at = rest.firstIndex(of: "@") {
            family = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard family == "ipv4" || family == "ipv6" else {
                return .failure(.unsupportedFamily("\(family ?? "")@"))
            }
        }
        if rest.hasPrefix("/") { return .failure(.unsupportedFamily("UNIX socket")) }

        let hostText: Substring
        let portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(.invalidAddress(String(rest))) }
            hostText = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.isEmpty {
                portText = nil
            } else if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else {
                return .failure(.invalidAddress(String(rest)))
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostText = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            hostText = rest
            portText = nil
        }

        let host: Host
        if hostText.isEmpty || hostText == "*" {
            host = family == "ipv6" ? .anyIPv6 : .anyIPv4
        } else if let bytes = ipv4(hostText), family != "ipv6" {
            host = bytes == [0, 0, 0, 0] ? .anyIPv4 : .ipv4(String(hostText))
        } else if let bytes = ipv6(hostText), family != "ipv4" {
            host = bytes.allSatisfy({ $0 == 0 }) ? .anyIPv6 : .ipv6(String(hostText))
        } else if family == nil, isHostName(hostText) {
            host = .name(String(hostText))
        } else {
            return .failure(.invalidAddress(String(hostText)))
        }

        guard let portText, !portText.isEmpty else { return .failure(.missingPort) }
        guard let port = integer(String(portText)), (1...65535).contains(port) else {
            return .failure(.invalidPort(String(portText)))
        }
        return .success((host, port))
    }

    /// `ADDR` or `ADDR/PREFIX` for IPv4 or IPv6; an IPv4 netmask (`/255.255.255.0`) is accepted too.
    static func network(_ text: String) -> IPNetwork? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = parts[0]
        let bytes: [UInt8]
        if let v4 = ipv4(addressText) {
            bytes = v4
        } else if let v6 = ipv6(addressText) {
            bytes = v6
        } else {
            return nil
        }
        let maxPrefix = bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            if let value = integer(String(parts[1])), value <= maxPrefix {
                prefix = value
            } else if bytes.count == 4, let mask = ipv4(parts[1]) {
                let bits = mask.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let ones = bits.nonzeroBitCount
                guard bits == (ones == 0 ? 0 : UInt32.max << (32 - ones)) else { return nil }
                prefix = ones
            } else {
                return nil
            }
        }
        var masked = bytes
        for index in 0..<masked.count {
            let bitsHere = max(0, min(8, prefix - index * 8))
            masked[index] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bitsHere))
        }
        return IPNetwork(address: masked, prefixLength: prefix)
    }

    /// HAProxy proxy names: letters, digits, `-`, `_`, `.`, `:`. Returns the first invalid character.
    static func invalidNameCharacter(_ name: String) -> Character? {
        name.first { !($0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0))) }
    }
}

/// HAProxy's "did you mean" rule: about one edit per three letters, at least one, at most three.
enum Suggestion {
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        ConfigSuggestion.Suggestion.closest(to: word, in: candidates, maxDistance: max(1, min(3, word.count / 3)))
    }
}
