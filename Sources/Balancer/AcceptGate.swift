import NIOCore

/// Sits on a listening channel and stops issuing accepts (reads) while the process-wide or the
/// frontend's `maxconn` is reached. Connections beyond the limit stay in the kernel backlog and are
/// accepted when a slot frees up, which is what HAProxy does; nothing is refused and descriptors
/// stay bounded.
final class AcceptGate: ChannelDuplexHandler, @unchecked Sendable {
    // @unchecked: every mutable field is touched on `eventLoop` only; `resume` hops onto it.
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Never

    private let limiters: [ConnectionLimiter]
    private let eventLoop: any EventLoop
    private var context: ChannelHandlerContext?
    /// A read was requested while a limit was reached; it is issued on resume.
    private var readPending = false
    private var full = false
    /// Stopping: every connection already waiting in the kernel's queue is taken, past the limits, so that it
    /// is served rather than reset when the listening socket closes (`drainQueue`).
    private var draining = false

    init(limiters: [ConnectionLimiter], eventLoop: any EventLoop) {
        self.limiters = limiters
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = self.unwrapInboundIn(data)
        var reachedLimit = false
        for limiter in self.limiters where limiter.acquire() {
            reachedLimit = true
        }
        if reachedLimit { self.full = true }
        let limiters = self.limiters
        child.closeFuture.whenComplete { _ in
            for limiter in limiters { limiter.release() }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        guard self.full, !self.draining else {
            context.read()
            return
        }
        var paused = false
        for limiter in self.limiters where limiter.pause(self) {
            paused = true
        }
        if paused {
            self.readPending = true
        } else {
            self.full = false
            context.read()
        }
    }

    /// Stops holding accepts back (see `draining`); a read a limit held back is issued now.
    func drainQueue() {
        self.eventLoop.execute {
            self.draining = true
            guard self.readPending, let context = self.context else { return }
            self.readPending = false
            context.read()
        }
    }

    /// Called by a limiter when a slot became free.
    func resume() {
        self.eventLoop.execute {
            guard self.readPending, let context = self.context else { return }
            self.readPending = false
            // `read` asks every limiter again: another one may still be full.
            self.read(context: context)
        }
    }
}
