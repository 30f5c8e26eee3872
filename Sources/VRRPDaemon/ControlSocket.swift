#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's local control socket (a unix stream socket): one command line in, one answer out.
/// Commands: `status`, `failover [INSTANCE]`, `resume [INSTANCE]`. Used by `portico vrrp status`,
/// `portico vrrp ctl ...` and by `portico lb` to hand the VIP over before it stops (issue 6).
final class ControlSocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private var thread: ReadinessThread?

    /// - Parameter handle: gets the command line, returns the answer; runs on a thread of its own per client.
    init(path: String, handle: @escaping @Sendable (String) -> String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket(AF_UNIX)") }
        let abstract = isAbstractSocketName(path)
        if !abstract {
            let directory = String(
                path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
            if !directory.isEmpty { mkdir(directory, 0o755) }
            // A socket file left by a crashed daemon would make bind fail; a live daemon would still answer.
            if (try? ControlSocket.request(path: path, command: "ping", timeout: 0.5)) == nil { unlink(path) }
        }
        var (addr, length) = try unixAddress(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else {
            let error = SystemError.last("bind control socket \(path)")
            close(fd)
            throw error
        }
        if !abstract { chmod(path, 0o600) }
        guard listen(fd, 16) == 0 else {
            let error = SystemError.last("listen \(path)")
            close(fd)
            throw error
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let listener = fd
        thread = try ReadinessThread(fd: fd, name: "vrrp-control") {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                runDetached { ControlSocket.serve(client, handle) }
            }
        }
        thread?.start()
    }

    private static func serve(_ client: Int32, _ handle: (String) -> String) {
        defer { close(client) }
        // An abstract socket has no file mode: only our own user (or root) may command the daemon.
        guard peerMayControl(client) else { return }
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) & ~O_NONBLOCK)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 1024, read(client, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        let answer = handle(String(decoding: line, as: UTF8.self).trimmed(of: " \r\t")) + "\n"
        writeAll(client, Array(answer.utf8))
    }

    func stop() {
        thread?.stop()
        thread = nil
        close(fd)
        if !isAbstractSocketName(path) { unlink(path) }
    }

    /// Sends one command to a daemon's control socket and returns its answer.
    static func request(path: String, command: String, timeout: Double) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket(AF_UNIX)") }
        defer { close(fd) }
        var (addr, length) = try unixAddress(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 else { throw SystemError.last("connect \(path)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        writeAll(fd, Array((command + "\n").utf8))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && Glibc.errno == EINTR { continue }
            if n < 0 { throw SystemError.last("read \(path)") }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self).trimmed(of: "\n")
    }
}

/// `@name` is a Linux abstract socket: no file, and one namespace of names per network namespace, so each
/// node (each netns) has its own `@portico-vrrp` that its balancer finds without configuration.
func isAbstractSocketName(_ path: String) -> Bool { path.hasPrefix("@") }

private func unixAddress(_ path: String) throws -> (sockaddr_un, socklen_t) {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let abstract = isAbstractSocketName(path)
    // An abstract name starts with a NUL byte and its length is exact (no terminating NUL).
    let bytes = abstract ? [0] + Array(path.utf8.dropFirst()) : Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: addr.sun_path)
    guard bytes.count < capacity else {
        throw SystemError("control socket path too long: \(path)", errno: ENAMETOOLONG)
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
        raw[bytes.count] = 0
    }
    let header = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
    let length = abstract ? header + bytes.count : MemoryLayout<sockaddr_un>.size
    return (addr, socklen_t(length))
}

/// True when the connecting process runs as root or as this daemon's user.
private func peerMayControl(_ client: Int32) -> Bool {
    // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (Glibc hides the type without _GNU_SOURCE).
    var credentials: (Int32, UInt32, UInt32) = (0, 0, 0)
    var size = socklen_t(MemoryLayout.size(ofValue: credentials))
    guard getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 else { return false }
    return credentials.1 == 0 || credentials.1 == geteuid()
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && Glibc.errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
