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
        let errorFileProblems = result.config.readErrorFiles { manager.contents(atPath: $0) }
        result.diagnostics = unreadable + result.diagnostics + errorFileProblems
        return result
    }

    /// Reads every `errorfile` of the proxies, as HAProxy does at start-up: a file that cannot be read, is not
    /// an HTTP response or is larger than `tune.bufsize` is an alert at its line (once, though a `defaults`
    /// line reaches every proxy after it).
    public mutating func readErrorFiles(_ read: (String) -> Data?) -> [Diagnostic] {
        var contents: [String: [UInt8]?] = [:]
        var problems: [Diagnostic] = []
        var reported: Set<String> = []
        func resolve(_ files: inout [Int: ErrorFile]) {
            for code in files.keys.sorted() {
                guard var file = files[code] else { continue }
                let bytes = contents[file.path] ?? read(file.path).map { [UInt8]($0) }
                contents[file.path] = bytes
                let problem: String?
                if let bytes {
                    problem = file.take(bytes, limit: self.global.bufferSize)
                } else {
                    problem = "'errorfile' : error opening file '\(file.path)'."
                }
                files[code] = file
                if let problem, reported.insert("\(file.location)|\(problem)").inserted {
                    problems.append(.alert(problem, at: file.location))
                }
            }
        }
        for index in self.frontends.indices { resolve(&self.frontends[index].errorFiles) }
        for index in self.backends.indices { resolve(&self.backends[index].errorFiles) }
        return problems
    }
}
