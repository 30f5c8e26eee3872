// Copied into a module by scripts/tsan.sh for the duration of a ThreadSanitizer run, never committed there.
//
// Synchronization.Mutex locks with a futex on Linux, which ThreadSanitizer cannot see: every value it protects
// that two threads touch is then reported as a race, real or not (a two-thread counter under a Mutex is enough to
// show it). This type shadows it inside the module (the module's own declaration wins over the imported one),
// with a pthread mutex, which ThreadSanitizer intercepts, so its reports are about real races only.
import Glibc

final class Mutex<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Behind a pointer rather than a stored property: a zero-sized value (`Mutex(())`) would otherwise alias the
    /// next object's memory in TSan's access checks.
    private let value: UnsafeMutablePointer<Value>

    init(_ value: Value) {
        self.mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        self.mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(self.mutex, nil)
        self.value = UnsafeMutablePointer<Value>.allocate(capacity: 1)
        self.value.initialize(to: value)
    }

    deinit {
        pthread_mutex_destroy(self.mutex)
        self.mutex.deallocate()
        self.value.deinitialize(count: 1)
        self.value.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return try body(&self.value.pointee)
    }
}
