import Foundation
import KeepalivedConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The machine's own files, read with Foundation and `stat(2)`.
public struct LocalFileSystem: NodeFileSystem {
    public init() {}

    public func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : (isDirectory.boolValue ? "is a directory" : "permission denied")
            throw FileAccessError(path: path, reason: reason)
        }
        return String(decoding: data, as: UTF8.self)
    }

    public func listDirectory(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw FileAccessError(path: path, reason: "cannot list directory")
        }
    }

    public func status(_ path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let type = UInt32(info.st_mode) & UInt32(S_IFMT)
        let kind: FileStatus.Kind =
            type == UInt32(S_IFREG) ? .regular : (type == UInt32(S_IFDIR) ? .directory : .other)
        return FileStatus(
            kind: kind, mode: UInt32(info.st_mode) & 0o7777, owner: UInt32(info.st_uid), group: UInt32(info.st_gid))
    }
}
