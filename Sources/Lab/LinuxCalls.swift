#if canImport(Glibc)
    import Glibc
#endif

/// Linux calls that Swift's Glibc module does not import (they sit behind _GNU_SOURCE), looked up at run time.
enum LinuxCalls {
    private typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32

    static let cloneNewNet: Int32 = 0x4000_0000

    private static let setnsFunction: SetNamespace? = dlsym(nil, "setns").map {
        unsafeBitCast($0, to: SetNamespace.self)
    }

    /// setns(2) for a network namespace: moves the calling thread only.
    static func enterNetworkNamespace(_ fd: Int32) -> Int32 {
        guard let setnsFunction else {
            errno = ENOSYS
            return -1
        }
        return setnsFunction(fd, cloneNewNet)
    }

}
