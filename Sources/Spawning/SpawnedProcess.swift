#if canImport(Glibc)
    import Glibc
#endif

/// A child started with `Spawn.start` that this process reaps: whether it still runs, how it ended.
public final class SpawnedProcess: @unchecked Sendable {
    // @unchecked: `status` is only read and written under `lock`.
    public let pid: pid_t
    private var lock = pthread_mutex_t()
    private var status: Int32?

    public init(
        _ arguments: [String], input: Spawn.Stream = .null, output: Spawn.Stream = .inherit,
        error: Spawn.Stream = .inherit, newProcessGroup: Bool = false
    ) throws {
        self.pid = try Spawn.start(
            arguments, input: input, output: output, error: error, newProcessGroup: newProcessGroup)
        pthread_mutex_init(&self.lock, nil)
    }

    deinit {
        pthread_mutex_destroy(&self.lock)
    }

    /// The exit status (128+signal when killed), once it has ended; nil while it runs. Reaps it.
    public var exitStatus: Int32? {
        pthread_mutex_lock(&self.lock)
        defer { pthread_mutex_unlock(&self.lock) }
        if self.status == nil { self.status = Spawn.reapIfExited(self.pid) }
        return self.status
    }

    public var isRunning: Bool { self.exitStatus == nil }

    public func signal(_ number: Int32) {
        if self.isRunning { kill(self.pid, number) }
    }

    /// Waits, polling every 10 ms, until it ends or `seconds` pass; its exit status, or nil if it still runs.
    @discardableResult
    public func wait(seconds: Double) -> Int32? {
        let deadline = Spawn.monotonicSeconds() + seconds
        while self.isRunning, Spawn.monotonicSeconds() < deadline {
            usleep(10_000)
        }
        return self.exitStatus
    }

    /// Waits for the end, however long it takes.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        while true {
            if let status = self.exitStatus { return status }
            usleep(5_000)
        }
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace` seconds; reaps it.
    public func stop(grace: Double = 5) {
        self.signal(SIGTERM)
        if self.wait(seconds: grace) == nil {
            self.signal(SIGKILL)
            self.waitUntilExit()
        }
    }

    /// Runs a command to its end with standard output and error in one capture; killed after `timeout` seconds
    /// (status 128+SIGKILL then).
    public static func run(_ arguments: [String], timeout: Double = 30) throws -> (status: Int32, output: String) {
        guard let completion = try Spawn.run(arguments, timeout: timeout, mergingErrors: true) else {
            return (128 + SIGKILL, "")
        }
        return (completion.status, String(decoding: completion.output, as: UTF8.self))
    }
}
