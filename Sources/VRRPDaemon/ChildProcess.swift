import KeepalivedConfig
import Spawning

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

/// A child process started with posix_spawn (or fork and execve, to run as another user), in its own process
/// group so a timeout kills what it started too.
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

    /// - Parameter identity: who runs it (`script_user`, `user`); nil runs it as the daemon itself, as before.
    init(arguments: [String], identity: ScriptIdentity? = nil) throws {
        guard !arguments.isEmpty else { throw SystemError("empty script", errno: EINVAL) }
        let pid: pid_t
        // The daemon's own user needs no change of user: posix_spawn, as for every script before script_user.
        if let identity, identity.uid != UInt32(geteuid()) || identity.gid != UInt32(getegid()) {
            pid = try Self.forkExec(arguments, as: identity)
        } else {
            pid = try Self.spawn(arguments)
        }
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

    /// Signals ignored by the daemon (swift-service-lifecycle ignores SIGTERM to catch it) must not stay
    /// ignored in scripts, or a timeout's SIGTERM would do nothing; nor may a script inherit the daemon's
    /// sockets (SwiftNIO's are not close-on-exec): a script that leaves something running behind it would keep
    /// them open. `Spawn` sees to both, as Keepalived does with close-on-exec descriptors.
    private static func spawn(_ arguments: [String]) throws -> pid_t {
        do {
            return try Spawn.start(arguments, input: .null, output: .null, error: .inherit, newProcessGroup: true)
        } catch let failure as Spawn.Failure {
            throw SystemError("spawn \(arguments[0])", errno: failure.errno)
        }
    }

    /// Starts a script as another user. posix_spawn cannot change the user, so this forks and, in the child, does
    /// only async-signal-safe system calls on memory prepared before the fork (another thread may hold the malloc
    /// or runtime locks at the moment of the fork): new process group, default signals, empty signal mask,
    /// /dev/null on stdin and stdout, then setgroups, setgid, setuid (in that order: setuid last, once nothing
    /// else needs root) and execve. Like Keepalived (`set_script_env()`), the supplementary groups become the
    /// script's group alone. A step that fails sends its errno up a close-on-exec pipe, so the caller sees the
    /// failure as it would see posix_spawn's.
    private static func forkExec(_ arguments: [String], as identity: ScriptIdentity) throws -> pid_t {
        // execve does not search PATH (execvp may allocate): find a bare name here.
        let program = try resolveProgram(arguments[0])
        let path = strdup(program)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let devNull = strdup("/dev/null")
        defer {
            free(path)
            argv.forEach { free($0) }
            free(devNull)
        }
        guard let path, let devNull, !argv.dropLast().contains(where: { $0 == nil }) else {
            throw SystemError("spawn \(program)", errno: ENOMEM)
        }
        guard let closeRange = Spawn.closeRange else { throw SystemError("close_range unavailable", errno: ENOSYS) }
        // Close-on-exec from the start: a script another thread spawns meanwhile must not inherit the pipe.
        let readEnd: Int32
        let writeEnd: Int32
        do {
            (readEnd, writeEnd) = try Spawn.closeOnExecPipe()
        } catch let failure as Spawn.Failure {
            throw SystemError("pipe2", errno: failure.errno)
        }
        // Every value the child uses is a plain local: no global (lazily initialised) is touched after the fork.
        let groups: [gid_t] = [identity.gid]
        let uid = uid_t(identity.uid)
        let gid = gid_t(identity.gid)
        // A pointer, not a captured `var`: no access tracking in the child.
        let emptyMask = UnsafeMutablePointer<sigset_t>.allocate(capacity: 1)
        defer { emptyMask.deallocate() }
        sigemptyset(emptyMask)
        let defaultAction = SIG_DFL
        let environment = environ
        let pid: pid_t = groups.withUnsafeBufferPointer { groupList in
            argv.withUnsafeBufferPointer { argvList in
                guard let argvBase = argvList.baseAddress, let groupBase = groupList.baseAddress else {
                    return -1
                }
                let pid = fork()
                guard pid == 0 else { return pid }
                // The child. Reports errno and exits; never returns.
                func fail(_ code: Int32) -> Never {
                    var error = Glibc.errno
                    _ = write(writeEnd, &error, MemoryLayout<Int32>.size)
                    _exit(code)
                }
                _ = setpgid(0, 0)
                var signalNumber: Int32 = 1
                while signalNumber < 65 {
                    if signalNumber != SIGKILL && signalNumber != SIGSTOP {
                        _ = signal(signalNumber, defaultAction)
                    }
                    signalNumber += 1
                }
                _ = sigprocmask(SIG_SETMASK, emptyMask, nil)
                let null = open(devNull, O_RDWR)
                if null < 0 { fail(126) }
                if dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 { fail(126) }
                if null > STDERR_FILENO { _ = close(null) }
                // Nothing of the daemon's but the standard streams and the report pipe (close-on-exec).
                _ = closeRange(3, UInt32(writeEnd) - 1, 0)
                _ = closeRange(UInt32(writeEnd) + 1, UInt32.max, 0)
                if setgroups(1, groupBase) != 0 { fail(126) }
                if setgid(gid) != 0 { fail(126) }
                if setuid(uid) != 0 { fail(126) }
                _ = execve(path, argvBase, environment)
                fail(127)
            }
        }
        close(writeEnd)
        defer { close(readEnd) }
        guard pid > 0 else { throw SystemError.last("fork") }
        // Nothing to read means execve succeeded (it closed the pipe); four bytes are the child's errno.
        var childError: Int32 = 0
        var count: Int
        repeat {
            count = read(readEnd, &childError, MemoryLayout<Int32>.size)
        } while count < 0 && Glibc.errno == EINTR
        guard count == MemoryLayout<Int32>.size else { return pid }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && Glibc.errno == EINTR {}
        throw SystemError("run \(program) as \(identity)", errno: childError)
    }

    /// A path for execve: as written when it has a slash, else the first executable regular file named so in PATH.
    static func resolveProgram(_ program: String) throws -> String {
        guard !program.contains("/") else { return program }
        let search = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in search.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0, UInt32(info.st_mode) & UInt32(S_IFMT) == UInt32(S_IFREG),
                access(candidate, X_OK) == 0
            {
                return candidate
            }
        }
        throw SystemError("spawn \(program): not found in PATH", errno: ENOENT)
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

    static func run(arguments: [String], identity: ScriptIdentity? = nil, timeout: Double?) -> ScriptOutcome {
        do {
            return try ChildProcess(arguments: arguments, identity: identity).wait(timeout: timeout)
        } catch let error as SystemError {
            return .failedToStart(error.errno)
        } catch {
            return .failedToStart(EINVAL)
        }
    }
}
