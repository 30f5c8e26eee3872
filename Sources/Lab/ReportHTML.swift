import Foundation

/// A self-contained HTML page (inline CSS and SVG, nothing fetched) with one timeline per drill: the
/// steady client's requests as green/red marks, who held the VIP, and each balancer's view of each backend.
public enum ReportHTML {
    static let plotLeft = 150.0
    static let plotWidth = 900.0
    static let rowHeight = 22.0
    static let rowGap = 8.0

    public static func page(runs: [DrillRun], reports: [DrillReport]) -> String {
        var body = ""
        if reports.count > 1 {
            body += "<h2>Summary</h2>\n" + summaryTable(reports)
        }
        for (run, report) in zip(runs, reports) {
            body += section(run, report)
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>portico lab drills</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222;
                   max-width: 1100px; }
            h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; }
            .sub { color: #666; margin-top: 0; }
            table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
            th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
            th { background: #f4f4f4; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            .bad { color: #c62828; font-weight: 600; } .good { color: #2e7d32; font-weight: 600; }
            .verdict { margin: 6px 0 10px; font-size: 14px; }
            .changes { font-size: 12px; color: #444; columns: 2; }
            svg text { font-family: system-ui, sans-serif; }
            .legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
            .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
            </style></head><body>
            <h1>portico lab: failure drills</h1>
            <p class="sub">The seed's topology in network namespaces; a steady client in the client namespace sends
            GET / to \(LabTopology.vip) on a new connection each time.
            Times are seconds from the start of each drill.</p>
            <p class="legend"><span><i style="background:#2e9e4f"></i>request answered by web01</span>
            <span><i style="background:#7ccf94"></i>by web02</span>
            <span><i style="background:#d32f2f"></i>failed request</span>
            <span><i style="background:#3b6fd6"></i>VIP on lb01</span>
            <span><i style="background:#ef8f1f"></i>VIP on lb02</span>
            <span><i style="background:#9e9e9e"></i>unknown / no stats</span></p>
            \(body)
            </body></html>

            """
    }

    static func summaryTable(_ reports: [DrillReport]) -> String {
        var html =
            "<table><tr><th>drill</th><th>stack</th><th>requests</th><th>failed</th><th>fault outage</th>"
            + "<th>VIP move</th><th>recovery failed</th><th>VIP back</th><th>verdict</th></tr>\n"
        for report in reports {
            let fault = report.phases.first { $0.name == "fault" }
            let recovery = report.phases.first { $0.name == "recovery" }
            html +=
                "<tr><td>\(escape(report.drill.rawValue))</td><td>\(escape(report.stack))</td>"
                + "<td class=num>\(report.requests)</td><td class=num>\(report.failed)</td>"
                + "<td>\(fault?.outage.map { String(format: "%.2f s", $0.seconds) } ?? "none")</td>"
                + "<td>\(fault?.vipMove.map { String(format: "%.2f s", $0.seconds) } ?? "-")</td>"
                + "<td class=num>\(recovery?.failed ?? 0)</td>"
                + "<td>\(recovery?.vipMove.map { String(format: "%.2f s", $0.seconds) } ?? "-")</td>"
                + "<td>\(escape(ReportText.verdict(report)))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    static func section(_ run: DrillRun, _ report: DrillReport) -> String {
        var html = "<h2>drill \(escape(run.drill.rawValue)) <small>(\(escape(run.stack)) stack)</small></h2>\n"
        html += "<p class=sub>\(escape(run.drill.summary))</p>\n"
        let verdictOK = report.asSeedSays
        let verdict =
            verdictOK ? "<span class=good>as the seed says</span>" : "<span class=bad>NOT as the seed says</span>"
        html += "<p class=verdict>\(verdict): \(escape(ReportText.verdict(report)))</p>\n"
        html += timeline(run)
        html +=
            "<table><tr><th>phase</th><th>action</th><th>requests</th><th>failed</th><th>failures</th>"
            + "<th>outage (first–last failure)</th><th>VIP move</th><th>backends reached</th></tr>\n"
        for phase in report.phases {
            let failures = phase.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            let backends = phase.backends.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            let outage = phase.outage.map { String(format: "%.2f–%.2f s (%.2f s)", $0.first, $0.last, $0.seconds) }
            let move = phase.vipMove.map { "\($0.from) → \($0.to) after " + String(format: "%.2f s", $0.seconds) }
            html += "<tr><td>\(escape(phase.name))</td><td>\(escape(phase.action))</td>"
            html += "<td class=num>\(phase.requests)</td>"
            html += "<td class=\"num\(phase.failed > 0 ? " bad" : "")\">\(phase.failed)</td>"
            html += "<td>\(escape(failures.isEmpty ? "-" : failures.joined(separator: ", ")))</td>"
            html += "<td>\(outage ?? "-")</td><td>\(escape(move ?? "-"))</td>"
            html += "<td>\(escape(backends.isEmpty ? "-" : backends.joined(separator: ", ")))</td></tr>\n"
        }
        html += "</table>\n"
        let changes = report.phases.flatMap(\.stateChanges)
        if !changes.isEmpty {
            html +=
                "<div class=changes>"
                + changes.map { String(format: "+%.2f s ", $0.time) + escape($0.text) }.joined(separator: "<br>")
                + "</div>\n"
        }
        return html
    }

    /// The SVG: requests, VIP band, one band per balancer and backend; phase boundaries as dashed lines.
    static func timeline(_ run: DrillRun) -> String {
        let span = max(run.end - run.start, 0.001)
        func x(_ time: Double) -> Double { plotLeft + max(0, min(1, (time - run.start) / span)) * plotWidth }
        func at(_ time: Double) -> String { String(format: "+%.2f s", time - run.start) }
        let serverKeys = Set(run.samples.flatMap { $0.states.keys.filter { $0.contains("/") } }).sorted()
        let allPairs = LabHost.balancers.flatMap { lb in LabHost.webs.map { "\(lb.rawValue)/\($0.rawValue)" } }
        let bandKeys = serverKeys.isEmpty ? allPairs : serverKeys
        let top = 34.0
        let height = top + Double(2 + bandKeys.count) * (rowHeight + rowGap) + 30
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(plotLeft + plotWidth + 20))\" "
        svg +=
            "height=\"\(Int(height))\" role=\"img\" aria-label=\"timeline of drill \(escape(run.drill.rawValue))\">\n"
        svg += tag("rect", ["x": "0", "y": "0", "width": "100%", "height": "100%", "fill": "#fff"])

        // Row 0: requests, one mark each; failures drawn last so that they stay visible.
        var y = top
        svg += label("requests", y)
        svg += tag(
            "rect", ["x": f(plotLeft), "y": f(y), "width": f(plotWidth), "height": f(rowHeight), "fill": "#f6f6f6"])
        for record in run.records where record.ok {
            let color = record.backend == "web01" ? "#2e9e4f" : "#7ccf94"
            let mark = ["x1": f(x(record.sent)), "x2": f(x(record.sent)), "y1": f(y + 3), "y2": f(y + rowHeight - 3)]
            svg += tag("line", mark.merging(["stroke": color, "stroke-width": "1"]) { $1 })
        }
        for record in run.records where !record.ok {
            let mark = ["x1": f(x(record.sent)), "x2": f(x(record.sent)), "y1": f(y), "y2": f(y + rowHeight)]
            svg += tag(
                "line", mark.merging(["stroke": "#d32f2f", "stroke-width": "1.5"]) { $1 },
                title: "\(record.error?.rawValue ?? "failed") at \(at(record.sent))"
            )
        }

        // Row 1: VIP holder.
        y += rowHeight + rowGap
        svg += label("VIP holder", y)
        svg += bands(run, y: y, x: x) {
            $0.vipText
        } color: { value in
            switch value {
            case "lb01": return "#3b6fd6"
            case "lb02": return "#ef8f1f"
            case "none": return "#9e9e9e"
            default: return "#d32f2f"
            }
        }

        // One row per balancer/backend pair.
        for key in bandKeys {
            y += rowHeight + rowGap
            let parts = key.split(separator: "/").map(String.init)
            svg += label("\(parts.first ?? "") sees \(parts.last ?? "")", y)
            svg += bands(run, y: y, x: x) { sample in
                sample.state(of: parts.last ?? "", seenBy: parts.first ?? "") ?? "unknown"
            } color: { value in
                switch value {
                case "UP": return "#43a047"
                case "DOWN": return "#d32f2f"
                case "MAINT", "DRAIN", "NOLB": return "#fbc02d"
                default: return "#bdbdbd"
                }
            }
        }

        // Phase boundaries and the time axis.
        let axisY = y + rowHeight + 16
        for phase in run.phases.dropFirst() {
            let px = x(phase.start)
            let line = ["x1": f(px), "x2": f(px), "y1": f(top - 16), "y2": f(axisY - 10), "stroke": "#333"]
            svg += tag("line", line.merging(["stroke-dasharray": "4 3"]) { $1 })
            let text = ["x": f(px + 3), "y": f(top - 20), "font-size": "11", "fill": "#333"]
            svg += tag("text", text, content: phase.action)
        }
        let step = span > 40 ? 5.0 : (span > 16 ? 2.0 : 1.0)
        var tick = 0.0
        while tick <= span + 0.001 {
            let px = plotLeft + tick / span * plotWidth
            svg += tag("line", ["x1": f(px), "x2": f(px), "y1": f(axisY - 10), "y2": f(axisY - 5), "stroke": "#666"])
            let text = ["x": f(px), "y": f(axisY + 6), "font-size": "10", "text-anchor": "middle", "fill": "#666"]
            svg += tag("text", text, content: "\(Int(tick))s")
            tick += step
        }
        svg += "</svg>\n"
        return svg
    }

    /// Runs of equal values across the samples, as coloured rectangles labelled where they are wide enough.
    private static func bands(
        _ run: DrillRun, y: Double, x: (Double) -> Double, value: (DrillSample) -> String, color: (String) -> String
    ) -> String {
        guard !run.samples.isEmpty else { return "" }
        var svg = ""
        var index = 0
        let samples = run.samples
        while index < samples.count {
            let current = value(samples[index])
            var next = index + 1
            while next < samples.count && value(samples[next]) == current { next += 1 }
            let from = index == 0 ? run.start : samples[index].time
            let to = next < samples.count ? samples[next].time : run.end
            let width = max(0.5, x(to) - x(from))
            let box = ["x": f(x(from)), "y": f(y), "width": f(width), "height": f(rowHeight), "fill": color(current)]
            svg += tag("rect", box, title: "\(current) from " + String(format: "+%.2f s", from - run.start))
            if width > 34 {
                let text = ["x": f(x(from) + 4), "y": f(y + rowHeight - 7), "font-size": "11", "fill": "#fff"]
                svg += tag("text", text, content: current)
            }
            index = next
        }
        return svg
    }

    private static func label(_ text: String, _ y: Double) -> String {
        let attributes = ["x": f(plotLeft - 8), "y": f(y + rowHeight - 7), "font-size": "12", "text-anchor": "end"]
        return tag("text", attributes.merging(["fill": "#333"]) { $1 }, content: text)
    }

    /// One SVG element; attributes in a stable order, text escaped.
    static func tag(_ name: String, _ attributes: [String: String], content: String? = nil, title: String? = nil)
        -> String
    {
        let rendered = attributes.sorted { $0.key < $1.key }.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
        let inner = (title.map { "<title>\(escape($0))</title>" } ?? "") + (content.map(escape) ?? "")
        return inner.isEmpty ? "<\(name)\(rendered)/>\n" : "<\(name)\(rendered)>\(inner)</\(name)>\n"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
