import Foundation

/// What the lab adds to the seed's keepalived.conf to fail over faster (issue 6; docs/failover.md says why).
///
/// - `trackBalancerProcess`: a `vrrp_track_process` on the node's own balancer with weight 0. A balancer
///   that dies is seen at once (the daemon holds a pidfd on it) and the node resigns with a priority-0
///   advert: the peer takes over after Skew_Time instead of waiting for the seed's script to fail 3 × 2 s.
///   The seed's `chk_haproxy` script stays: it still gates the VIP's return (the balancer must listen on :80
///   for `rise 2` checks before the node's priority recovers and it preempts).
/// - `fastAdverts`: VRRPv3 with `advert_int 0.1` (v3 has no authentication, so the block goes): a lost node
///   is noticed after Master_Down_Interval ≈ 0.34 s instead of ≈ 3.6 s.
public struct FailoverTuning: Sendable, Equatable, Codable {
    public var trackBalancerProcess: Bool
    public var fastAdverts: Bool

    public init(trackBalancerProcess: Bool = false, fastAdverts: Bool = false) {
        self.trackBalancerProcess = trackBalancerProcess
        self.fastAdverts = fastAdverts
    }

    /// The seed's files unchanged.
    public static let seed = FailoverTuning()
    /// What docs/failover.md recommends at the seed's advert_int 1.
    public static let recommended = FailoverTuning(trackBalancerProcess: true)

    /// "seed", "recommended", "recommended+v3", "v3".
    public var summary: String {
        switch (trackBalancerProcess, fastAdverts) {
        case (false, false): return "seed"
        case (true, false): return "recommended"
        case (true, true): return "recommended+v3"
        case (false, true): return "v3"
        }
    }

    /// Reads `--failover-config seed|recommended` and `--vrrp-v3`.
    public static func parse(_ value: String, fastAdverts: Bool) throws -> FailoverTuning {
        switch value.lowercased() {
        case "seed": return FailoverTuning(trackBalancerProcess: false, fastAdverts: fastAdverts)
        case "recommended": return FailoverTuning(trackBalancerProcess: true, fastAdverts: fastAdverts)
        default: throw LabError.invalidOption("--failover-config: '\(value)' is not seed or recommended")
        }
    }

    /// The name of the tracked process in the lab's configs.
    public static let processTrackerName = "chk_balancer_process"

    /// The seed's keepalived.conf text with the tuning applied.
    /// - Parameter balancer: the command line that identifies this node's balancer among every node's
    ///   (the lab's nodes share one process table), e.g. `["portico", "lb", "-f", "/run/portico-lab/lb01/haproxy.cfg"]`.
    public func apply(to text: String, balancer: [String]) -> String {
        var lines = text.components(separatedBy: "\n")
        if fastAdverts {
            lines = Self.removingBlock("authentication", from: lines)
            lines = lines.flatMap { line -> [String] in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("advert_int ") else { return [line] }
                let indent = String(line.prefix { $0 == " " || $0 == "\t" })
                return ["\(indent)version 3", "\(indent)advert_int 0.1"]
            }
        }
        if trackBalancerProcess {
            let process = balancer.joined(separator: " ")
            let tracker = [
                "vrrp_track_process \(Self.processTrackerName) {",
                "    process \(process)",
                "    param_match partial",
                "    weight 0",
                "}",
                "",
            ]
            if let instance = lines.firstIndex(where: { $0.hasPrefix("vrrp_instance") }) {
                lines.insert(contentsOf: tracker, at: instance)
            }
            if let vips = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("virtual_ipaddress") })
            {
                let indent = String(lines[vips].prefix { $0 == " " || $0 == "\t" })
                lines.insert(
                    contentsOf: [
                        "\(indent)track_process {", "\(indent)    \(Self.processTrackerName)", "\(indent)}", "",
                    ], at: vips)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Drops `name { ... }` (one level of braces, as in the seed's authentication block).
    static func removingBlock(_ name: String, from lines: [String]) -> [String] {
        var out: [String] = []
        var skipping = false
        var depth = 0
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !skipping, trimmed.hasPrefix(name), trimmed.hasSuffix("{") {
                skipping = true
                depth = 1
                continue
            }
            if skipping {
                depth += trimmed.filter { $0 == "{" }.count - trimmed.filter { $0 == "}" }.count
                if depth <= 0 { skipping = false }
                continue
            }
            out.append(line)
        }
        // A blank line left where the block was is harmless; two in a row are collapsed for readability.
        return out.enumerated().filter { index, line in
            !(line.trimmingCharacters(in: .whitespaces).isEmpty && index > 0
                && out[index - 1].trimmingCharacters(in: .whitespaces).isEmpty)
        }.map(\.element)
    }
}

extension LabState {
    /// The stack as reports name it, with the failover config when it is not the seed's
    /// (e.g. "portico, keepalived.conf: recommended").
    public var describedStack: String {
        guard let failover, failover != .seed else { return stack.summary }
        return "\(stack.summary), keepalived.conf: \(failover.summary)"
    }
}
