import Foundation
import Logging
import VRRPDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM/SIGINT for `portico lb`: the first one hands the VIP over, then starts the graceful stop; a second
/// one skips what is left of the handover.
final class BalancerStopSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var stopping = false

    init(handover: BalancerHandover, logger: Logger, stop: @escaping @Sendable () -> Void) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let first = self.lock.withLock { () -> Bool in
                    defer { self.stopping = true }
                    return !self.stopping
                }
                guard first else {
                    stop()
                    return
                }
                // A thread of its own: the handover blocks for up to a few advert intervals.
                Thread.detachNewThread {
                    if case .noDaemon(let why) = handover.handOverBeforeStop(logger: logger) {
                        logger.info("No VRRP daemon on this node (\(why)): plain graceful stop.")
                    }
                    stop()
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
