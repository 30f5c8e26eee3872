import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Listening sockets that outlive a configuration generation, for hitless reloads: the supervisor opens
/// each `bind` address once, and every generation accepts on a duplicate of the same socket. While two
/// generations overlap both accept from the one queue; when the old one closes its duplicate, the socket
/// and the connections waiting in its queue stay with the new one. Nothing is ever refused or reset, which
/// rebinding with SO_REUSEPORT cannot promise (a closing listener drops its queued connections).
public final class ListenerSockets: Sendable {
    private let sockets = Mutex<[String: CInt]>([:])
    private let backlog: Int32

    public init(backlog: Int32 = 4096) {
        self.backlog = backlog
    }

    deinit {
        self.closeAll()
    }

    /// A new descriptor (a `dup`) for the socket listening on `host:port`, opened on first use.
    /// The caller owns the returned descriptor.
    func descriptor(host: String, port: Int) throws -> CInt {
        let key = "\(host):\(port)"
        return try self.sockets.withLock { sockets in
            if let existing = sockets[key] {
                let copy = dup(existing)
                guard copy >= 0 else { throw IOError(errnoCode: errno, reason: "dup") }
                return copy
            }
            let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
            let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
            let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
            var one: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = address.withSockAddr { pointer, size in Glibc.bind(descriptor, pointer, socklen_t(size)) }
            guard bound == 0, listen(descriptor, self.backlog) == 0 else {
                let code = errno
                close(descriptor)
                throw IOError(errnoCode: code, reason: "bind")
            }
            sockets[key] = descriptor
            let copy = dup(descriptor)
            guard copy >= 0 else { throw IOError(errnoCode: errno, reason: "dup") }
            return copy
        }
    }

    /// Closes the sockets of addresses no generation uses any more.
    func retain(only keys: Set<String>) {
        self.sockets.withLock { sockets in
            for (key, descriptor) in sockets where !keys.contains(key) {
                close(descriptor)
                sockets[key] = nil
            }
        }
    }

    func closeAll() {
        self.sockets.withLock { sockets in
            for descriptor in sockets.values { close(descriptor) }
            sockets.removeAll()
        }
    }
}

extension ServerBootstrap {
    /// Binds `host:port`, or accepts on the shared listening socket when the balancer runs under a
    /// supervisor that keeps listeners across reloads.
    func bind(host: String, port: Int, sharing listeners: ListenerSockets?) -> EventLoopFuture<Channel> {
        guard let listeners else { return self.bind(host: host, port: port) }
        do {
            return self.withBoundSocket(try listeners.descriptor(host: host, port: port))
        } catch {
            return MultiThreadedEventLoopGroup.singleton.next().makeFailedFuture(error)
        }
    }
}
