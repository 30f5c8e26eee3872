import Foundation
import Testing

@testable import Lab

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP server on 127.0.0.1 for the probe's tests: answers with a body, or accepts and stays silent.
final class LoopbackServer: @unchecked Sendable {
    enum Behaviour {
        case answer(String)
        case silent
    }

    let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var stopped = false
    private var held: [Int32] = []
    private let done = DispatchSemaphore(value: 0)

    init(_ behaviour: Behaviour) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 512) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw LabError.io("loopback server: \(String(cString: strerror(errno)))") }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in
            // Bounded: the tests stop it; 30 s is the backstop.
            let deadline = Monotonic.now() + 30
            while Monotonic.now() < deadline {
                lock.lock()
                let stop = stopped
                lock.unlock()
                if stop { break }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 20) > 0 else { continue }
                let client = accept(fd, nil, nil)
                guard client >= 0 else { continue }
                switch behaviour {
                case .silent:
                    lock.lock()
                    held.append(client)
                    lock.unlock()
                case .answer(let body):
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = recv(client, &buffer, buffer.count, 0)
                    let response =
                        "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                    _ = response.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    close(client)
                }
            }
            done.signal()
        }
        thread.start()
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        _ = done.wait(timeout: .now() + 5)
        lock.lock()
        for client in held { close(client) }
        lock.unlock()
        close(fd)
    }
}

@Suite struct ProbeTests {
    @Test func answersAreRecordedWithTheirBackend() throws {
        let server = try LoopbackServer(.answer("web01\n"))
        defer { server.stop() }
        var records: [ProbeRecord] = []
        Probe(address: "127.0.0.1", port: server.port, rate: 50, duration: 0.4, timeout: 1)
            .run(shouldStop: { false }) { records.append($0) }
        #expect(records.count == 20)
        #expect(records.allSatisfy { $0.ok && $0.status == 200 && $0.backend == "web01" })
        #expect(Set(records.map(\.seq)) == Set(0..<20))
    }

    /// A server that never answers must not slow the client down: requests overlap, each times out alone.
    @Test func rateHoldsWhileEveryRequestTimesOut() throws {
        let server = try LoopbackServer(.silent)
        defer { server.stop() }
        var records: [ProbeRecord] = []
        let started = Monotonic.now()
        Probe(address: "127.0.0.1", port: server.port, rate: 50, duration: 1, timeout: 0.3)
            .run(shouldStop: { false }) { records.append($0) }
        let elapsed = Monotonic.now() - started
        #expect(records.count == 50)
        #expect(records.allSatisfy { $0.error == .timeout })
        // 50 sequential timeouts would take 15 s; overlapping ones end 0.3 s after the last send.
        #expect(elapsed < 8)
        // Each request starts before the previous one has timed out: they are in flight together.
        let ordered = records.sorted { $0.seq < $1.seq }
        let overlapping = zip(ordered, ordered.dropFirst()).filter { $1.sent < $0.sent + $0.latency }.count
        #expect(overlapping >= 40)
    }

    @Test func closedPortIsRefused() throws {
        let server = try LoopbackServer(.silent)
        let port = server.port
        server.stop()
        var records: [ProbeRecord] = []
        Probe(address: "127.0.0.1", port: port, rate: 20, duration: 0.2, timeout: 1)
            .run(shouldStop: { false }) { records.append($0) }
        #expect(records.count == 4)
        #expect(records.allSatisfy { $0.error == .refused })
    }

    @Test func stopEndsTheRunEarly() throws {
        let server = try LoopbackServer(.answer("web02\n"))
        defer { server.stop() }
        var records: [ProbeRecord] = []
        let started = Monotonic.now()
        Probe(address: "127.0.0.1", port: server.port, rate: 100, duration: 30, timeout: 1)
            .run(shouldStop: { Monotonic.now() - started > 0.3 }) { records.append($0) }
        #expect(Monotonic.now() - started < 2)
        #expect(records.count > 10 && records.count < 60)
    }

    @Test func recordsRoundTripThroughJSONLines() {
        let records = [
            ProbeRecord(seq: 0, sent: 1_764_000_000.123, latency: 0.0012, status: 200, backend: "web01", error: nil),
            ProbeRecord(seq: 1, sent: 1_764_000_000.133, latency: 1.0, status: nil, backend: nil, error: .timeout),
        ]
        let text = records.map(Probe.jsonLine).joined() + "garbage\n"
        #expect(Probe.records(fromJSONLines: text) == records)
    }

    @Test func probeRefusesToRunInTheMachinesOwnNamespace() {
        let probe = Probe(address: "192.168.10.100", port: 80, rate: 1, duration: 1, timeout: 1)
        #expect(throws: LabError.self) { try probe.checkNamespace() }
    }
}
