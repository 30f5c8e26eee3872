import KeepalivedConfig
import VRRPCore

#if canImport(Glibc)
    import Glibc
#endif

/// Sleeps on a dedicated thread that `stop()` can wake at once.
final class WakeableThread: @unchecked Sendable {
    private let wake: (read: Int32, write: Int32)
    private var thread: pthread_t?
    private var body: ((WakeableThread) -> Void)?
    private(set) var isStopping = false

    init() throws {
        var fds: [Int32] = [0, 0]
        try makeWakePipe(&fds)
        wake = (fds[0], fds[1])
    }

    var wakeDescriptor: Int32 { wake.read }

    func start(_ body: @escaping (WakeableThread) -> Void) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { arg in
                guard let arg else { return nil }
                let me = Unmanaged<WakeableThread>.fromOpaque(arg).takeRetainedValue()
                me.body?(me)
                me.body = nil
                return nil
            }, unmanaged.toOpaque())
        if rc == 0 { thread = tid } else { unmanaged.release() }
    }

    /// Sleeps up to `seconds`; false if woken to stop.
    func sleep(_ seconds: Double) -> Bool {
        var pfd = pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, min(seconds * 1000, 86_400_000)))
        _ = poll(&pfd, 1, ms)
        return !isStopping
    }

    func stop() {
        isStopping = true
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        if let thread, pthread_equal(thread, pthread_self()) == 0 {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }
}

/// A `vrrp_script`: run every `interval` seconds, killed after `timeout`; results are counted with Keepalived's
/// rise/fall accounting (`VRRPCore.ScriptCheckState`). One run at a time: a slow script delays the next run
/// instead of piling up.
public final class ScriptCheck: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var name: String
        public var script: String
        public var interval: Double
        public var timeout: Double
        public var fall: Int
        public var rise: Int
        public var initFail: Bool

        public init(
            name: String, script: String, interval: Double = 1, timeout: Double? = nil, fall: Int = 1, rise: Int = 1,
            initFail: Bool = false
        ) {
            self.name = name
            self.script = script
            self.interval = interval
            // Keepalived: a script without a timeout may run for one interval.
            self.timeout = timeout ?? interval
            self.fall = max(1, fall)
            self.rise = max(1, rise)
            self.initFail = initFail
        }
    }

    public let settings: Settings
    private let arguments: [String]
    private let onChange: @Sendable (_ good: Bool, _ outcome: ScriptOutcome) -> Void
    private var thread: WakeableThread?
    private var lock = pthread_mutex_t()
    private var _good: Bool
    private var accounting: ScriptCheckState
    private var _lastOutcome: ScriptOutcome?
    private var _runs = 0

    /// - Parameter onChange: called on the check's thread when the script's state changes.
    /// - Parameter arguments: the command already split into words (from the config); default: split `script`.
    public init(
        _ settings: Settings, arguments: [String]? = nil,
        onChange: @escaping @Sendable (_ good: Bool, _ outcome: ScriptOutcome) -> Void
    ) {
        self.settings = settings
        self.arguments = arguments ?? ChildProcess.words(settings.script)
        self.onChange = onChange
        _good = !settings.initFail
        accounting = ScriptCheckState(rise: settings.rise, fall: settings.fall, initFail: settings.initFail)
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    public var isGood: Bool { locked { _good } }
    public var lastOutcome: ScriptOutcome? { locked { _lastOutcome } }
    public var runs: Int { locked { _runs } }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return body()
    }

    public func start() throws {
        let thread = try WakeableThread()
        self.thread = thread
        thread.start { [self] t in loop(t) }
    }

    public func stop() {
        thread?.stop()
        thread = nil
    }

    private func loop(_ thread: WakeableThread) {
        while !thread.isStopping {
            let started = monotonicSeconds()
            let outcome = ChildProcess.run(arguments: arguments, timeout: settings.timeout)
            if thread.isStopping { return }
            let change: Bool? = locked {
                _runs += 1
                _lastOutcome = outcome
                let change = accounting.record(success: outcome.succeeded)
                if let change { _good = change }
                return change
            }
            if let change { onChange(change, outcome) }
            let next = started + settings.interval
            if !thread.sleep(next - monotonicSeconds()) { return }
        }
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
