#if canImport(Glibc)
    import Glibc
#endif

/// Starting programs with posix_spawn so that a child inherits nothing but its three standard streams.
///
/// Why not Foundation's `Process` on Linux: to emulate close-on-exec it lists /proc/self/fd before each spawn,
/// and (Swift 6.3.1's swift-corelibs-foundation) that listing over-reads glibc's directory buffer and now and
/// then crashes the whole process (swiftlang/swift-corelibs-foundation#5472). It also leaks every descriptor
/// another thread opens between the listing and the spawn: a listening socket inherited that way keeps its
/// port bound for as long as the child lives. SwiftNIO's sockets are not close-on-exec, so in a daemon that
/// spawns scripts or other daemons, everything open at that moment would be inherited. Here glibc's
/// `posix_spawn_file_actions_addclosefrom_np` closes, in the child, every descriptor from 3 up at the moment
/// of the spawn: nothing is listed, nothing races.
public enum Spawn {
    /// Where a child's standard stream goes.
    public enum Stream: Sendable, Equatable {
        /// The parent's own stream.
        case inherit
        case null
        /// A file, created if needed; truncated, or appended to.
        case file(String, append: Bool = false)
        /// A descriptor the parent opened (a pipe's write end, say); the child gets a copy.
        case descriptor(Int32)
    }

    /// Why a program did not start.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let command: String
        public let errno: Int32

        public var description: String {
            "cannot start \(self.command): \(String(cString: strerror(self.errno)))"
        }
    }

    /// Starts `arguments[0]` (searched in PATH when it has no slash) with default signal handling and an
    /// empty signal mask (a daemon's ignored SIGTERM must not stay ignored in its children) and every
    /// descriptor from 3 up closed. The caller reaps it (`reap`, `reapIfExited`).
    /// - Parameter newProcessGroup: the child leads a process group of its own, so that killing `-pid`
    ///   also stops what it started.
    public static func start(
        _ arguments: [String], input: Stream = .null, output: Stream = .inherit, error: Stream = .inherit,
        newProcessGroup: Bool = false
    ) throws -> pid_t {
        let command = arguments.joined(separator: " ")
        guard let program = arguments.first else { throw Failure(command: "(empty command)", errno: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, stream) in [(STDIN_FILENO, input), (STDOUT_FILENO, output), (STDERR_FILENO, error)] {
            switch stream {
            case .inherit:
                break
            case .null:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
            case .file(let path, let append):
                let flags = fd == STDIN_FILENO ? O_RDONLY : O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o644)
            case .descriptor(let source):
                posix_spawn_file_actions_adddup2(&actions, source, fd)
            }
        }
        guard closeInheritedDescriptors(&actions) else { throw Failure(command: command, errno: ENOSYS) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code =
            program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, argv, environ)
            : posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        guard code == 0 else { throw Failure(command: command, errno: code) }
        return pid
    }

    /// Adds "close every descriptor from 3 up" to `actions` (glibc 2.34 and later); false if this glibc
    /// cannot, in which case nothing should be spawned with them.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) -> Bool {
        guard let addCloseFrom else { return false }
        return addCloseFrom(&actions, 3) == 0
    }

    /// `close_range(3, ~0, 0)` for a forked child (async-signal-safe: one system call through a pointer
    /// looked up before the fork). Nil if this glibc lacks it.
    public static let closeRange: (@convention(c) (UInt32, UInt32, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "close_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UInt32, UInt32, Int32) -> Int32).self)
    }()

    /// Looked up at run time: Swift's Glibc module does not import the `_np` extensions.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// `pipe2(O_CLOEXEC)`: a pipe that no other child inherits (not in Swift's Glibc module, which lacks
    /// _GNU_SOURCE). Returns (read end, write end).
    public static func closeOnExecPipe() throws -> (read: Int32, write: Int32) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else {
            throw Failure(command: "pipe2", errno: ENOSYS)
        }
        let pipe2 = unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32).self)
        var ends: [Int32] = [-1, -1]
        let result = ends.withUnsafeMutableBufferPointer { pipe2($0.baseAddress, O_CLOEXEC) }
        guard result == 0 else { throw Failure(command: "pipe2", errno: errno) }
        return (ends[0], ends[1])
    }

    /// Waits for a child and returns its exit status (128+signal when killed; -1 if it is not our child).
    @discardableResult
    public static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return decode(status)
    }

    /// Reaps a child if it has exited; nil while it runs.
    public static func reapIfExited(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return decode(status) }
        if result < 0 { return -1 }
        return nil
    }

    /// A wait status as a shell shows it: the exit code, or 128+signal.
    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }
}
