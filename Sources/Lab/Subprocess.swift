import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of a short command the lab ran to completion.
public struct CommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var errorOutput: String

    public var succeeded: Bool { status == 0 }
}

/// Runs programs with posix_spawn. The lab's own file descriptors are all close-on-exec, so daemons
/// inherit nothing but their log file (a leaked lock descriptor would keep the lab locked forever).
enum Subprocess {
    /// Runs a command to completion, capturing its output; killed after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 10) throws -> CommandResult {
        let rendered = arguments.joined(separator: " ")
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard LinuxCalls.closeOnExecPipe(&outPipe) == 0, LinuxCalls.closeOnExecPipe(&errPipe) == 0 else {
            throw LabError.spawnFailed(command: rendered, errno: errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let pid: pid_t
        do {
            pid = try spawn(arguments, actions: &actions)
        } catch {
            for fd in outPipe + errPipe { close(fd) }
            throw error
        }
        close(outPipe[1])
        close(errPipe[1])
        defer {
            close(outPipe[0])
            close(errPipe[0])
        }
        let deadline = Date().addingTimeInterval(timeout)
        var out = [UInt8]()
        var err = [UInt8]()
        var open: [Int32] = [outPipe[0], errPipe[0]]
        var timedOut = false
        while !open.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == outPipe[0] {
                        out.append(contentsOf: buffer[0..<count])
                    } else {
                        err.append(contentsOf: buffer[0..<count])
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if timedOut {
            kill(pid, SIGKILL)
            _ = reap(pid)
            throw LabError.commandTimedOut(command: rendered, seconds: timeout)
        }
        // Its output is closed, but the process may linger: the wait is bounded by the same deadline.
        var exited = reapIfExited(pid)
        while exited == nil && deadline.timeIntervalSinceNow > 0 {
            Monotonic.sleep(0.005)
            exited = reapIfExited(pid)
        }
        guard let status = exited else {
            kill(pid, SIGKILL)
            _ = reap(pid)
            throw LabError.commandTimedOut(command: rendered, seconds: timeout)
        }
        return CommandResult(
            status: status,
            output: String(decoding: out, as: UTF8.self),
            errorOutput: String(decoding: err, as: UTF8.self)
        )
    }

    /// Runs a command and throws with its output when it fails.
    @discardableResult
    static func check(_ arguments: [String], timeout: Double = 10) throws -> String {
        let result = try run(arguments, timeout: timeout)
        guard result.succeeded else {
            throw LabError.commandFailed(
                command: arguments.joined(separator: " "),
                status: result.status,
                output: result.errorOutput + result.output
            )
        }
        return result.output
    }

    /// Starts a child with stdout to `outputPath` and stderr appended to `errorPath`. The caller reaps it.
    static func start(_ arguments: [String], outputPath: String, errorPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        return try spawn(arguments, actions: &actions)
    }

    /// Starts a daemon that outlives this process: in its own session (a Ctrl-C meant for `portico lab`
    /// does not reach it), not our child (the shell that forks it exits at once), output appended to
    /// `logPath`. Returns its pid: `setsid` and `ip netns exec` exec in place, so it is the daemon's own.
    static func startDetached(_ arguments: [String], logPath: String) throws -> pid_t {
        let script = "log=$1; shift; setsid \"$@\" </dev/null >>\"$log\" 2>&1 & echo $!"
        let output = try check(["/bin/sh", "-c", script, "sh", logPath] + arguments, timeout: 5)
        guard let pid = pid_t(output.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
            throw LabError.io("could not read the pid of `\(arguments.joined(separator: " "))`: \(output)")
        }
        return pid
    }

    /// Waits for a child and returns its exit status (128+signal when killed).
    @discardableResult
    static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return decode(status)
    }

    /// Reaps a child if it has exited; nil while it runs.
    static func reapIfExited(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return decode(status) }
        if result < 0 { return -1 }
        return nil
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    private static func spawn(_ arguments: [String], actions: inout posix_spawn_file_actions_t) throws -> pid_t {
        guard let program = arguments.first else {
            throw LabError.io("empty command")
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A child must not inherit our ignored or blocked signals (the lab ignores SIGINT while it cleans up).
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let code = posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        guard code == 0 else {
            throw LabError.spawnFailed(command: arguments.joined(separator: " "), errno: code)
        }
        return pid
    }
}

/// Process facts read from /proc, which (unlike `pidof`) can be tied to one namespace.
enum ProcessTable {
    /// True while the process exists and is not a zombie (an exited daemon nobody reaped still answers `kill -0`).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
            return false
        }
        guard let close = stat.lastIndex(of: ")") else { return false }
        let rest = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces)
        return !(rest.hasPrefix("Z") || rest.hasPrefix("X"))
    }

    /// The command line of a process, arguments joined by spaces.
    static func commandLine(_ pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
            return nil
        }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
    }
}
