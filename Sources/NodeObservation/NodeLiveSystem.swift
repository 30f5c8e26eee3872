import Foundation
import NIOCore
import Preflight
import VRRPDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// `portico check --live`'s view of the machine it runs on: interfaces and addresses over rtnetlink (the VRRP
/// daemon's lister), /proc of this network namespace, a blocking HTTP GET and the Unix control sockets.
/// Everything it contacts is this node's own: its stats listener and its daemons' sockets.
public struct NodeLiveSystem: LiveSystem {
    public init() {}

    public func interfaces() throws -> [LocalInterface] {
        let netlink = try RouteNetlink()
        let addresses = try netlink.addresses()
        return try netlink.links().map { link in
            LocalInterface(
                name: link.name, isUp: link.isUp,
                addresses: addresses.filter { $0.interfaceIndex == link.index }.map {
                    LocalAddress(address: "\($0.address)", prefixLength: Int($0.prefixLength))
                })
        }
    }

    public func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LiveProbeError("cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    public func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    public func listDirectory(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// Walks /proc/PID/fd for `socket:[INODE]` links; processes we may not look into are skipped.
    public func socketOwners(_ inodes: Set<UInt64>) -> [UInt64: SocketOwner] {
        guard !inodes.isEmpty else { return [:] }
        var owners: [UInt64: SocketOwner] = [:]
        let manager = FileManager.default
        let pids = ((try? manager.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int($0) }.sorted()
        for pid in pids {
            guard let descriptors = try? manager.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for descriptor in descriptors {
                guard let target = try? manager.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)"),
                    target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast()),
                    inodes.contains(inode), owners[inode] == nil
                else { continue }
                let raw = manager.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
                let command = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                owners[inode] = SocketOwner(pid: pid, command: command)
            }
            if owners.count == inodes.count { break }
        }
        return owners
    }

    public func unixRequest(path: String, command: String, timeout: Double) throws -> String {
        do {
            return try vrrpControlRequest(path: path, command: command, timeout: timeout)
        } catch {
            throw LiveProbeError("\(error)")
        }
    }

    public func httpGet(host: String, port: Int, path: String, headers: [String: String], timeout: Double) throws -> [UInt8] {
        let descriptor = try connect(host: host, port: port, timeout: timeout)
        defer { close(descriptor) }
        var request = "GET \(path) HTTP/1.0\r\nHost: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
        request += "Connection: close\r\n\r\n"
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw LiveProbeError("send to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            sent += count
        }
        // Bounded in time as a whole, not per read: a server trickling bytes cannot hold the check.
        let deadline = Date().addingTimeInterval(timeout)
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while reply.count < 16 << 20 {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw LiveProbeError("\(host):\(port) did not finish its answer in \(timeout) s")
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(remaining * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count == 0 { break }
            guard count > 0 else {
                throw LiveProbeError("read from \(host):\(port): \(String(cString: strerror(errno)))")
            }
            reply += buffer[0..<count]
        }
        return reply
    }

    /// A non-blocking connect bounded by `timeout`, then back to blocking mode.
    private func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        // NIO's address type builds the sockaddr for either family; only the bounded connect is done here.
        guard let address = try? SocketAddress(ipAddress: host, port: port) else {
            throw LiveProbeError("\(host) is not an IP address (names are not resolved)")
        }
        let descriptor = socket(
            address.protocol.rawValue, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw LiveProbeError("socket: \(String(cString: strerror(errno)))") }
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        let result = address.withSockAddr { Glibc.connect(descriptor, $0, socklen_t($1)) }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw LiveProbeError("connect to \(host):\(port): \(reason)")
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(timeout * 1000))
            var failure: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &size)
            guard ready > 0, failure == 0 else {
                close(descriptor)
                let reason = ready > 0 ? String(cString: strerror(failure)) : "timed out after \(timeout) s"
                throw LiveProbeError("connect to \(host):\(port): \(reason)")
            }
        }
        _ = fcntl(descriptor, F_SETFL, flags)
        return descriptor
    }
}
