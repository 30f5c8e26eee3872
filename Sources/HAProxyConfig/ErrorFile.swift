/// `errorfile <code> <file>`: a complete HTTP response (status line, header fields, an empty line, the body)
/// that replaces Portico's built-in page for `code`, as in HAProxy (Debian's stock haproxy.cfg points every code
/// at /etc/haproxy/errors/*.http). The parser records the path; `BalancerConfig.load` reads and checks the file,
/// as HAProxy does at start-up, so `-c` reports a missing or malformed file with its line.
public struct ErrorFile: Sendable, Equatable {
    /// The status code the file replaces.
    public var code: Int
    public var path: String
    public var location: SourceLocation
    /// The file's bytes, once `BalancerConfig.load` has read them; nil from `parse` alone (which reads no file),
    /// in which case the built-in page is sent.
    public var response: [UInt8]?
    /// The status code of the file's own status line (a maintenance page may answer 200 for a 503): what the
    /// log and the status counters see.
    public var responseStatus = 0
    /// Bytes up to and including the empty line that ends the head: all a HEAD request gets.
    public var headLength = 0

    /// The codes HAProxy 2.6 lets `errorfile` replace.
    public static let replaceableCodes: Set<Int> = [
        200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
    ]

    public init(code: Int, path: String, location: SourceLocation) {
        self.code = code
        self.path = path
        self.location = location
    }

    /// Takes the file's bytes if they are an HTTP/1 response head (and body) no larger than `limit`
    /// (`tune.bufsize`, the buffer HAProxy keeps it in); otherwise returns what is wrong, for an alert.
    public mutating func take(_ bytes: [UInt8], limit: Int) -> String? {
        guard bytes.count <= limit else {
            return "'errorfile' : '\(self.path)' is \(bytes.count) bytes, larger than tune.bufsize (\(limit))."
        }
        guard let (status, headLength) = Self.responseHead(bytes) else {
            return "'errorfile' : '\(self.path)': not an HTTP response (it must start with a status line such as "
                + "'HTTP/1.0 503 Service Unavailable' and end its header fields with an empty line)."
        }
        self.response = bytes
        self.responseStatus = status
        self.headLength = headLength
        return nil
    }

    /// The status code and the head's length (empty line included, CRLF or bare LF) of `bytes`, if it starts
    /// with `HTTP/1.0 NNN` or `HTTP/1.1 NNN`.
    static func responseHead(_ bytes: [UInt8]) -> (status: Int, headLength: Int)? {
        let prefix = Array("HTTP/1.".utf8)
        guard bytes.count >= 12, Array(bytes[0..<7]) == prefix,
            bytes[7] == UInt8(ascii: "0") || bytes[7] == UInt8(ascii: "1"), bytes[8] == UInt8(ascii: " ")
        else { return nil }
        let digits = bytes[9..<12]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            bytes.count == 12 || bytes[12] == UInt8(ascii: " ") || bytes[12] == UInt8(ascii: "\r")
                || bytes[12] == UInt8(ascii: "\n")
        else { return nil }
        let status = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (100...599).contains(status) else { return nil }
        var index = 12
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                let next = index + 1
                if next < bytes.count, bytes[next] == UInt8(ascii: "\n") { return (status, next + 1) }
                if next + 1 < bytes.count, bytes[next] == UInt8(ascii: "\r"), bytes[next + 1] == UInt8(ascii: "\n") {
                    return (status, next + 2)
                }
            }
            index += 1
        }
        return nil
    }
}
