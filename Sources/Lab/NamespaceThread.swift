import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Moves the calling thread between the lab's network namespaces (`setns` is per thread). Only ever used on
/// a thread of its own that enters a lab namespace before it opens any socket, so no lab traffic can start
/// in the root namespace. Not thread-safe: one instance per thread.
final class NamespaceHopper {
    private var descriptors: [String: Int32] = [:]

    deinit {
        for fd in descriptors.values { close(fd) }
    }

    func enter(_ namespace: String) throws {
        let fd: Int32
        if let cached = descriptors[namespace] {
            fd = cached
        } else {
            fd = open("/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw LabError.namespaceEntry(namespace: namespace, errno: errno) }
            descriptors[namespace] = fd
        }
        guard LinuxCalls.enterNetworkNamespace(fd) == 0 else {
            throw LabError.namespaceEntry(namespace: namespace, errno: errno)
        }
    }

    /// IPv4 addresses of `interface` in the namespace the thread is in (getifaddrs asks netlink, which
    /// answers for the socket's, so the thread's, namespace).
    func addresses(of interface: String) -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let name = entry.pointee.ifa_name, String(cString: name) == interface,
                let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET)
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var raw = inet.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN))
            }
            result.append(String(cString: text))
        }
        return result
    }
}

/// Runs work on a fresh thread that hops into lab namespaces; the caller waits for the result.
enum NamespaceThread {
    static func run<T>(_ body: @escaping (NamespaceHopper) throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let hopper = NamespaceHopper()
            box.result = Result { try body(hopper) }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        guard let result = box.result else { throw LabError.io("namespace thread ended without a result") }
        return try result.get()
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, Error>?
    }
}
