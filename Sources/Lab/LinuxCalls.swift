#if canImport(Glibc)
    import Glibc
#endif

/// Linux calls that Swift's Glibc module does not import (they sit behind _GNU_SOURCE), looked up at run time.
enum LinuxCalls {
    private typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let cloneNewNet: Int32 = 0x4000_0000

    private static let setnsFunction: SetNamespace? = dlsym(nil, "setns").map {
        unsafeBitCast($0, to: SetNamespace.self)
    }
    private static let pipe2Function: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// setns(2) for a network namespace: moves the calling thread only.
    static func enterNetworkNamespace(_ fd: Int32) -> Int32 {
        guard let setnsFunction else {
            errno = ENOSYS
            return -1
        }
        return setnsFunction(fd, cloneNewNet)
    }

    /// pipe2(2) with O_CLOEXEC, so children spawned by other threads never inherit our pipe ends.
    static func closeOnExecPipe(_ fds: inout [Int32]) -> Int32 {
        guard let pipe2Function else {
            errno = ENOSYS
            return -1
        }
        return fds.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return -1 }
            return pipe2Function(base, O_CLOEXEC)
        }
    }
}
