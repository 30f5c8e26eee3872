import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#endif

/// pidfd_open / pidfd_send_signal (glibc 2.36, Linux 5.3). Looked up at run time because Swift's Glibc module
/// does not import <sys/pidfd.h> and cannot call the variadic syscall().
enum PIDFD {
    private typealias OpenFunction = @convention(c) (pid_t, UInt32) -> Int32
    private typealias SignalFunction = @convention(c) (Int32, Int32, UnsafeMutableRawPointer?, UInt32) -> Int32

    private static let openFunction: OpenFunction? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else { return nil }
        return unsafeBitCast(sym, to: OpenFunction.self)
    }()
    private static let signalFunction: SignalFunction? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_send_signal") else { return nil }
        return unsafeBitCast(sym, to: SignalFunction.self)
    }()

    /// A descriptor that becomes readable when `pid` exits. It refers to this very process even if the
    /// number is reused later, and it works in any network namespace (unlike the netlink process connector).
    static func open(_ pid: pid_t) throws -> Int32 {
        guard let openFunction else { throw SystemError("pidfd_open unavailable (glibc < 2.36)", errno: ENOSYS) }
        let fd = openFunction(pid, 0)
        guard fd >= 0 else { throw SystemError.last("pidfd_open(\(pid))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    static func signal(_ fd: Int32, _ sig: Int32) {
        _ = signalFunction?(fd, sig, nil, 0)
    }

    /// Waits up to `milliseconds` for the process to exit; true if it did.
    static func wait(_ fd: Int32, milliseconds: Int32) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&pfd, 1, milliseconds)
            if n < 0 && Glibc.errno == EINTR { continue }
            return n > 0
        }
    }
}

/// How a script ended.
public enum ScriptOutcome: Equatable, Sendable {
    case exited(Int32)
    case signalled(Int32)
    case timedOut
    case failedToStart(Int32)

    public var succeeded: Bool { self == .exited(0) }
}

/// A child process started with posix_spawn, in its own process group so a timeout kills what it started too.
final class ChildProcess {
    let pid: pid_t
    private let pidfd: Int32
    private var reaped = false

    /// Splits a Keepalived script line into words: whitespace separated, with single and double quotes.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    init(arguments: [String]) throws {
        guard let program = arguments.first else { throw SystemError("empty script", errno: EINVAL) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Signals ignored by the daemon (swift-service-lifecycle ignores SIGTERM to catch it) must not
        // stay ignored in scripts, or a timeout's SIGTERM would do nothing.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(
            &attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)
        )
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [STDIN_FILENO, STDOUT_FILENO] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc: Int32
        if program.hasPrefix("/") {
            rc = posix_spawn(&pid, program, &actions, &attr, argv, environ)
        } else {
            rc = posix_spawnp(&pid, program, &actions, &attr, argv, environ)
        }
        guard rc == 0 else { throw SystemError("spawn \(program)", errno: rc) }
        self.pid = pid
        do {
            pidfd = try PIDFD.open(pid)
        } catch {
            // Without a pidfd we can still reap it; block only as long as the child lives.
            var status: Int32 = 0
            kill(-pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            throw error
        }
    }

    /// Waits for the exit, killing the process group after `timeout` seconds (nil: no limit).
    func wait(timeout: Double?) -> ScriptOutcome {
        let ms: Int32 = timeout.map { Int32(max(0, min($0 * 1000, Double(Int32.max)))) } ?? -1
        if !PIDFD.wait(pidfd, milliseconds: ms) {
            kill(-pid, SIGTERM)
            if !PIDFD.wait(pidfd, milliseconds: 200) { kill(-pid, SIGKILL) }
            _ = reap()
            return .timedOut
        }
        return reap()
    }

    private func reap() -> ScriptOutcome {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if Glibc.errno != EINTR { return .failedToStart(Glibc.errno) }
        }
        reaped = true
        if status & 0x7F == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(status & 0x7F)
    }

    deinit {
        if !reaped {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        close(pidfd)
    }

    /// Runs a script line to completion (or timeout). Never throws: a script that cannot start has failed.
    static func run(_ line: String, timeout: Double?) -> ScriptOutcome {
        run(arguments: words(line), timeout: timeout)
    }

    static func run(arguments: [String], timeout: Double?) -> ScriptOutcome {
        do {
            return try ChildProcess(arguments: arguments).wait(timeout: timeout)
        } catch let error as SystemError {
            return .failedToStart(error.errno)
        } catch {
            return .failedToStart(EINVAL)
        }
    }
}
