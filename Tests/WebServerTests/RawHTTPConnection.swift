#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A blocking HTTP/1 client on a plain TCP socket, so tests control every byte sent and see every byte received.
/// Every read is bounded by a receive timeout.
final class RawHTTPConnection {
    struct Response {
        var statusLine: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        var status: Int { Int(statusLine.split(separator: " ")[1]) ?? 0 }
        var bodyText: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: CInt
    private var buffer: [UInt8] = []
    private(set) var sawEndOfStream = false

    init(port: Int, timeoutSeconds: Int = 5) throws {
        descriptor = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit {
        close(descriptor)
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// `GET`-style request with a Host header and optional extra header lines.
    func request(_ method: String, _ target: String, headers: [String] = [], version: String = "HTTP/1.1") throws {
        var text = "\(method) \(target) \(version)\r\nHost: test\r\nUser-Agent: portico-tests\r\n"
        for line in headers { text += line + "\r\n" }
        try send(text + "\r\n")
    }

    /// Reads one response; `bodyExpected: false` for HEAD and 304 responses, whose Content-Length has no body.
    func readResponse(bodyExpected: Bool = true) throws -> Response {
        let terminator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = buffer.firstRange(of: terminator)?.upperBound
            if headerEnd == nil { try fill() }
        }
        guard let headerEnd else { throw Failure(description: "no header end") }
        let headText = String(decoding: buffer[..<(headerEnd - 4)], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let headers = lines.map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            let value = line[colon...].dropFirst().drop { $0 == " " }
            return (String(line[..<colon]), String(value))
        }
        buffer.removeFirst(headerEnd)
        var response = Response(statusLine: statusLine, headers: headers, body: [])
        if bodyExpected, let length = response.header("Content-Length").flatMap({ Int($0) }) {
            while buffer.count < length { try fill() }
            response.body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// True when the server closes the connection (EOF) before the timeout; false if it stays open.
    func isClosedByServer() -> Bool {
        while !sawEndOfStream {
            do { try fill() } catch { return sawEndOfStream }
        }
        return true
    }

    private func fill() throws {
        guard !sawEndOfStream else { throw Failure(description: "connection closed by server") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        // A reset after the response (the server closed with request bytes unread) is a close too.
        if count == 0 || (count < 0 && errno == ECONNRESET) {
            sawEndOfStream = true
            throw Failure(description: "connection closed by server")
        }
        guard count > 0 else { throw Failure(description: "recv: errno \(errno) (timeout?)") }
        buffer += chunk[..<count]
    }
}
