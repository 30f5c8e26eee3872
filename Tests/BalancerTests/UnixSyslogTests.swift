import BalancerCore
import Foundation
import HAProxyConfig
import Logging
import Testing

@testable import Balancer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `log /dev/log local0` (Debian's stock haproxy.cfg): RFC 3164 datagrams over a UNIX datagram socket.
/// Each test binds its own socket at a temporary path, as rsyslog or journald bind /dev/log.
@Suite("Syslog over UNIX datagram sockets", .serialized, .timeLimit(.minutes(1)))
struct UnixSyslogTests {
    /// A unique socket path; tests remove it with `defer`, whether or not it was ever bound.
    static func socketPath() -> String {
        "/tmp/pdl-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    static func topology(servers: [TestBackend], logTarget: String) -> TestTopology {
        var topology = TestTopology(servers: servers.map { ($0.name, $0.port) })
        topology.global.append("log \(logTarget) local0")
        topology.defaults += ["log global", "option httplog"]
        return topology
    }

    /// Sends `GET path` through the balancer and returns what the client received (status 200 expected).
    static func request(_ port: Int, _ path: String) async throws -> String {
        let raw = try await rawExchange(
            port: port, "GET \(path) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", group: testGroup)
        #expect(statusCode(raw) == 200, "\(raw)")
        return raw
    }

    /// The whole datagram HAProxy 2.6.12 sends for the same exchange, as captured from `haproxy -db` with
    /// `log /tmp/…/log.sock local0`: `<134>Nov 26 16:14:03 haproxy[29874]: 127.0.0.1:44546
    /// [26/Nov/2026:16:14:03.097] web_entry web_backend/web01 0/0/0/0/0 200 116 - - ---- 1/1/0/0/0 0/0
    /// "GET /unix-log HTTP/1.1"\n`. Only times, the client port and the connection counts vary.
    static func expectedDatagram(path: String, bytes: Int) throws -> Regex<AnyRegexOutput> {
        let pid = getpid()
        let escapedPath = NSRegularExpression.escapedPattern(for: path)
        let pattern =
            #"<134>[A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d haproxy\["# + "\(pid)" + #"\]: "#
            + #"127\.0\.0\.1:\d+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] "#
            + #"web_entry web_backend/web01 \d+/\d+/\d+/\d+/\d+ 200 "# + "\(bytes)"
            + #" - - ---- \d+/\d+/\d+/\d+/\d+ 0/0 "GET "# + escapedPath + #" HTTP/1\.1"\n"#
        return try Regex(pattern)
    }

    @Test("log /PATH local0 with option httplog: one request, one RFC 3164 datagram exactly as HAProxy frames it")
    func httplogDatagram() async throws {
        let path = Self.socketPath()
        defer { unlink(path) }
        let receiver = try UnixDatagramReceiver(path: path)
        defer { receiver.close() }
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withBalancer(Self.topology(servers: backends, logTarget: path)) { port, _ in
                let raw = try await Self.request(port, "/unix-log?a=1")
                var datagrams: [String] = []
                #expect(await eventually { datagrams += receiver.drain(); return !datagrams.isEmpty })
                // Nothing else is logged for one request: exactly one datagram.
                try await Task.sleep(for: .milliseconds(100))
                datagrams += receiver.drain()
                #expect(datagrams.count == 1, "\(datagrams)")
                let datagram = try #require(datagrams.first)
                let expected = try Self.expectedDatagram(path: "/unix-log?a=1", bytes: raw.utf8.count)
                #expect(datagram.wholeMatch(of: expected) != nil, "\(datagram)")
            }
        }
    }

    @Test("unix@PATH is the same target")
    func unixPrefix() async throws {
        let path = Self.socketPath()
        defer { unlink(path) }
        let receiver = try UnixDatagramReceiver(path: path)
        defer { receiver.close() }
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withBalancer(Self.topology(servers: backends, logTarget: "unix@" + path)) { port, _ in
                let raw = try await Self.request(port, "/prefixed")
                var datagrams: [String] = []
                #expect(await eventually { datagrams += receiver.drain(); return !datagrams.isEmpty })
                let expected = try Self.expectedDatagram(path: "/prefixed", bytes: raw.utf8.count)
                #expect(datagrams.first?.wholeMatch(of: expected) != nil, "\(datagrams)")
            }
        }
    }

    @Test("a missing socket drops lines (reported once); one created later, or re-created, gets them without a reload")
    func socketAppearsLater() async throws {
        let path = Self.socketPath()
        defer { unlink(path) }
        let logs = LogCapture()
        try await withBackends(["web01"], group: testGroup) { backends in
            try await withBalancer(Self.topology(servers: backends, logTarget: path), logs: logs) { port, _ in
                // No syslog daemon yet: requests are served, their lines dropped.
                _ = try await Self.request(port, "/before-1")
                _ = try await Self.request(port, "/before-2")
                let failures = { logs.lines.filter { $0.contains("sendto failed") } }
                #expect(await eventually { !failures().isEmpty })
                #expect(failures().count == 1, "\(logs.lines)")
                #expect(failures().first?.contains("'\(path)'") == true)
                #expect(failures().first?.contains("No such file or directory") == true)

                // The daemon starts: the next line reaches it.
                var receiver = try UnixDatagramReceiver(path: path)
                defer { receiver.close() }
                _ = try await Self.request(port, "/after-start")
                var datagrams: [String] = []
                #expect(await eventually { datagrams += receiver.drain(); return !datagrams.isEmpty })
                #expect(datagrams.count == 1 && datagrams[0].contains("\"GET /after-start HTTP/1.1\""), "\(datagrams)")

                // The daemon restarts (its socket file is removed and bound again): still no reload needed.
                receiver.close()
                receiver = try UnixDatagramReceiver(path: path)
                _ = try await Self.request(port, "/after-restart")
                datagrams = []
                #expect(await eventually { datagrams += receiver.drain(); return !datagrams.isEmpty })
                #expect(
                    datagrams.count == 1 && datagrams[0].contains("\"GET /after-restart HTTP/1.1\""), "\(datagrams)")
            }
        }
    }

    @Test("a daemon that does not read: lines are dropped once its queue is full, sending never blocks")
    func fullQueueDrops() throws {
        let path = Self.socketPath()
        defer { unlink(path) }
        let receiver = try UnixDatagramReceiver(path: path)
        defer { receiver.close() }
        let logs = LogCapture()
        let target = LogTarget(
            destination: .unixSocket(path: path), facility: .local0, location: SourceLocation(file: "t.cfg", line: 1))
        let sender = SyslogSender.open(targets: [target], logger: logs.logger)
        defer { sender.close() }
        // Far more than a UNIX datagram queue holds (net.unix.max_dgram_qlen, 512 by default, and the socket
        // buffers): a blocking send would hang here until the time limit.
        let sent = 5000
        for index in 0..<sent {
            sender.send(.info, "line \(index)", to: [target])
        }
        let received = receiver.drain()
        #expect(!received.isEmpty)
        #expect(received.count < sent, "the queue never filled: \(received.count)")
        #expect(received.first?.contains("]: line 0\n") == true, "\(received.first ?? "")")
        // A full queue (EAGAIN) is the normal way to drop a datagram: no failure report.
        #expect(logs.lines.filter { $0.contains("sendto failed") }.isEmpty, "\(logs.lines)")
        // Once read, the queue takes lines again.
        sender.send(.info, "after drain", to: [target])
        #expect(receiver.drain().last?.contains("]: after drain\n") == true)
    }
}

/// A syslog daemon's end of a UNIX datagram socket, bound at `path` (removed again by `close`).
final class UnixDatagramReceiver: @unchecked Sendable {
    let path: String
    private var descriptor: Int32

    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    init(path: String) throws {
        self.path = path
        self.descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard self.descriptor >= 0 else { throw Failure(call: "socket", code: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes.prefix($0.count - 1)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(self.descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            closeDescriptor(self.descriptor)
            throw Failure(call: "bind \(path)", code: code)
        }
    }

    /// Every datagram waiting now, without blocking.
    func drain() -> [String] {
        var datagrams: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Bounded: at most what a queue can hold, many times over.
        for _ in 0..<100_000 {
            let count = buffer.withUnsafeMutableBytes {
                recv(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            guard count > 0 else { break }
            datagrams.append(String(decoding: buffer.prefix(count), as: UTF8.self))
        }
        return datagrams
    }

    /// Closes the socket and removes its file, as a stopping daemon does; safe to call twice.
    func close() {
        guard self.descriptor >= 0 else { return }
        closeDescriptor(self.descriptor)
        self.descriptor = -1
        unlink(self.path)
    }
}

// File scope: inside `UnixDatagramReceiver` its own `close()` hides the C function.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
