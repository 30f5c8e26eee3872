import KeepalivedConfig
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Runs an instance's notify scripts on state changes, with Keepalived's arguments: `notify` gets
/// `INSTANCE NAME STATE PRIORITY`, `notify_master` / `notify_backup` / `notify_fault` / `notify_stop` get
/// none beyond what the operator wrote. Scripts run in the background and are reaped; a slow script never
/// delays the protocol.
public struct Notifier: Sendable {
    public enum NotifiedState: String, Sendable {
        case master = "MASTER"
        case backup = "BACKUP"
        case fault = "FAULT"
        case stop = "STOP"
    }

    public var instance: String
    public var scripts: NotifyScripts
    public var logger: Logger

    public init(instance: String, scripts: NotifyScripts, logger: Logger) {
        self.instance = instance
        self.scripts = scripts
        self.logger = logger
    }

    /// The command lines to run for a state, in Keepalived's order (the specific script, then `notify`).
    public func commands(for state: NotifiedState, priority: Int) -> [[String]] {
        runs(for: state, priority: priority).map(\.command)
    }

    /// The command lines with who runs each (`NotifyScript.runAs`; nil: the daemon's own user).
    func runs(for state: NotifiedState, priority: Int) -> [(command: [String], identity: ScriptIdentity?)] {
        var out: [(command: [String], identity: ScriptIdentity?)] = []
        let specific: NotifyScript?
        switch state {
        case .master: specific = scripts.master
        case .backup: specific = scripts.backup
        case .fault: specific = scripts.fault
        case .stop: specific = scripts.stop
        }
        if let specific { out.append((specific.command, specific.runAs)) }
        if let any = scripts.any {
            out.append((any.command + ["INSTANCE", instance, state.rawValue, String(priority)], any.runAs))
        }
        return out
    }

    /// Starts the scripts and returns at once.
    public func notify(_ state: NotifiedState, priority: Int) {
        for (command, identity) in runs(for: state, priority: priority) {
            let logger = logger
            let instance = instance
            runDetached {
                let outcome = ChildProcess.run(arguments: command, identity: identity, timeout: nil)
                if !outcome.succeeded {
                    logger.warning("(\(instance)) notify script \(command.joined(separator: " ")) \(outcome)")
                }
            }
        }
    }

    /// Like `notify`, but waits for the scripts (bounded): `notify_stop` must finish before the daemon exits.
    public func notifyAndWait(_ state: NotifiedState, priority: Int, timeout: Double = 5) {
        for (command, identity) in runs(for: state, priority: priority) {
            _ = ChildProcess.run(arguments: command, identity: identity, timeout: timeout)
        }
    }
}

/// Runs a closure on a new detached thread (for blocking waits that must not occupy the concurrency pool).
func runDetached(_ body: @escaping () -> Void) {
    final class Box {
        let body: () -> Void
        init(_ b: @escaping () -> Void) { body = b }
    }
    let box = Unmanaged.passRetained(Box(body))
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    defer { pthread_attr_destroy(&attr) }
    var tid = pthread_t()
    let rc = pthread_create(
        &tid, &attr,
        { arg in
            guard let arg else { return nil }
            Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
    if rc != 0 {
        box.takeRetainedValue().body()
    }
}
