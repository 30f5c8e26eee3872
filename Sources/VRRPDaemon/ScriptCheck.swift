import Foundation
import KeepalivedConfig
import VRRPCore

#if canImport(Glibc)
    import Glibc
#endif

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
        /// Who runs the script (`user`, `script_user`); nil: the daemon's own user.
        public var identity: ScriptIdentity?

        public init(
            name: String, script: String, interval: Double = 1, timeout: Double? = nil, fall: Int = 1, rise: Int = 1,
            initFail: Bool = false, identity: ScriptIdentity? = nil
        ) {
            self.name = name
            self.script = script
            self.interval = interval
            // Keepalived: a script without a timeout may run for one interval.
            self.timeout = timeout ?? interval
            self.fall = max(1, fall)
            self.rise = max(1, rise)
            self.initFail = initFail
            self.identity = identity
        }
    }

    public let settings: Settings
    private let arguments: [String]
    private let onChange: @Sendable (_ good: Bool, _ outcome: ScriptOutcome) -> Void
    private let thread = TrackerThread()
    private let lock = NSLock()
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
    }

    public var isGood: Bool { lock.withLock { _good } }
    public var lastOutcome: ScriptOutcome? { lock.withLock { _lastOutcome } }
    public var runs: Int { lock.withLock { _runs } }

    public func start() throws { try thread.start { [self] in loop($0) } }

    public func stop() { thread.stop() }

    private func loop(_ thread: WakeableThread) {
        while !thread.isStopping {
            let started = monotonicSeconds()
            let outcome = ChildProcess.run(
                arguments: arguments, identity: settings.identity, timeout: settings.timeout)
            if thread.isStopping { return }
            let change: Bool? = lock.withLock {
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
