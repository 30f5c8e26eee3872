/// `include` paths with shell wildcards (`*`, `?`, `[abc]`, `[a-z]`, `[!a]`) in any path component, as
/// glob(3) expands them for Keepalived. Brace expressions are not expanded.
enum IncludePattern {
    static func hasWildcard(_ text: some StringProtocol) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Expands an absolute, normalised pattern against `source`, sorted like glob(3). Unreadable directories
    /// simply match nothing.
    static func expand(_ pattern: String, source: ConfigSource) -> [String] {
        let components = pattern.split(separator: "/").map(String.init)
        var paths = [pattern.hasPrefix("/") ? "" : "."]
        for component in components {
            var next: [String] = []
            for base in paths {
                let directory = base.isEmpty ? "/" : base
                if !hasWildcard(component) {
                    next.append(base + "/" + component)
                    continue
                }
                let names = (try? source.listDirectory(directory)) ?? []
                for name in names.sorted() where !name.hasPrefix(".") && matches(name, pattern: component) {
                    next.append(base + "/" + name)
                }
            }
            paths = next
        }
        return paths.map(ConfigPath.normalise)
    }

    /// fnmatch(3) without flags, on one path component.
    static func matches(_ name: String, pattern: String) -> Bool {
        matches(Array(name), 0, Array(pattern), 0)
    }

    private static func matches(_ name: [Character], _ n: Int, _ pattern: [Character], _ p: Int) -> Bool {
        if p == pattern.count { return n == name.count }
        switch pattern[p] {
        case "*":
            var start = n
            while start <= name.count {
                if matches(name, start, pattern, p + 1) { return true }
                start += 1
            }
            return false
        case "?":
            return n < name.count && matches(name, n + 1, pattern, p + 1)
        case "[":
            guard n < name.count, let (matched, next) = matchClass(name[n], pattern, p) else {
                // An unclosed `[` is a literal character.
                return n < name.count && name[n] == "[" && matches(name, n + 1, pattern, p + 1)
            }
            return matched && matches(name, n + 1, pattern, next)
        default:
            return n < name.count && name[n] == pattern[p] && matches(name, n + 1, pattern, p + 1)
        }
    }

    /// Matches `character` against the class starting at `pattern[start] == "["`; nil when the class is unclosed.
    private static func matchClass(_ character: Character, _ pattern: [Character], _ start: Int) -> (Bool, Int)? {
        var index = start + 1
        var negated = false
        if index < pattern.count, pattern[index] == "!" || pattern[index] == "^" {
            negated = true
            index += 1
        }
        var matched = false
        var first = true
        while index < pattern.count {
            let current = pattern[index]
            if current == "]", !first { return (matched != negated, index + 1) }
            first = false
            if index + 2 < pattern.count, pattern[index + 1] == "-", pattern[index + 2] != "]" {
                if current <= character && character <= pattern[index + 2] { matched = true }
                index += 3
            } else {
                if current == character { matched = true }
                index += 1
            }
        }
        return nil
    }
}
