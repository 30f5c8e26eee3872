#if canImport(Glibc)
import Glibc
#endif
import HAProxyConfig
import Logging
import NIOPosix

/// Applies `global cpu-map` to the event loop threads: loop i is HAProxy thread i + 1.
///
/// Like HAProxy 2.6 (which calls pthread_setaffinity_np for each thread and ignores the result), a CPU outside the
/// mask the process started with (e.g. under `taskset`) is not refused: the kernel lets a thread widen its own mask
/// unless a cgroup cpuset forbids it. Unlike HAProxy, every outcome that differs from the configuration is logged.
enum CPUPinning {
    /// Pins every loop that has a `cpu-map` entry; returns once all are pinned (before any listener binds).
    static func apply(_ cpuMap: CPUMap, to group: MultiThreadedEventLoopGroup, logger: Logger) {
        guard !cpuMap.isEmpty else { return }
        let started = ThreadAffinity.current() ?? []
        var pinned: [String] = []
        for (index, loop) in group.makeIterator().enumerated() {
            let thread = index + 1
            guard let cpus = cpuMap.cpus(forLoop: index) else {
                logger.notice("cpu-map: thread \(thread) has no cpu-map entry; it is not pinned.")
                continue
            }
            let result: Result<Set<Int>, ThreadAffinity.Failure>
            do {
                result = try loop.submit { ThreadAffinity.pinCallingThread(to: cpus) }.wait()
            } catch {
                result = .failure(ThreadAffinity.Failure(errno: 0, reason: "the event loop did not run: \(error)"))
            }
            let prefix = cpuMap.sources[thread].map { "cpu-map (\($0))" } ?? "cpu-map"
            if case .success(let applied) = result { pinned.append("\(thread)->\(CPUMap.describe(applied))") }
            let messages = report(
                prefix: prefix, thread: thread, requested: cpus, outcome: result, started: started)
            for (level, message) in messages {
                logger.log(level: level, "\(message)")
            }
        }
        if !pinned.isEmpty {
            logger.notice("cpu-map: event loop threads pinned (thread->CPUs): \(pinned.joined(separator: " ")).")
        }
    }

    /// What to tell the operator about one thread: pure, so each case is tested without touching affinity.
    static func report(
        prefix: String, thread: Int, requested: Set<Int>, outcome: Result<Set<Int>, ThreadAffinity.Failure>,
        started: Set<Int>
    ) -> [(Logger.Level, String)] {
        let wanted = CPUMap.describe(requested)
        switch outcome {
        case .failure(let failure):
            return [
                (
                    .error,
                    "\(prefix): thread \(thread) could not be pinned to \(noun("CPU", requested.count)) \(wanted)"
                        + " (\(failure.reason)); it keeps running on CPUs \(CPUMap.describe(started))."
                )
            ]
        case .success(let applied):
            var messages: [(Logger.Level, String)] = [
                (
                    .info,
                    "\(prefix): thread \(thread) pinned to \(noun("CPU", applied.count)) \(CPUMap.describe(applied))."
                )
            ]
            let missing = requested.subtracting(applied)
            if !missing.isEmpty {
                messages.append(
                    (
                        .warning,
                        "\(prefix): thread \(thread) asked for CPUs \(wanted) but \(noun("CPU", missing.count)) "
                            + "\(CPUMap.describe(missing)) \(missing.count == 1 ? "is" : "are") not available to this "
                            + "process (absent, offline or outside its cpuset); it runs on \(CPUMap.describe(applied))."
                    ))
            }
            let outside = applied.subtracting(started)
            if !started.isEmpty, !outside.isEmpty {
                messages.append(
                    (
                        .warning,
                        "\(prefix): thread \(thread) runs on \(noun("CPU", outside.count)) "
                            + "\(CPUMap.describe(outside)), outside the CPUs the process was started on "
                            + "(\(CPUMap.describe(started)), e.g. by taskset); cpu-map takes precedence, as in HAProxy."
                    ))
            }
            return messages
        }
    }
}

/// The calling thread's CPU affinity (sched_setaffinity/sched_getaffinity with pid 0).
enum ThreadAffinity {
    struct Failure: Error, Equatable {
        var errno: Int32
        var reason: String
    }

    /// A 1024-CPU mask, the size of glibc's cpu_set_t and of HAProxy's CPU numbering.
    private static let words = 16

    private typealias AffinityCall = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32

    /// Swift's Glibc module does not import the _GNU_SOURCE declarations; look the functions up in libc instead.
    private static let setAffinity: AffinityCall? = lookUp("sched_setaffinity")
    private static let getAffinity: AffinityCall? = lookUp("sched_getaffinity")

    private static func lookUp(_ name: String) -> AffinityCall? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: AffinityCall.self)
        #else
        return nil
        #endif
    }

    /// The CPUs the calling thread may run on, or nil if the kernel does not say.
    static func current() -> Set<Int>? {
        guard let getAffinity else { return nil }
        var mask = [UInt64](repeating: 0, count: words)
        let result = mask.withUnsafeMutableBytes { bytes in
            bytes.baseAddress.map { getAffinity(0, bytes.count, $0) } ?? -1
        }
        guard result == 0 else { return nil }
        return cpus(in: mask)
    }

    /// Restricts the calling thread to `cpus`; returns the mask the kernel actually applied.
    static func pinCallingThread(to cpus: Set<Int>) -> Result<Set<Int>, Failure> {
        guard let setAffinity else {
            return .failure(Failure(errno: 0, reason: "sched_setaffinity is not available on this system"))
        }
        var mask = [UInt64](repeating: 0, count: words)
        for cpu in cpus where cpu >= 0 && cpu < words * 64 {
            mask[cpu / 64] |= 1 << UInt64(cpu % 64)
        }
        let result = mask.withUnsafeMutableBytes { bytes in
            bytes.baseAddress.map { setAffinity(0, bytes.count, $0) } ?? -1
        }
        guard result == 0 else {
            let code = errno
            let reason =
                code == EINVAL
                ? "none of them is available to this process: absent, offline or outside its cpuset"
                : String(cString: strerror(code))
            return .failure(Failure(errno: code, reason: reason))
        }
        return .success(current() ?? cpus)
    }

    private static func cpus(in mask: [UInt64]) -> Set<Int> {
        var set = Set<Int>()
        for (index, word) in mask.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                set.insert(index * 64 + bit)
            }
        }
        return set
    }
}
