import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a request failed, in the words an operator uses when a client complains.
public enum FailureKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// The connection was refused: nothing listens on the address (e.g. the VIP holder's balancer is stopped).
    case refused
    /// No complete answer within the timeout (e.g. the packets go to a node that is gone).
    case timeout
    /// The connection was reset after it was set up.
    case reset
    /// The server closed the connection without answering.
    case closed
    /// The network said the host is unreachable (no ARP answer).
    case unreachable
    /// An answer came, with a status other than 200.
    case http
    /// Anything else (socket errors the lab does not expect).
    case other

    public static func < (lhs: FailureKind, rhs: FailureKind) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// What one HTTP request got.
public struct HTTPOutcome: Sendable, Equatable {
    public var status: Int?
    public var body: String
    public var failure: FailureKind?
    public var detail: String?
    /// Seconds from the connect to the end of the answer (or the failure).
    public var latency: Double
}

/// Many HTTP/1.1 requests in flight at once on non-blocking sockets, driven by `poll` from one thread.
/// Each request gets a new connection (`Connection: close`), as the seed's `curl` does. Sockets are
/// created in the network namespace of the calling thread: callers enter a lab namespace first.
final class HTTPExchanges {
    private enum Phase {
        /// Waiting for the non-blocking connect to finish.
        case connecting
        /// Writing the request; the value is how many bytes went out.
        case sending(Int)
        /// Reading until the answer is complete or the server closes.
        case receiving
    }

    private struct Exchange {
        var id: Int
        var fd: Int32
        var request: [UInt8]
        var received: [UInt8]
        var started: Double
        var deadline: Double
        var phase: Phase
    }

    private var exchanges: [Int32: Exchange] = [:]
    private var finished: [(Int, HTTPOutcome)] = []

    var inFlight: Int { exchanges.count }

    /// Builds a GET request; `credentials` become a Basic Authorization header.
    static func getRequest(host: String, path: String, credentials: (String, String)? = nil) -> [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: portico-lab\r\nConnection: close\r\n"
        if let (user, password) = credentials {
            text += "Authorization: Basic \(Data("\(user):\(password)".utf8).base64EncodedString())\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Starts a request; its outcome comes out of a later `step`.
    func begin(id: Int, address: String, port: UInt16, request: [UInt8], timeout: Double) {
        let started = Monotonic.now()
        let fd = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            finished.append((id, Self.failure(.other, "socket: \(Self.describe(errno))", started: started)))
            return
        }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else {
            close(fd)
            finished.append((id, Self.failure(.other, "bad address \(address)", started: started)))
            return
        }
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result < 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            finished.append((id, Self.failure(Self.kind(of: code), Self.describe(code), started: started)))
            return
        }
        exchanges[fd] = Exchange(
            id: id, fd: fd, request: request, received: [], started: started,
            deadline: started + timeout, phase: result == 0 ? .sending(0) : .connecting
        )
    }

    /// Waits at most `maxWait` seconds for progress; returns the requests that finished.
    func step(maxWait: Double) -> [(Int, HTTPOutcome)] {
        let now = Monotonic.now()
        for (fd, exchange) in exchanges where exchange.deadline <= now {
            complete(fd, Self.failure(.timeout, "no answer within the timeout", started: exchange.started))
        }
        if !finished.isEmpty || exchanges.isEmpty {
            if exchanges.isEmpty && finished.isEmpty && maxWait > 0 { Monotonic.sleep(maxWait) }
            return drain()
        }
        let earliest = exchanges.values.map(\.deadline).min() ?? now + maxWait
        let wait = max(0, min(maxWait, earliest - now))
        var fds = exchanges.values.map { exchange -> pollfd in
            let events: Int32
            switch exchange.phase {
            case .connecting, .sending: events = Int32(POLLOUT)
            case .receiving: events = Int32(POLLIN)
            }
            return pollfd(fd: exchange.fd, events: Int16(events), revents: 0)
        }
        let ready = poll(&fds, nfds_t(fds.count), Int32((wait * 1000).rounded(.up)))
        if ready > 0 {
            for entry in fds where entry.revents != 0 {
                advance(entry.fd, revents: Int32(entry.revents))
            }
        }
        return drain()
    }

    /// Closes every open request (used when the caller stops early).
    func cancelAll() -> [(Int, HTTPOutcome)] {
        for (fd, exchange) in exchanges {
            complete(fd, Self.failure(.timeout, "cancelled", started: exchange.started))
        }
        return drain()
    }

    private func drain() -> [(Int, HTTPOutcome)] {
        defer { finished.removeAll() }
        return finished
    }

    private func advance(_ fd: Int32, revents: Int32) {
        guard var exchange = exchanges[fd] else { return }
        switch exchange.phase {
        case .connecting:
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code != 0 {
                complete(fd, Self.failure(Self.kind(of: code), Self.describe(code), started: exchange.started))
                return
            }
            exchange.phase = .sending(0)
            exchanges[fd] = exchange
            advance(fd, revents: revents)
        case .sending(let offset):
            let count = exchange.request[offset...].withUnsafeBytes {
                send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                let code = errno
                complete(fd, Self.failure(Self.kind(of: code), Self.describe(code), started: exchange.started))
                return
            }
            exchange.phase = offset + count >= exchange.request.count ? .receiving : .sending(offset + count)
            exchanges[fd] = exchange
        case .receiving:
            var buffer = [UInt8](repeating: 0, count: 16384)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                let code = errno
                complete(fd, Self.failure(Self.kind(of: code), Self.describe(code), started: exchange.started))
                return
            }
            if count > 0 {
                exchange.received.append(contentsOf: buffer[0..<count])
                exchanges[fd] = exchange
            }
            let parsed = HTTPResponseParser.parse(exchange.received, closed: count == 0)
            switch parsed {
            case .incomplete:
                if count == 0 {
                    let kind: FailureKind = exchange.received.isEmpty ? .closed : .reset
                    complete(
                        fd, Self.failure(kind, "connection closed before a complete answer", started: exchange.started))
                }
            case .complete(let status, let body):
                let latency = Monotonic.now() - exchange.started
                let text = String(decoding: body, as: UTF8.self)
                let outcome = HTTPOutcome(
                    status: status, body: text, failure: status == 200 ? nil : .http,
                    detail: status == 200 ? nil : "HTTP \(status)", latency: latency
                )
                complete(fd, outcome)
            case .malformed(let why):
                complete(fd, Self.failure(.other, why, started: exchange.started))
            }
        }
    }

    private func complete(_ fd: Int32, _ outcome: HTTPOutcome) {
        guard let exchange = exchanges.removeValue(forKey: fd) else { return }
        close(fd)
        finished.append((exchange.id, outcome))
    }

    private static func failure(_ kind: FailureKind, _ detail: String, started: Double) -> HTTPOutcome {
        HTTPOutcome(status: nil, body: "", failure: kind, detail: detail, latency: Monotonic.now() - started)
    }

    static func kind(of code: Int32) -> FailureKind {
        switch code {
        case ECONNREFUSED: return .refused
        case ECONNRESET, EPIPE, ECONNABORTED: return .reset
        case ETIMEDOUT: return .timeout
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN: return .unreachable
        default: return .other
        }
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Decides when an HTTP/1.1 answer is complete and extracts its status and body.
enum HTTPResponseParser {
    enum Result: Equatable {
        case incomplete
        case complete(status: Int, body: [UInt8])
        case malformed(String)
    }

    static func parse(_ bytes: [UInt8], closed: Bool) -> Result {
        guard let headerEnd = find([13, 10, 13, 10], in: bytes) else { return .incomplete }
        let head = String(decoding: bytes[0..<headerEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusFields = lines.first?.split(separator: " ") ?? []
        guard statusFields.count >= 2, statusFields[0].hasPrefix("HTTP/"), let status = Int(statusFields[1]) else {
            return .malformed("not an HTTP status line: \(lines.first ?? "")")
        }
        var contentLength: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { contentLength = Int(value) }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
        }
        let body = Array(bytes[(headerEnd + 4)...])
        if chunked {
            if let decoded = dechunk(body) { return .complete(status: status, body: decoded) }
            return closed ? .malformed("truncated chunked body") : .incomplete
        }
        if let length = contentLength {
            if body.count >= length { return .complete(status: status, body: Array(body[0..<length])) }
            return closed ? .malformed("body shorter than Content-Length") : .incomplete
        }
        return closed ? .complete(status: status, body: body) : .incomplete
    }

    /// The body of a complete chunked encoding, or nil while the last chunk has not arrived.
    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: index) else { return nil }
            let sizeText =
                String(decoding: bytes[index..<lineEnd], as: UTF8.self)
                .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16) else { return nil }
            let start = lineEnd + 2
            if size == 0 { return output }
            guard start + size + 2 <= bytes.count else { return nil }
            output.append(contentsOf: bytes[start..<(start + size)])
            index = start + size + 2
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0] && Array(bytes[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}

/// Clocks: monotonic for durations and deadlines, wall clock for timestamps shared between processes.
enum Monotonic {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) < 0 && errno == EINTR { request = remaining }
    }
}

enum WallClock {
    /// Seconds since the epoch: the probe (another process) and the drill stamp events on the same axis.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
