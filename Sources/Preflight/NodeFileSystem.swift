import KeepalivedConfig

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
