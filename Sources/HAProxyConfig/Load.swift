import Foundation

extension BalancerConfig {
    /// Reads and parses configuration files the way `haproxy -f PATH [-f PATH...]` does: files in order; a
    /// directory contributes its `*.cfg` files in alphabetical order. A file that cannot be read is reported as an
    /// alert in the result (with every other file's diagnostics), not thrown. `"$VAR"` inside double quotes expands
    /// from `environment`, the process environment by default, as in HAProxy.
    public static func load(
        paths: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ConfigParseResult {
        var files: [ConfigFile] = []
        var unreadable: [Diagnostic] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                unreadable.append(.alert("Could not open configuration file \(path) : No such file or directory"))
                continue
            }
            var candidates = [path]
            if isDirectory.boolValue {
                let names = (try? manager.contentsOfDirectory(atPath: path)) ?? []
                candidates = names.filter { $0.hasSuffix(".cfg") }.sorted().map { path + "/" + $0 }
            }
            for candidate in candidates {
                guard let data = manager.contents(atPath: candidate) else {
                    unreadable.append(.alert("Could not open configuration file \(candidate) : Permission denied"))
                    continue
                }
                files.append(ConfigFile(name: candidate, text: String(decoding: data, as: UTF8.self)))
            }
        }
        var result = parse(files, environment: environment)
        result.diagnostics = unreadable + result.diagnostics
        return result
    }
}
