import NIOCore
import Synchronization

/// Requests waiting for a server slot when every usable server of a backend is at its `maxconn`
/// (HAProxy's backend queue). Waiters live on different event loops; a released slot wakes the
/// oldest one on its own loop, where it picks again.
final class BackendQueue: Sendable {
    struct Waiter: Sendable {
        let id: UInt64
        let eventLoop: any EventLoop
        let wake: @Sendable () -> Void
    }

    private struct State {
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Mirrors `waiters.count` so a release with nobody waiting (the common case) takes no lock.
    private let waiting = Atomic<Int>(0)

    var count: Int { self.waiting.load(ordering: .relaxed) }

    /// Adds a waiter and returns its id (to remove it on timeout).
    func enqueue(eventLoop: any EventLoop, wake: @escaping @Sendable () -> Void) -> UInt64 {
        self.state.withLock { state in
            state.nextID &+= 1
            state.waiters.append(Waiter(id: state.nextID, eventLoop: eventLoop, wake: wake))
            self.waiting.store(state.waiters.count, ordering: .relaxed)
            return state.nextID
        }
    }

    /// Removes a waiter that gave up (timeout, client gone). Returns false if it was already woken.
    @discardableResult
    func remove(_ id: UInt64) -> Bool {
        self.state.withLock { state in
            guard let position = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
            state.waiters.remove(at: position)
            self.waiting.store(state.waiters.count, ordering: .relaxed)
            return true
        }
    }

    /// A slot was released: the oldest waiter tries again on its loop.
    func wakeOne() {
        guard self.waiting.load(ordering: .relaxed) > 0 else { return }
        let waiter: Waiter? = self.state.withLock { state in
            guard !state.waiters.isEmpty else { return nil }
            let first = state.waiters.removeFirst()
            self.waiting.store(state.waiters.count, ordering: .relaxed)
            return first
        }
        guard let waiter else { return }
        waiter.eventLoop.execute { waiter.wake() }
    }
}

/// Counts client connections against a `maxconn` and pauses the listeners that feed it when the
/// limit is reached, so excess connections wait in the kernel's accept backlog (as HAProxy does)
/// instead of being accepted and refused.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let state = Mutex<(count: Int, paused: [AcceptGate])>((0, []))

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var count: Int { self.state.withLock { $0.count } }

    /// Counts an accepted connection; returns true when the limit has now been reached.
    func acquire() -> Bool {
        self.state.withLock { state in
            state.count += 1
            return state.count >= self.limit
        }
    }

    /// Registers a gate that stopped accepting because of this limiter; it is resumed on release.
    /// Returns false (and does not register) when a slot has meanwhile become free.
    func pause(_ gate: AcceptGate) -> Bool {
        self.state.withLock { state in
            guard state.count >= self.limit else { return false }
            state.paused.append(gate)
            return true
        }
    }

    func release() {
        let resumed: [AcceptGate] = self.state.withLock { state in
            state.count -= 1
            guard state.count < self.limit, !state.paused.isEmpty else { return [] }
            let gates = state.paused
            state.paused = []
            return gates
        }
        for gate in resumed {
            gate.resume()
        }
    }
}
