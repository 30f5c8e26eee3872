import Foundation

extension CheckReport {
    /// The findings as a table grouped by category, then a summary line: what `portico check` prints.
    public func table() -> String {
        var lines: [String] = []
        let nodeList = nodes.map { "\($0.name) (\($0.balancer.displayName))" }.joined(separator: ", ")
        lines.append("portico check: \(nodeList)")
        let rows = findings.map { finding in
            [finding.severity.rawValue, finding.node ?? "-", finding.location?.description ?? "-", finding.message]
        }
        let headers = ["SEVERITY", "NODE", "LOCATION", "MESSAGE"]
        var widths = headers.map(\.count)
        for row in rows {
            for column in 0..<3 { widths[column] = max(widths[column], row[column].count) }
        }
        func format(_ row: [String]) -> String {
            var text = "  "
            for column in 0..<3 {
                text += row[column].padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }
            return text + row[3]
        }
        for category in Finding.Category.allCases {
            let indices = findings.indices.filter { findings[$0].category == category }
            guard !indices.isEmpty else { continue }
            lines.append("")
            lines.append(category.title)
            lines.append(format(headers))
            for index in indices { lines.append(format(rows[index])) }
        }
        lines.append("")
        lines.append(summary)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `1 error, 4 warnings, 2 info: not ready` / `...: ready`.
    public var summary: String {
        let errors = count(.error)
        let warnings = count(.warning)
        let infos = count(.info)
        let verdict = passed ? "no error" : "not ready to go live"
        return "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s"), "
            + "\(infos) info: \(verdict)"
    }

    /// `--json`: the nodes, the findings, the counts and whether the check passed.
    public func json() throws -> String {
        struct Output: Encodable {
            var passed: Bool
            var errors: Int
            var warnings: Int
            var infos: Int
            var nodes: [NodeSummary]
            var findings: [Finding]
            var live: LiveReport?
        }
        let output = Output(
            passed: passed, errors: count(.error), warnings: count(.warning), infos: count(.info), nodes: nodes,
            findings: findings, live: live)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(output), as: UTF8.self) + "\n"
    }
}
