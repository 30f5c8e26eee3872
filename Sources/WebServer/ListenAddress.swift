/// One `--listen` value, as nginx's `listen` directive reads it: `ADDR:PORT`, `[IPV6]:PORT`, `*:PORT` or a bare `PORT`.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// Numeric IPv4 or IPv6 address; `0.0.0.0` for every address.
    public var host: String
    /// 0 asks the kernel for an ephemeral port.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:8080`, `[::1]:8080`, `*:80`, `:80` or `80`.
    public init(parsing text: String) throws(ListenAddressError) {
        var host = "0.0.0.0"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .malformed(text) }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .malformed(text) }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon else {
                // A bare IPv6 address is ambiguous about where the port starts, as in nginx.
                throw .malformed(text)
            }
            let hostText = text[..<colon]
            if !hostText.isEmpty && hostText != "*" { host = String(hostText) }
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            throw .malformed(text)
        }
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

public enum ListenAddressError: Error, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let text):
            return "invalid listen address \"\(text)\": expected ADDR:PORT, [IPV6]:PORT or PORT (port 0-65535)"
        }
    }
}
