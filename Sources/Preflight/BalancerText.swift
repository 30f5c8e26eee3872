import HAProxyConfig

/// One haproxy.cfg as text. The parsed model keeps the line of every value (``ProxyKeywordLocated``) but no
/// comments, and an operator marks a line that differs between the nodes on purpose with `# portico: intended`.
struct BalancerText {
    /// The marker an operator writes in a comment on a line that differs on purpose between the nodes.
    static let intendedMarker = "portico: intended"

    let file: String
    private let text: String
    private let lines: [Substring]

    init(file: String, text: String) {
        self.file = file
        self.text = text
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The line that set `keyword` (its words) for the proxy whose header is at `headerLine`, as the parser
    /// recorded it: in the proxy's own section or in the `defaults` section it inherits from, else the header.
    func line(of keyword: [String], proxyHeader headerLine: Int) -> FileLine {
        let config = BalancerConfig.parse(text, fileName: file).config
        let name = keyword.joined(separator: " ")
        let proxies: [any ProxyKeywordLocated] = config.backends + config.frontends
        let proxy = proxies.first { $0.location.line == headerLine }
        return FileLine(file: file, line: proxy?.location(of: name).line ?? headerLine)
    }

    /// Whether the line carries `# ... portico: intended ...`.
    func isMarkedIntended(_ location: FileLine?) -> Bool {
        guard let location, location.file == file, let number = location.line, number >= 1, number <= lines.count
        else { return false }
        let line = lines[number - 1]
        guard let hash = line.firstIndex(of: "#") else { return false }
        return line[hash...].lowercased().contains(Self.intendedMarker)
    }
}
