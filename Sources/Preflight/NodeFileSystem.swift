/// The few file-system questions the preflight asks, behind a protocol so that the checks can be tested with
/// in-memory files (any owner, any mode) as well as with temporary files on disk.
public protocol NodeFileSystem: Sendable {
    /// The text of a file; throws when it cannot be read.
    func readText(_ path: String) throws -> String
    /// Names (not paths) of a directory's entries, for keepalived.conf `include` wildcards.
    func listDirectory(_ path: String) throws -> [String]
    /// `stat(2)` of a path, following symbolic links as Keepalived does; nil when it does not exist.
    func status(_ path: String) -> FileStatus?
}

/// What `stat(2)` says about a path: enough to apply Keepalived's script security rule.
public struct FileStatus: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
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

/// Errors of the file-system protocol, with the path they concern.
public struct FileAccessError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
