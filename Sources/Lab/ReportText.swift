import Foundation

/// The tables `portico lab drill` and `portico lab demo` print.
public enum ReportText {
    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }

    /// One drill: a row per phase, then the state changes and the verdict.
    public static func drill(_ report: DrillReport) -> String {
        var lines: [String] = []
        lines.append("drill \(report.drill.rawValue) (stack: \(report.stack)): \(report.drill.summary)")
        let header = [
            "phase", "action", "requests", "failed", "failures", "outage (first–last failure)", "VIP move",
            "backends",
        ]
        var rows: [[String]] = [header]
        for phase in report.phases {
            let failures = phase.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                separator: ", ")
            let outage =
                phase.outage.map {
                    String(format: "%.2f–%.2f (%.2f s)", $0.first, $0.last, $0.seconds)
                } ?? "-"
            let move = phase.vipMove.map { "\($0.from)→\($0.to) after \(seconds($0.seconds))" } ?? "-"
            let backends = phase.backends.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                separator: ", ")
            rows.append([
                phase.name, phase.action, "\(phase.requests)", "\(phase.failed)", failures.isEmpty ? "-" : failures,
                outage, move, backends.isEmpty ? "-" : backends,
            ])
        }
        lines.append(contentsOf: table(rows).map { "  " + $0 })
        let changes = report.phases.flatMap(\.stateChanges)
        if !changes.isEmpty {
            lines.append("  state changes:")
            for change in changes { lines.append(String(format: "    +%6.2f s  ", change.time) + change.text) }
        }
        if !report.events.isEmpty {
            lines.append("  events:")
            for event in report.events { lines.append(String(format: "    +%6.2f s  ", event.time) + event.label) }
        }
        lines.append("  " + verdict(report))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The answers to the seed's questions, in one line.
    public static func verdict(_ report: DrillReport) -> String {
        var parts: [String] = []
        if report.drill == .backend {
            let unknown = "unknown (no view from \(report.holder))"
            parts.append("web01 taken out: \(report.backendTakenOut.map { $0 ? "yes" : "NO" } ?? unknown)")
            parts.append("web01 back: \(report.backendBack.map { $0 ? "yes" : "NO" } ?? unknown)")
        }
        if let served = report.servedByDownBackend { parts.append("requests to web01 while DOWN: \(served)") }
        if let moved = report.vipMoved { parts.append("VIP moved: \(moved ? "yes" : "NO")") }
        if let returned = report.vipReturned {
            parts.append("VIP returned to \(report.holder): \(returned ? "yes" : "NO")")
        }
        if report.drill == .steady { parts.append("VIP switches: \(report.vipChanges)") }
        if report.splitBrainSamples > 0 { parts.append("SPLIT BRAIN in \(report.splitBrainSamples) samples") }
        parts.append("failed \(report.failed) of \(report.requests) requests")
        return parts.joined(separator: "; ")
    }

    /// `drill all` and `demo`: one row per drill.
    public static func summary(_ reports: [DrillReport]) -> String {
        var rows: [[String]] = [
            [
                "drill", "stack", "requests", "failed", "fault outage", "VIP move", "recovery failed", "VIP back",
                "verdict",
            ]
        ]
        for report in reports {
            let fault = report.phases.first { $0.name == "fault" }
            let recovery = report.phases.first { $0.name == "recovery" }
            let ok = report.asSeedSays
            rows.append([
                report.drill.rawValue, report.stack, "\(report.requests)", "\(report.failed)",
                fault?.outage.map { seconds($0.seconds) + " (\(fault?.failed ?? 0) failed)" } ?? "none",
                fault?.vipMove.map { seconds($0.seconds) } ?? "-",
                "\(recovery?.failed ?? 0)",
                recovery?.vipMove.map { seconds($0.seconds) } ?? "-",
                ok ? "as the seed says" : "NOT as the seed says",
            ])
        }
        return table(rows).joined(separator: "\n") + "\n"
    }

    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.enumerated().flatMap { index, row -> [String] in
            let line = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            if index == 0 {
                return [
                    line,
                    widths.enumerated().map {
                        String(repeating: "-", count: $0.offset == columns - 1 ? max($0.element, 1) : $0.element)
                    }.joined(separator: "  "),
                ]
            }
            return [line]
        }
    }

    public static func json(_ reports: [DrillReport]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(reports)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
