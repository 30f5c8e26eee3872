#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// What a file is, as far as revalidating a cached copy goes: a changed mtime, size, or inode (a replaced file)
/// all make the cached copy stale.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int(status.st_size)
        modifiedSeconds = Int(status.st_mtim.tv_sec)
        modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
    }
}

/// A regular file inside the root, with everything a response needs precomputed.
final class ServedFile {
    /// The resolved path (no symlinks), checked to be inside the root.
    let path: String
    let identity: FileIdentity
    let contentType: String
    let etag: String
    let lastModified: String
    let contentLength: String
    /// The whole file, for files small enough to cache; `nil` means send it from disk.
    let bytes: ByteBuffer?

    var size: Int { identity.size }
    var modifiedSeconds: Int { identity.modifiedSeconds }

    init(path: String, identity: FileIdentity, bytes: ByteBuffer?) {
        self.path = path
        self.identity = identity
        self.contentType = ContentType.forFileName(path.split(separator: "/").last ?? "")
        self.etag = EntityTag.make(modified: identity.modifiedSeconds, size: identity.size)
        self.lastModified = HTTPDate.imfFixdate(identity.modifiedSeconds)
        self.contentLength = String(identity.size)
        self.bytes = bytes
    }
}

/// The outcome of looking a request target up under the root; statuses as nginx answers them.
enum FileLookup {
    case file(ServedFile)
    /// A directory named without its trailing slash: 301 to the slashed name.
    case directoryWithoutSlash
    /// A directory without `index.html`, a permission error, or a symlink resolving outside the root: 403.
    case forbidden
    /// 404.
    case notFound
}

/// Finds files under the root and keeps small files' bytes. One store per event loop, used only on that loop,
/// so the hot path takes no lock. Every request costs one `stat` to revalidate; a miss also resolves the path
/// with `realpath` to refuse symlinks that lead outside the root.
final class FileStore {
    let realRoot: String
    let maxCachedFileSize: Int
    let capacity: Int
    private var entries: [String: ServedFile] = [:]
    private var cachedBytes = 0
    private let allocator = ByteBufferAllocator()

    init(realRoot: String, maxCachedFileSize: Int = 1 << 20, capacity: Int = 32 << 20) {
        self.realRoot = realRoot
        self.maxCachedFileSize = maxCachedFileSize
        self.capacity = capacity
    }

    func lookup(_ target: RequestTarget) -> FileLookup {
        var directory = realRoot
        for segment in target.segments {
            directory += "/"
            directory += segment
        }
        let candidate = target.isDirectory ? directory + "/index.html" : directory

        var status = stat()
        guard stat(candidate, &status) == 0 else {
            let error = errno
            if error == EACCES { return .forbidden }
            if target.isDirectory, isDirectory(directory) { return .forbidden }
            return .notFound
        }
        if isDirectoryMode(status.st_mode) {
            return target.isDirectory ? .forbidden : .directoryWithoutSlash
        }
        guard isRegularMode(status.st_mode) else { return .notFound }

        let identity = FileIdentity(status)
        if let cached = entries[candidate], cached.identity == identity {
            return .file(cached)
        }
        return load(candidate)
    }

    private func load(_ candidate: String) -> FileLookup {
        guard let resolved = realPath(candidate) else { return .notFound }
        guard isInsideRoot(resolved) else { return .forbidden }

        // The resolved path has no symlinks left; O_NOFOLLOW makes sure its last component did not become one.
        let descriptor = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return errno == EACCES ? .forbidden : .notFound }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, isRegularMode(status.st_mode) else { return .notFound }
        let identity = FileIdentity(status)

        guard identity.size <= maxCachedFileSize else {
            let file = ServedFile(path: resolved, identity: identity, bytes: nil)
            remember(file, under: candidate)
            return .file(file)
        }
        guard let bytes = readAll(descriptor, size: identity.size) else { return .forbidden }
        // A file that changed while being read is served as read, but not cached under the old identity.
        let file = ServedFile(path: resolved, identity: identity, bytes: bytes)
        if bytes.readableBytes == identity.size {
            remember(file, under: candidate)
        }
        return .file(file)
    }

    private func remember(_ file: ServedFile, under key: String) {
        let size = file.bytes?.readableBytes ?? 0
        if let old = entries[key] { cachedBytes -= old.bytes?.readableBytes ?? 0 }
        if cachedBytes + size > capacity || entries.count >= 4096 {
            // Simple and bounded: a static site's working set either fits or the cache is pointless anyway.
            entries.removeAll(keepingCapacity: true)
            cachedBytes = 0
        }
        entries[key] = file
        cachedBytes += size
    }

    private func readAll(_ descriptor: CInt, size: Int) -> ByteBuffer? {
        var buffer = allocator.buffer(capacity: size)
        var offset = 0
        while offset < size {
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size - offset) { raw in
                pread(descriptor, raw.baseAddress, size - offset, off_t(offset))
            }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            offset += count
        }
        return buffer
    }

    func isInsideRoot(_ resolved: String) -> Bool {
        if resolved == realRoot { return true }
        if realRoot == "/" { return resolved.hasPrefix("/") }
        return resolved.hasPrefix(realRoot + "/")
    }

    private func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && isDirectoryMode(status.st_mode)
    }
}

func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

private func isDirectoryMode(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFDIR }
private func isRegularMode(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFREG }
