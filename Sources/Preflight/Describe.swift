import HAProxyConfig
import KeepalivedConfig

/// Short texts for values in messages and in the go-live record, in the configuration files' own notation.
enum Describe {
    /// `2s`, `500ms`, `1m30s` as HAProxy writes durations; `none` for an unset timeout.
    static func duration(_ value: Duration?) -> String {
        guard let value else { return "none" }
        let milliseconds = value.components.seconds * 1000 + value.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        let seconds = milliseconds / 1000
        // `60s` reads as written in most files; whole minutes and hours only from two of them on.
        if seconds >= 7200, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds >= 120, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// `GET /health HTTP/1.0, expect status 200`, or `TCP connect` when the backend has no `option httpchk`.
    static func healthCheck(_ check: HTTPCheck?) -> String {
        guard let check else { return "TCP connect" }
        var text = "\(check.method) \(check.uri) \(check.version)"
        for header in check.headers { text += ", header \(header.name): \(header.value)" }
        if let expect = check.expect {
            text += ", expect " + expectation(expect)
        } else {
            text += ", expect 2xx/3xx"
        }
        return text
    }

    static func expectation(_ expect: HTTPCheckExpectation) -> String {
        let negation = expect.negated ? "! " : ""
        switch expect.match {
        case .status(let ranges):
            let codes = ranges.map {
                $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
            }
            return negation + "status " + codes.joined(separator: ",")
        case .statusRegex(let pattern):
            return negation + "rstatus \(pattern)"
        case .bodyContains(let text):
            return negation + "string \(text)"
        }
    }

    static func forwardFor(_ value: ForwardFor?) -> String {
        guard let value else { return "off" }
        var text = "header \(value.header)"
        if let except = value.except { text += " except \(except)" }
        if value.ifNone { text += " if-none" }
        return text
    }

    /// `unset` and `off` differ for Portico's balancer (its zero-loss default against HAProxy's plain retries).
    static func redispatch(_ value: Redispatch) -> String {
        switch value {
        case .unset: return "unset"
        case .off, .on(interval: 0): return "off"
        case .on(interval: -1): return "on"
        case .on(let interval): return "every \(interval)"
        }
    }

    static func logTarget(_ target: LogTarget) -> String {
        let destination: String
        switch target.destination {
        case .udp(let host, let port): destination = "\(host):\(port)"
        case .unixSocket(let path): destination = path
        case .stdout: destination = "stdout"
        case .stderr: destination = "stderr"
        }
        return "\(destination) \(target.facility.name)" + (target.level.map { " \($0.name)" } ?? "")
    }

    static func bind(_ bind: Bind) -> String {
        switch bind.address.host {
        case .anyIPv4: return "*:\(bind.address.port)"
        case .anyIPv6: return "[::]:\(bind.address.port)"
        default: return bind.address.description
        }
    }

    static func vip(_ vip: VirtualIPAddress) -> String { "\(vip.address)/\(vip.prefixLength)" }

    static func location(_ location: ConfigLocation) -> FileLine { FileLine(file: location.file, line: location.line) }

    static func location(_ location: SourceLocation) -> FileLine { FileLine(file: location.file, line: location.line) }

    /// The network `address/prefix` lies in: `192.168.10.0/24`.
    static func network(_ address: IPv4Address, prefixLength: Int) -> String {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        return "\(IPv4Address(address.value & mask))/\(prefixLength)"
    }

    static func inSubnet(_ address: IPv4Address, of other: IPv4Address, prefixLength: Int) -> Bool {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        return address.value & mask == other.value & mask
    }
}
