/// The lines of one haproxy.cfg, split into sections, to find the line of a keyword that the parsed model keeps no
/// location for (`balance`, `timeout ...`, `option httpchk`, `stats auth`), and the "intended" markers.
struct BalancerText {
    /// The marker an operator writes in a comment on a line that differs on purpose between the nodes.
    static let intendedMarker = "portico: intended"

    private static let sectionKeywords: Set<String> = [
        "global", "defaults", "frontend", "backend", "listen", "userlist", "peers", "resolvers", "mailers", "program",
        "http-errors", "ring", "cache", "fcgi-app", "crt-store", "traces",
    ]

    private struct Section {
        var keyword: String
        var header: Int
        var end: Int
    }

    let file: String
    private let lines: [Substring]
    private let sections: [Section]

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var sections: [Section] = []
        for (index, line) in lines.enumerated() {
            guard let first = Self.words(line).first, Self.sectionKeywords.contains(first) else { continue }
            if var last = sections.popLast() {
                last.end = index
                sections.append(last)
            }
            sections.append(Section(keyword: first, header: index + 1, end: lines.count))
        }
        self.sections = sections
    }

    /// Words of a line before any `#` comment.
    static func words(_ line: Substring) -> [String] {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return code.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
    }

    /// The line where `keyword` (one or more leading words) is written for the proxy whose header is at
    /// `headerLine`: in the proxy's own section, else in the `defaults` section before it (where it was inherited
    /// from), else the header line itself.
    func line(of keyword: [String], proxyHeader headerLine: Int) -> FileLine {
        guard let index = sections.firstIndex(where: { $0.header == headerLine }) else {
            return FileLine(file: file, line: headerLine)
        }
        if let found = find(keyword, in: sections[index]) { return FileLine(file: file, line: found) }
        if let defaults = sections[..<index].last(where: { $0.keyword == "defaults" }),
            let found = find(keyword, in: defaults)
        {
            return FileLine(file: file, line: found)
        }
        return FileLine(file: file, line: headerLine)
    }

    /// The first line of the proxy's own section starting with `keyword` and containing `containing`, if any.
    func ownLine(of keyword: [String], proxyHeader headerLine: Int, containing: String? = nil) -> FileLine? {
        guard let section = sections.first(where: { $0.header == headerLine }) else { return nil }
        return find(keyword, in: section, containing: containing).map { FileLine(file: file, line: $0) }
    }

    private func find(_ keyword: [String], in section: Section, containing: String? = nil) -> Int? {
        guard section.header < section.end else { return nil }
        for number in (section.header + 1)...section.end where number <= lines.count {
            let words = Self.words(lines[number - 1])
            guard words.count >= keyword.count, Array(words.prefix(keyword.count)) == keyword else { continue }
            if let containing, !words.contains(where: { $0.contains(containing) }) { continue }
            return number
        }
        return nil
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
