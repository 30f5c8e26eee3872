#if canImport(Glibc)
    import Glibc
#endif

/// Sleeps on a dedicated thread that `stop()` can wake at once.
final class WakeableThread: @unchecked Sendable {
    private let wake: (read: Int32, write: Int32)
    private var thread: pthread_t?
    private var body: ((WakeableThread) -> Void)?
    private(set) var isStopping = false

    init() throws {
        var fds: [Int32] = [0, 0]
        try makeWakePipe(&fds)
        wake = (fds[0], fds[1])
    }

    /// Readable once `stop()` is called: a loop that polls other descriptors polls this one too.
    var wakeDescriptor: Int32 { wake.read }

    func start(_ body: @escaping (WakeableThread) -> Void) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { arg in
                guard let arg else { return nil }
                let me = Unmanaged<WakeableThread>.fromOpaque(arg).takeRetainedValue()
                me.body?(me)
                me.body = nil
                return nil
            }, unmanaged.toOpaque())
        if rc == 0 {
            thread = tid
        } else {
            // The body never runs: drop it so what it captured is not kept alive by this object.
            self.body = nil
            unmanaged.release()
        }
    }

    /// Sleeps up to `seconds`; false if woken to stop.
    func sleep(_ seconds: Double) -> Bool {
        var pfd = pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, min(seconds * 1000, 86_400_000)))
        _ = poll(&pfd, 1, ms)
        return !isStopping
    }

    /// Stops the thread and waits for it, unless called from the thread itself (then the loop sees
    /// `isStopping` and returns on its own).
    func stop() {
        isStopping = true
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        if let thread, pthread_equal(thread, pthread_self()) == 0 {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }
}

/// The loop thread of a tracker (a `vrrp_script` check or a `vrrp_track_process` watch). Each `start` runs
/// the loop on a fresh `WakeableThread`, so a stopped tracker can be started again.
final class TrackerThread: @unchecked Sendable {
    private var current: WakeableThread?

    func start(_ loop: @escaping (WakeableThread) -> Void) throws {
        let thread = try WakeableThread()
        current = thread
        thread.start(loop)
    }

    func stop() {
        current?.stop()
        current = nil
    }
}

/// Waits for readability of one file descriptor on a dedicated thread, so blocking system calls never
/// run on SwiftNIO event loops or the Swift concurrency pool. `stop()` wakes the thread through a pipe.
final class ReadinessThread: @unchecked Sendable {
    private let fd: Int32
    private let onReadable: () -> Void
    private let name: String
    private let thread: WakeableThread

    /// - Parameter onReadable: called on the thread each time `fd` is readable (or has hung up).
    init(fd: Int32, name: String, onReadable: @escaping () -> Void) throws {
        thread = try WakeableThread()
        self.fd = fd
        self.onReadable = onReadable
        self.name = name
    }

    func start() {
        thread.start { [self] thread in loop(thread) }
    }

    private func loop(_ thread: WakeableThread) {
        var pfds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: thread.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            pfds[0].revents = 0
            pfds[1].revents = 0
            let n = poll(&pfds, 2, -1)
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                return
            }
            if pfds[1].revents != 0 { return }
            if pfds[0].revents & Int16(POLLNVAL) != 0 { return }
            if pfds[0].revents != 0 {
                onReadable()
                if thread.isStopping { return }
                // A hung-up descriptor (an exited pidfd) stays readable: report it once and stop.
                if pfds[0].revents & Int16(POLLHUP | POLLERR) != 0 && pfds[0].revents & Int16(POLLIN) == 0 {
                    return
                }
            }
        }
    }

    /// Stops the thread and waits for it, unless called from the thread itself.
    func stop() {
        thread.stop()
    }
}

/// A non-blocking, close-on-exec pipe (pipe2 is not imported by Swift's Glibc module).
func makeWakePipe(_ fds: inout [Int32]) throws {
    guard pipe(&fds) == 0 else { throw SystemError.last("pipe") }
    for fd in fds {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
}
