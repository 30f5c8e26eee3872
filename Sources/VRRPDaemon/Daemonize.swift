#if canImport(Glibc)
    import Glibc
#endif

/// Keepalived-style daemon mode without fork() in a multithreaded Swift process: the foreground process
/// starts a copy of itself in a new session (stdin/stdout on /dev/null) and exits; the copy knows it is the
/// daemon by an environment variable and writes the pid file.
public enum Daemonize {
    public static let childMarker = "PORTICO_VRRP_DAEMON"

    /// True in the re-executed daemon process.
    public static var isDaemonChild: Bool { getenv(childMarker) != nil }

    /// Starts `/proc/self/exe` with `arguments` detached; returns the daemon's pid.
    public static func respawnDetached(arguments: [String]) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, 0x80)  // POSIX_SPAWN_SETSID (glibc), not imported
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        // The daemon must not hold the caller's descriptors (a supervisor's pipe would never see EOF).
        for fd in openDescriptors() where fd > STDERR_FILENO {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        var exe = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &exe, exe.count - 1)
        guard n > 0 else { throw SystemError.last("readlink /proc/self/exe") }
        let path = String(decoding: exe[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var env: [UnsafeMutablePointer<CChar>?] = []
        var p = environ
        while let entry = p.pointee {
            env.append(strdup(entry))
            p += 1
        }
        env.append(strdup("\(childMarker)=1"))
        env.append(nil)
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, env)
        guard rc == 0 else { throw SystemError("spawn daemon \(path)", errno: rc) }
        return pid
    }

    static func openDescriptors() -> [Int32] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        var fds: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name) { fds.append(fd) }
        }
        let own = dirfd(dir)
        closedir(dir)
        return fds.filter { $0 != own }
    }

    /// Writes the pid file (`-p`), creating its directory.
    public static func writePidFile(_ path: String) throws {
        let directory = String(
            path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
        if !directory.isEmpty { mkdir(directory, 0o755) }
        // Written beside and renamed into place, so a reader never sees an empty file.
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError.last("open pid file \(temporary)") }
        writeAll(fd, Array("\(getpid())\n".utf8))
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = SystemError.last("rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
    }

    public static func removePidFile(_ path: String) {
        unlink(path)
    }
}

/// Sends one command to a running daemon's control socket (for `portico vrrp status` and `ctl`).
public func vrrpControlRequest(path: String, command: String, timeout: Double = 30) throws -> String {
    try ControlSocket.request(path: path, command: command, timeout: timeout)
}
