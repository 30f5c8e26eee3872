/// How the parser reads files, injected so that the parser stays pure: tests supply files in memory,
/// `ConfigSource.fileSystem` (in ConfigSource+FileSystem.swift) reads the disk.
public struct ConfigSource: Sendable {
    /// Returns a file's text, or throws when it cannot be read.
    public var read: @Sendable (_ path: String) throws -> String
    /// Returns the names (not paths) of the entries of a directory, for `include` wildcards.
    public var listDirectory: @Sendable (_ path: String) throws -> [String]

    public init(
        read: @escaping @Sendable (_ path: String) throws -> String,
        listDirectory: @escaping @Sendable (_ path: String) throws -> [String]
    ) {
        self.read = read
        self.listDirectory = listDirectory
    }

    public struct FileNotFound: Error, Hashable, Sendable, CustomStringConvertible {
        public var path: String
        public init(path: String) { self.path = path }
        public var description: String { "no such file" }
    }

    /// Files held in memory, by absolute or relative path (paths are compared after normalisation).
    public static func inMemory(_ files: [String: String]) -> ConfigSource {
        var normalised: [String: String] = [:]
        for (path, text) in files { normalised[ConfigPath.normalise(path)] = text }
        let table = normalised
        return ConfigSource(
            read: { path in
                guard let text = table[ConfigPath.normalise(path)] else { throw FileNotFound(path: path) }
                return text
            },
            listDirectory: { directory in
                let prefix = ConfigPath.normalise(directory)
                var names = Set<String>()
                for path in table.keys {
                    guard ConfigPath.directory(of: path) == prefix else { continue }
                    names.insert(ConfigPath.lastComponent(of: path))
                }
                return names.sorted()
            }
        )
    }
}

/// Small path arithmetic on `/`-separated strings, so the pure parser needs no Foundation.
enum ConfigPath {
    static func normalise(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    static func directory(of path: String) -> String {
        let normalised = normalise(path)
        guard let slash = normalised.lastIndex(of: "/") else { return "." }
        if slash == normalised.startIndex { return "/" }
        return String(normalised[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        let normalised = normalise(path)
        guard let slash = normalised.lastIndex(of: "/") else { return normalised }
        return String(normalised[normalised.index(after: slash)...])
    }

    /// `path` resolved against `directory` unless it is absolute.
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") { return normalise(path) }
        return normalise(directory + "/" + path)
    }
}
