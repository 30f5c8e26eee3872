import KeepalivedConfig
import Logging

#if canImport(Glibc)
    import Glibc
#endif

extension ScriptAccounts {
    /// This machine's user database (`getpwnam_r`, `getgrnam_r`, so NSS sources count too) and the daemon's own
    /// effective user and group.
    public static var system: ScriptAccounts {
        let uid = geteuid()
        let gid = getegid()
        let name = userName(uid) ?? "uid \(uid)"
        return ScriptAccounts(
            user: { name in
                withLookupBuffer { buffer in
                    guard let base = buffer.baseAddress else { return .done(nil) }
                    var entry = passwd()
                    var found: UnsafeMutablePointer<passwd>?
                    let rc = getpwnam_r(name, &entry, base, buffer.count, &found)
                    guard rc != ERANGE else { return .retry }
                    guard rc == 0, found != nil else { return .done(nil) }
                    return .done((uid: UInt32(entry.pw_uid), gid: UInt32(entry.pw_gid)))
                } ?? nil
            },
            group: { name in
                withLookupBuffer { buffer in
                    guard let base = buffer.baseAddress else { return .done(nil) }
                    var entry = Glibc.group()
                    var found: UnsafeMutablePointer<Glibc.group>?
                    let rc = getgrnam_r(name, &entry, base, buffer.count, &found)
                    guard rc != ERANGE else { return .retry }
                    guard rc == 0, found != nil else { return .done(nil) }
                    return .done(UInt32(entry.gr_gid))
                } ?? nil
            },
            daemon: ScriptIdentity(user: name, uid: UInt32(uid), gid: UInt32(gid)))
    }

    private static func userName(_ uid: uid_t) -> String? {
        withLookupBuffer { buffer in
            guard let base = buffer.baseAddress else { return .done(nil) }
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            let rc = getpwuid_r(uid, &entry, base, buffer.count, &found)
            guard rc != ERANGE else { return .retry }
            guard rc == 0, found != nil, let name = entry.pw_name else { return .done(nil) }
            return .done(String(cString: name))
        } ?? nil
    }
}

private enum LookupStep<Value> {
    case done(Value)
    /// The buffer was too small (ERANGE).
    case retry
}

/// Runs a `get*_r` lookup with a buffer that grows on ERANGE, a bounded number of times.
private func withLookupBuffer<Value>(_ body: (UnsafeMutableBufferPointer<CChar>) -> LookupStep<Value>) -> Value? {
    var size = 16 * 1024
    for _ in 0..<4 {
        var buffer = [CChar](repeating: 0, count: size)
        let step = buffer.withUnsafeMutableBufferPointer { body($0) }
        if case .done(let value) = step { return value }
        size *= 4
    }
    return nil
}

extension ScriptFiles {
    /// This machine's files: `lstat(2)`, `realpath(3)` and the daemon's PATH.
    public static var local: ScriptFiles {
        ScriptFiles(
            status: { path in
                var info = stat()
                guard lstat(path, &info) == 0 else { return nil }
                let type = UInt32(info.st_mode) & UInt32(S_IFMT)
                let kind: FileStatus.Kind =
                    type == UInt32(S_IFREG) ? .regular : (type == UInt32(S_IFDIR) ? .directory : .other)
                return FileStatus(
                    kind: kind, mode: UInt32(info.st_mode) & 0o7777, owner: UInt32(info.st_uid),
                    group: UInt32(info.st_gid))
            },
            resolve: { path in
                guard let resolved = realpath(path, nil) else { return nil }
                defer { free(resolved) }
                return String(cString: resolved)
            },
            search: { name in try? ChildProcess.resolveProgram(name) })
    }
}

extension ScriptPlan {
    /// The plan against this machine's users and files, as `portico vrrp` makes it when it loads a configuration.
    public init(onThisMachine config: VRRPConfig) {
        self.init(config, accounts: .system, files: .local)
    }

    /// Logs each notice once, at its severity, in Keepalived's `(FILE: Line N) message` shape.
    func log(to logger: Logger) {
        for notice in notices {
            if notice.severity == .error {
                logger.error("\(notice)")
            } else {
                logger.warning("\(notice)")
            }
        }
    }
}
