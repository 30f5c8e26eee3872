import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One lab at a time on a machine: the namespace names are global, so the lock is too. Held for the duration
/// of a command that changes the lab (up, drill, demo, down); released when the process exits, even on a crash.
public final class LabLock {
    public static let path = "/run/portico-lab.lock"
    private let fd: Int32

    /// Takes the lock, waiting at most `wait` seconds for another command to finish.
    public init(wait: Double = 0) throws {
        // O_CLOEXEC: a daemon started while we hold the lock must not inherit (and keep) it.
        let fd = open(Self.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LabError.io("could not open \(Self.path): \(String(cString: strerror(errno)))") }
        let deadline = Monotonic.now() + wait
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if Monotonic.now() >= deadline {
                close(fd)
                throw LabError.busy(Self.path)
            }
            Monotonic.sleep(0.1)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
