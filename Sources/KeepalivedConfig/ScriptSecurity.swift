/// What `stat(2)` says about a path: enough to apply Keepalived's script security rule. Shared by `portico check`
/// (which looks at another node's files) and `portico vrrp` (which refuses or warns before running a script).
public struct FileStatus: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// `other` is anything else, a symbolic link seen with `lstat(2)` included.
        case regular, directory, other
    }

    public var kind: Kind
    /// Permission bits including set-uid (0o4000), set-gid (0o2000) and sticky (0o1000).
    public var mode: UInt32
    public var owner: UInt32
    public var group: UInt32

    public init(kind: Kind, mode: UInt32, owner: UInt32 = 0, group: UInt32 = 0) {
        self.kind = kind
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    /// Any execute bit: root (which Keepalived runs scripts as by default) may execute the file.
    public var isExecutable: Bool { mode & 0o111 != 0 }
    public var isGroupWritable: Bool { mode & 0o020 != 0 }
    public var isWorldWritable: Bool { mode & 0o002 != 0 }
    public var isSticky: Bool { mode & 0o1000 != 0 }

    /// Octal text such as `0755` for messages.
    public var modeText: String { "0" + String(mode & 0o7777, radix: 8) }
}

/// One component of a script's path and its status; a nil status means it does not exist.
public struct PathStatus: Hashable, Sendable {
    public var path: String
    public var status: FileStatus?

    public init(path: String, status: FileStatus?) {
        self.path = path
        self.status = status
    }
}

/// Keepalived's script security rule (keepalived.conf(5) SCRIPTS and `enable_script_security`; `check_security()`
/// and `check_script_secure()` in Keepalived's lib/notify.c): a script that runs as root, or with group root, must
/// not be modifiable or replaceable by anyone else. Walking from `/` down to the file, a component is unsafe when it
/// is owned by a non-root user, or when it is a directory without the sticky bit or a regular file and is writable
/// by a non-root group or by everyone.
public enum ScriptSecurity {
    /// A path component that breaks the rule, with why, in the words `portico check` and `portico vrrp` print.
    public struct UnsafeComponent: Hashable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        /// `/tmp/x is world-writable (mode 0777)`.
        public var description: String { "\(path) \(reason)" }
    }

    /// `/etc/keepalived/check.sh` → `/`, `/etc`, `/etc/keepalived`, `/etc/keepalived/check.sh`: the order in which
    /// Keepalived walks a script's path. Repeated slashes are one.
    public static func componentPaths(of path: String) -> [String] {
        let parts = path.split(separator: "/")
        var result = path.hasPrefix("/") ? ["/"] : []
        var current = path.hasPrefix("/") ? "" : "."
        for part in parts {
            current += "/" + part
            result.append(current)
        }
        return result
    }

    /// The first component of `chain` (from `/` down) that breaks the rule; nil when the whole path is safe.
    /// Components that do not exist are skipped: a missing script is a different problem.
    public static func unsafeComponent(in chain: [PathStatus]) -> UnsafeComponent? {
        for component in chain {
            guard let status = component.status else { continue }
            if status.owner != 0 {
                return UnsafeComponent(path: component.path, reason: "is owned by uid \(status.owner), not root")
            }
            // A sticky directory (/tmp) lets nobody replace another user's entries; a symbolic link's own mode
            // means nothing. Only directories without the sticky bit and regular files are judged by their mode.
            let judgedByMode =
                (status.kind == .directory && !status.isSticky) || status.kind == .regular
            guard judgedByMode else { continue }
            if status.isWorldWritable {
                return UnsafeComponent(path: component.path, reason: "is world-writable (mode \(status.modeText))")
            }
            if status.group != 0, status.isGroupWritable {
                return UnsafeComponent(
                    path: component.path, reason: "is writable by group \(status.group) (mode \(status.modeText))")
            }
        }
        return nil
    }

    /// Whether the rule applies: Keepalived protects a script run with uid 0 or gid 0, and one that gains root
    /// itself (set-uid root or set-gid root and executable).
    public static func needsProtection(_ identity: ScriptIdentity, file: FileStatus) -> Bool {
        if identity.uid == 0 || identity.gid == 0 { return true }
        let setUIDRoot = file.owner == 0 && file.mode & 0o4000 != 0 && file.mode & 0o100 != 0
        let setGIDRoot = file.group == 0 && file.mode & 0o2000 != 0 && file.mode & 0o010 != 0
        return setUIDRoot || setGIDRoot
    }
}
