import NIOCore

/// Idle keep-alive connections to every server, for one event loop. A client connection only ever
/// takes connections from the pool of its own loop, so a request never hops threads and the pool
/// needs no lock. Connections are reused last-in first-out (the warmest first) and closed after
/// `idleTimeout` unused.
final class ServerConnectionPool: @unchecked Sendable {
    // @unchecked: used only on `eventLoop` (a client connection takes the pool of its own loop).
    let eventLoop: any EventLoop
    private var idle: [[ServerConnection]]
    private let idleTimeout: TimeAmount
    private let maxIdlePerServer: Int
    /// Client connections of this loop, so a graceful stop can drain them.
    private(set) var clientConnections: [ObjectIdentifier: ClientConnection] = [:]
    private(set) var isDraining = false
    /// Closes connections idle longer than `idleTimeout`; one repeating task per loop instead of a timer
    /// per pooled connection (which would be scheduled and cancelled on every request).
    private var sweeper: RepeatedTask?

    init(eventLoop: any EventLoop, serverCount: Int, idleTimeout: TimeAmount, maxIdlePerServer: Int) {
        self.eventLoop = eventLoop
        self.idle = Array(repeating: [], count: serverCount)
        self.idleTimeout = idleTimeout
        self.maxIdlePerServer = maxIdlePerServer
    }

    /// An open idle connection to this server, if there is one.
    func take(_ server: ServerRuntime) -> ServerConnection? {
        let key = server.poolKey
        // A connection still inside the read that ended its last response (a pipelined request dispatched
        // from there) is passed over: bytes the server sent behind that response must reach its decoder
        // first and fail there as unsolicited, not become the next request's response.
        while let index = self.idle[key].lastIndex(where: { !$0.isReading }) {
            let connection = self.idle[key].remove(at: index)
            connection.leavePool()
            if connection.isReusable { return connection }
            connection.close()
        }
        return nil
    }

    /// Puts a connection that finished its exchange cleanly back for reuse.
    func giveBack(_ connection: ServerConnection) {
        let key = connection.server.poolKey
        guard connection.isReusable, !self.isDraining, self.idle[key].count < self.maxIdlePerServer else {
            connection.close()
            return
        }
        self.idle[key].append(connection)
        connection.enterPool(self)
        if self.sweeper == nil {
            let interval = TimeAmount.nanoseconds(max(self.idleTimeout.nanoseconds / 4, 10_000_000))
            // Runs on this pool's loop, the only place the pool is used.
            self.sweeper = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                self.sweep()
            }
        }
    }

    /// Idle connections are appended at the end, so the oldest are at the front of each list.
    private func sweep() {
        let limit = NIODeadline.now() - self.idleTimeout
        for key in self.idle.indices {
            while let oldest = self.idle[key].first, oldest.idleSince < limit {
                self.idle[key].removeFirst()
                oldest.leavePool()
                oldest.close()
            }
        }
    }

    /// The server closed an idle connection, or it stayed unused too long.
    func remove(_ connection: ServerConnection) {
        let key = connection.server.poolKey
        if let position = self.idle[key].firstIndex(where: { $0 === connection }) {
            self.idle[key].remove(at: position)
        }
    }

    func register(_ client: ClientConnection) {
        self.clientConnections[ObjectIdentifier(client)] = client
    }

    func unregister(_ client: ClientConnection) {
        self.clientConnections.removeValue(forKey: ObjectIdentifier(client))
    }

    /// Graceful stop: idle client connections close now, busy ones after their current response.
    func drain() {
        self.isDraining = true
        for client in self.clientConnections.values {
            client.drain()
        }
        self.closeIdle()
    }

    /// End of the grace period: whatever is left is closed.
    func closeAll() {
        for client in self.clientConnections.values {
            client.closeNow()
        }
        self.closeIdle()
    }

    private func closeIdle() {
        self.sweeper?.cancel()
        self.sweeper = nil
        for connections in self.idle {
            for connection in connections {
                connection.leavePool()
                connection.close()
            }
        }
        self.idle = Array(repeating: [], count: self.idle.count)
    }
}

/// One pool per event loop, looked up by the loop a connection lives on.
final class LoopPools: @unchecked Sendable {
    // @unchecked: the dictionary is immutable after init; each pool is used only on its own loop.
    private let pools: [ObjectIdentifier: ServerConnectionPool]

    init(group: any EventLoopGroup, serverCount: Int, options: BalancerOptions) {
        var pools: [ObjectIdentifier: ServerConnectionPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = ServerConnectionPool(
                eventLoop: loop,
                serverCount: serverCount,
                idleTimeout: options.poolIdleTimeout,
                maxIdlePerServer: options.poolMaxIdlePerServer
            )
        }
        self.pools = pools
    }

    func pool(for loop: any EventLoop) -> ServerConnectionPool? {
        self.pools[ObjectIdentifier(loop)]
    }

    var all: [ServerConnectionPool] { Array(self.pools.values) }
}
