import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call, with what the daemon was trying to do and the errno it got.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// Captures the current `errno` right after a failed call.
    static func last(_ operation: String) -> SystemError {
        SystemError(operation, errno: Glibc.errno)
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Waits for readability of one file descriptor on a dedicated thread, so blocking system calls never
/// run on SwiftNIO event loops or the Swift concurrency pool. `stop()` wakes the thread through a pipe.
final class ReadinessThread: @unchecked Sendable {
    private let fd: Int32
    private let wake: (read: Int32, write: Int32)
    private let onReadable: () -> Void
    private let name: String
    private var thread: pthread_t?
    private var stopping = false

    /// - Parameter onReadable: called on the thread each time `fd` is readable (or has hung up).
    init(fd: Int32, name: String, onReadable: @escaping () -> Void) throws {
        var fds: [Int32] = [0, 0]
        try makeWakePipe(&fds)
        self.fd = fd
        self.wake = (fds[0], fds[1])
        self.onReadable = onReadable
        self.name = name
    }

    func start() {
        let unmanaged = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { arg in
                guard let arg else { return nil }
                let me = Unmanaged<ReadinessThread>.fromOpaque(arg).takeRetainedValue()
                me.loop()
                return nil
            }, unmanaged.toOpaque())
        if rc == 0 {
            thread = tid
        } else {
            unmanaged.release()
        }
    }

    private func loop() {
        var pfds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
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
                if stopping { return }
                // A hung-up descriptor (an exited pidfd) stays readable: report it once and stop.
                if pfds[0].revents & Int16(POLLHUP | POLLERR) != 0 && pfds[0].revents & Int16(POLLIN) == 0 {
                    return
                }
            }
        }
    }

    /// Stops the thread and waits for it, unless called from the thread itself.
    func stop() {
        stopping = true
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        guard let thread, !pthread_equal(thread, pthread_self()).isTrue else {
            // Stopped from its own callback: the loop sees `stopping` and returns; the pipe closes with the object.
            return
        }
        pthread_join(thread, nil)
        self.thread = nil
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }
}

extension Int32 {
    fileprivate var isTrue: Bool { self != 0 }
}

/// A non-blocking, close-on-exec pipe (pipe2 is not imported by Swift's Glibc module).
func makeWakePipe(_ fds: inout [Int32]) throws {
    guard pipe(&fds) == 0 else { throw SystemError.last("pipe") }
    for fd in fds {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
}
