import Foundation
import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#endif

/// A process found in /proc.
public struct RunningProcess: Equatable, Sendable {
    public var pid: pid_t
    /// /proc/PID/comm: the kernel's name, at most 15 characters.
    public var name: String
    /// /proc/PID/cmdline split at NULs.
    public var arguments: [String]
}

/// How `vrrp_track_process` parameters are compared with a process's arguments (Keepalived's `param_match`).
public enum ParameterMatch: String, Sendable {
    /// All arguments after the program, exactly.
    case exact
    /// Same arguments, but the last configured one may be a prefix of the process's last one.
    case initial
    /// The configured arguments are the first ones of the process; further ones are ignored.
    case partial
}

/// Which processes a `vrrp_track_process` counts.
public struct ProcessPattern: Sendable, Equatable {
    public var name: String
    public var parameters: [String]
    public var match: ParameterMatch

    public init(name: String, parameters: [String] = [], match: ParameterMatch = .exact) {
        self.name = name
        self.parameters = parameters
        self.match = match
    }

    public func matches(_ p: RunningProcess) -> Bool {
        // Like Keepalived: names longer than the kernel's 15-character comm are compared with argv[0].
        let program = p.arguments.first.map { String($0.split(separator: "/").last ?? Substring($0)) }
        let nameMatches =
            name.count > 15
            ? (p.arguments.first == name || program == name)
            : (p.name == name || program == name || p.arguments.first == name)
        guard nameMatches else { return false }
        if parameters.isEmpty { return true }
        let args = Array(p.arguments.dropFirst())
        switch match {
        case .exact: return args == parameters
        case .initial:
            guard args.count == parameters.count, let last = parameters.last, let theirs = args.last else {
                return false
            }
            return args.dropLast() == parameters.dropLast() && theirs.hasPrefix(last)
        case .partial: return args.starts(with: parameters)
        }
    }
}

/// Lists processes by reading /proc (of the PID namespace this process sees).
public func scanProcesses() -> [RunningProcess] {
    guard let dir = opendir("/proc") else { return [] }
    defer { closedir(dir) }
    var out: [RunningProcess] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        guard let pid = pid_t(name), pid > 0 else { continue }
        guard let comm = readSmallFile("/proc/\(pid)/comm") else { continue }
        let cmdline = readSmallFile("/proc/\(pid)/cmdline") ?? ""
        var args = cmdline.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        if args.last == "" { args.removeLast() }
        out.append(RunningProcess(pid: pid, name: comm.trimmed(of: "\n"), arguments: args))
    }
    return out
}

/// A `vrrp_track_process`: counts the processes matching a pattern and reports when the count crosses the
/// quorum. Each matching process is held by a pidfd, so its exit (even SIGKILL) is seen at once, with no
/// netlink process connector (which does not work inside a network namespace). New processes are found by
/// rescanning /proc every `rescanInterval`.
public final class ProcessWatch: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var name: String
        public var pattern: ProcessPattern
        public var quorum: Int
        public var quorumMax: Int?
        /// Seconds the quorum must stay lost before the process counts as down (Keepalived's `delay`).
        public var delay: Double
        public var rescanInterval: Double

        public init(
            name: String, pattern: ProcessPattern, quorum: Int = 1, quorumMax: Int? = nil, delay: Double = 0,
            rescanInterval: Double = 0.5
        ) {
            self.name = name
            self.pattern = pattern
            self.quorum = max(1, quorum)
            self.quorumMax = quorumMax
            self.delay = delay
            self.rescanInterval = rescanInterval
        }
    }

    public let settings: Settings
    private let onChange: @Sendable (_ up: Bool, _ count: Int) -> Void
    private let thread = TrackerThread()
    private let lock = NSLock()
    private var _up = false
    private var _count = 0

    public init(_ settings: Settings, onChange: @escaping @Sendable (_ up: Bool, _ count: Int) -> Void) {
        self.settings = settings
        self.onChange = onChange
        let initial = scanProcesses().filter(settings.pattern.matches).count
        _count = initial
        _up = Self.isQuorate(initial, settings)
    }

    static func isQuorate(_ count: Int, _ s: Settings) -> Bool {
        count >= s.quorum && (s.quorumMax.map { count <= $0 } ?? true)
    }

    /// The state found at creation and kept up to date by the watch thread.
    public var isUp: Bool { lock.withLock { _up } }
    public var count: Int { lock.withLock { _count } }

    public func start() throws { try thread.start { [self] in loop($0) } }

    public func stop() { thread.stop() }

    private func loop(_ thread: WakeableThread) {
        var tracked: [pid_t: Int32] = [:]  // pid -> pidfd
        defer { tracked.values.forEach { close($0) } }
        var lostSince: Double?
        var nextScan = 0.0
        while !thread.isStopping {
            let now = monotonicSeconds()
            if now >= nextScan {
                for p in scanProcesses() where tracked[p.pid] == nil && settings.pattern.matches(p) {
                    guard let fd = try? PIDFD.open(p.pid) else { continue }
                    // A zombie (exited, not yet reaped by its parent) is still in /proc: not running.
                    if PIDFD.wait(fd, milliseconds: 0) { close(fd) } else { tracked[p.pid] = fd }
                }
                nextScan = now + settings.rescanInterval
            }
            let count = tracked.count
            let quorate = Self.isQuorate(count, settings)
            var report: Bool?
            lock.withLock {
                _count = count
                if quorate {
                    lostSince = nil
                    if !_up {
                        _up = true
                        report = true
                    }
                } else if _up {
                    let since = lostSince ?? now
                    lostSince = since
                    if now - since >= settings.delay {
                        _up = false
                        report = false
                    }
                }
            }
            if let report { onChange(report, count) }

            var deadline = nextScan
            if let lostSince, isUp { deadline = min(deadline, lostSince + settings.delay) }
            let pids = Array(tracked.keys)
            var pfds = pids.map { pollfd(fd: tracked[$0] ?? -1, events: Int16(POLLIN), revents: 0) }
            pfds.append(pollfd(fd: thread.wakeDescriptor, events: Int16(POLLIN), revents: 0))
            let ms = Int32(max(0, min((deadline - monotonicSeconds()) * 1000, 60_000)))
            let n = poll(&pfds, nfds_t(pfds.count), ms)
            if n <= 0 { continue }
            if pfds[pfds.count - 1].revents != 0 { return }
            for (i, pid) in pids.enumerated() where pfds[i].revents != 0 {
                if let fd = tracked.removeValue(forKey: pid) { close(fd) }
            }
        }
    }
}
