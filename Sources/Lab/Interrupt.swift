import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Ctrl-C (and SIGTERM) while the lab is being changed: stop starting things, take the lab down, exit.
public enum Interrupt {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var interrupted = false
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    public static var isInterrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return interrupted
    }

    /// Throws once an interrupt arrived, so loops and starts stop at their next step.
    static func check() throws {
        if isInterrupted { throw LabError.interrupted }
    }

    /// Installs handlers for SIGINT and SIGTERM that run `cleanup` once and exit with 130.
    public static func install(cleanup: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "portico.lab.interrupt")
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                lock.lock()
                let first = !interrupted
                interrupted = true
                lock.unlock()
                guard first else { return }
                FileHandle.standardError.write(Data("\ninterrupted: taking the lab down\n".utf8))
                // Let the main thread notice the flag before anything is removed under it.
                Monotonic.sleep(0.2)
                cleanup()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}
