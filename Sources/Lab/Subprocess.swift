import Foundation
import Spawning

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

/// Runs programs with posix_spawn (`Spawn`): daemons inherit nothing but their log file, not even the
/// lab's SwiftNIO sockets, which are not close-on-exec (a leaked lock descriptor would keep the lab locked
/// forever).
enum Subprocess {
    /// Runs a command to completion, capturing its output; killed after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 10) throws -> CommandResult {
        let completion: Spawn.Completion?
        do {
            completion = try Spawn.run(arguments, timeout: timeout)
        } catch let failure as Spawn.Failure {
            throw LabError.spawnFailed(command: arguments.joined(separator: " "), errno: failure.errno)
        }
        guard let completion else {
            throw LabError.commandTimedOut(command: arguments.joined(separator: " "), seconds: timeout)
        }
        return CommandResult(
            status: completion.status,
            output: String(decoding: completion.output, as: UTF8.self),
            errorOutput: String(decoding: completion.errorOutput, as: UTF8.self)
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
        try spawn(arguments, output: .file(outputPath), error: .file(errorPath, append: true))
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
    static func reap(_ pid: pid_t) -> Int32 { Spawn.reap(pid) }

    /// Reaps a child if it has exited; nil while it runs.
    static func reapIfExited(_ pid: pid_t) -> Int32? { Spawn.reapIfExited(pid) }

    /// Default signals and an empty mask in the child (the lab ignores SIGINT while it cleans up), and no
    /// descriptor but the three standard ones.
    private static func spawn(_ arguments: [String], output: Spawn.Stream, error: Spawn.Stream) throws -> pid_t {
        do {
            return try Spawn.start(arguments, input: .null, output: output, error: error)
        } catch let failure as Spawn.Failure {
            throw LabError.spawnFailed(command: arguments.joined(separator: " "), errno: failure.errno)
        }
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
