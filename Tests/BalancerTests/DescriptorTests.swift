import Balancer
import Foundation
import NIOCore
import NIOPosix
import Testing

/// TCP sockets the balancer holds open, from /proc/net/tcp: accepted ones (local port = the frontend's)
/// and outgoing ones (remote port = a backend's), in a state that keeps a descriptor (ESTABLISHED or
/// CLOSE_WAIT; a CLOSE_WAIT socket is one whose peer closed and that nobody closed: a leak).
/// Ports make it independent of the other tests running in this process at the same time.
func balancerSockets(frontendPort: Int, backendPorts: Set<Int>) -> [String]? {
    // /proc files report size 0: read to the end rather than by size.
    guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return nil }
    defer { try? handle.close() }
    let table = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    guard table.hasPrefix("  sl") else { return nil }
    var sockets: [String] = []
    for line in table.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        guard fields.count > 3 else { continue }
        let state = fields[3]
        guard state == "01" || state == "08" else { continue }
        let local = Int(fields[1].split(separator: ":").last ?? "", radix: 16) ?? 0
        let remote = Int(fields[2].split(separator: ":").last ?? "", radix: 16) ?? 0
        if local == frontendPort || backendPorts.contains(remote) {
            sockets.append("\(local)->\(remote) \(state == "01" ? "ESTABLISHED" : "CLOSE_WAIT")")
        }
    }
    return sockets
}

@Suite("Descriptors")
struct DescriptorTests {
    @Test("no leaked connections: after 300 exchanges (some failing) every socket of the balancer is closed")
    func noLeaks() async throws {
        try await withBackends(["web01", "web02"], group: testGroup) { backends in
            var topology = TestTopology(servers: backends.map { ($0.name, $0.port) })
            topology.defaults.append("timeout server 300ms")
            let backendPorts = Set(backends.map(\.port))
            try await withBalancer(topology, poolIdleTimeout: .milliseconds(200)) { port, _ in
                let paths = ["/", "/chunked", "/malformed", "/close", "/slow", "/headers"]
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<10 {
                        group.addTask {
                            for index in 0..<30 {
                                let path = paths[(worker + index) % paths.count]
                                _ = try? await HTTPTestClient.get(port: port, path, group: testGroup)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(balancerSockets(frontendPort: port, backendPorts: backendPorts) != nil)
                // Pooled server connections close after 200 ms, lingering client closes within 1 s.
                let settled = await eventually(timeout: .seconds(8)) {
                    balancerSockets(frontendPort: port, backendPorts: backendPorts)?.isEmpty ?? false
                }
                let left = balancerSockets(frontendPort: port, backendPorts: backendPorts) ?? []
                #expect(settled, "still open (frontend \(port), backends \(backendPorts)): \(left)")
            }
        }
    }
}
