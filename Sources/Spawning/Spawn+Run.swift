#if canImport(Glibc)
    import Glibc
#endif

extension Spawn {
    /// What a command printed and how it ended.
    public struct Completion: Sendable {
        /// Exit code, or 128+signal.
        public var status: Int32
        public var output: [UInt8]
        /// Empty when standard error went to `output`.
        public var errorOutput: [UInt8]
    }

    /// Runs a command to its end, reading its output while it runs (a chatty command cannot block on a full
    /// pipe). Nil when it was still running (or still holding its output open) after `timeout` seconds; it was
    /// killed and reaped then.
    /// - Parameter mergingErrors: standard error into `output`, in the order written.
    public static func run(_ arguments: [String], timeout: Double, mergingErrors: Bool = false) throws -> Completion? {
        let outPipe = try closeOnExecPipe()
        var errPipe: (read: Int32, write: Int32)?
        let pid: pid_t
        do {
            if !mergingErrors { errPipe = try closeOnExecPipe() }
            pid = try start(
                arguments, output: .descriptor(outPipe.write), error: .descriptor(errPipe?.write ?? outPipe.write))
        } catch {
            for fd in [outPipe.read, outPipe.write, errPipe?.read, errPipe?.write].compactMap({ $0 }) { close(fd) }
            throw error
        }
        close(outPipe.write)
        if let errPipe { close(errPipe.write) }
        defer {
            close(outPipe.read)
            if let errPipe { close(errPipe.read) }
        }
        let deadline = monotonicSeconds() + timeout
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var open = [outPipe.read] + (errPipe.map { [$0.read] } ?? [])
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty, monotonicSeconds() < deadline {
            var entries = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let wait = Int32(min(deadline - monotonicSeconds(), 1) * 1000) + 1
            if poll(&entries, nfds_t(entries.count), wait) < 0 && errno != EINTR { break }
            for entry in entries where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == outPipe.read {
                        output += buffer[0..<count]
                    } else {
                        errors += buffer[0..<count]
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        // Its output is closed, but the process may linger: the wait is bounded by the same deadline.
        var status = reapIfExited(pid)
        while status == nil, monotonicSeconds() < deadline {
            usleep(5_000)
            status = reapIfExited(pid)
        }
        guard let status, open.isEmpty else {
            kill(pid, SIGKILL)
            reap(pid)
            return nil
        }
        return Completion(status: status, output: output, errorOutput: errors)
    }

    /// Seconds on the monotonic clock.
    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
