#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One backend's server selection shared by every event loop, so that round robin is global:
/// three sequential requests go web01, web02, web01 whichever loop accepted them.
///
/// Why a lock and not a lock-free snapshot: a pick both reads and advances shared state (the rotation,
/// the connection counts that `maxconn`, `leastconn` and `first` depend on), and that read-modify-write
/// must be atomic across loops, or two loops pick the same "next" server. The critical section is one
/// O(log n) heap step (O(n) over a handful of servers for leastconn/first/random) with no allocation
/// on the round robin path. Measured (swiftc -O -wmo, one thread, this project's 2-core VM): a pick plus
/// its release, two lock/unlock pairs included, costs ~70 ns with 2 servers and ~95 ns with 32 under
/// roundrobin, ~140 ns for leastconn over 32. A plain pthread mutex is uncontended in practice and
/// cheaper than retry loops over atomics for a multi-word update.
/// Health and admin changes (`setUsable`, `setWeight`) take the same lock; they are rare.
public final class SharedBackendSelector: @unchecked Sendable {
    // @unchecked: every access to `selector` happens with `mutex` held.
    private var selector: BackendSelector
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ selector: BackendSelector) {
        self.selector = selector
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// See `BackendSelector.pick`. Every `.server` result must be matched by one `release`.
    public func pick(_ request: PickRequest = PickRequest()) -> Pick {
        locked { $0.pick(request) }
    }

    public func release(_ index: Int) {
        locked { $0.release(index) }
    }

    public func setUsable(_ index: Int, _ usable: Bool) {
        locked { $0.setUsable(index, usable) }
    }

    /// Effective weight (configured × 16), as `BackendAction.setWeight` carries it.
    public func setWeight(_ index: Int, _ weight: Int) {
        locked { $0.setWeight(index, weight) }
    }

    /// A copy of the slots (for the stats page and `show servers state`).
    public var servers: [ServerSlot] {
        locked { $0.servers }
    }

    public func index(of name: String) -> Int? {
        locked { $0.index(of: name) }
    }

    private func locked<Result>(_ body: (inout BackendSelector) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&selector)
    }
}
