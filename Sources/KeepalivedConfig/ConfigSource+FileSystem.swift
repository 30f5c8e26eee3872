import Foundation

extension ConfigSource {
    public struct UnreadableFile: Error, Hashable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { reason }
    }

    /// Reads files from disk. Relative paths are relative to the process's working directory, as for keepalived -f.
    public static let fileSystem = ConfigSource(
        read: { path in
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard let text = String(data: data, encoding: .utf8) else {
                    throw UnreadableFile(path: path, reason: "not UTF-8 text")
                }
                return text
            } catch let error as UnreadableFile {
                throw error
            } catch {
                throw UnreadableFile(path: path, reason: (error as NSError).localizedDescription)
            }
        },
        listDirectory: { path in
            try FileManager.default.contentsOfDirectory(atPath: path)
        }
    )
}

extension KeepalivedConfigParser {
    /// Parses the keepalived.conf at `path` from disk and returns the config, or throws `ConfigError`
    /// with every diagnostic when there is an error. Warnings are in `warnings`.
    public static func load(path: String) throws -> (config: VRRPConfig, warnings: [Diagnostic]) {
        let result = parse(file: path, source: .fileSystem)
        return (try result.get(), result.diagnostics.warnings)
    }
}
