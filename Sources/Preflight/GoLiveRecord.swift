import Foundation
import HAProxyConfig
import KeepalivedConfig

/// The go-live record of the seed's section 九 ("上线记录"): VIP, lb nodes, backends, firewall, logs and rollback,
/// filled from the nodes' configurations, as a Markdown document an operator files with the change.
public enum GoLiveRecord {
    /// - Parameter date: the date written in the header (`2026-11-26`), given by the caller so the output is pure.
    public static func markdown(nodes: [LoadedNode], report: CheckReport, date: String) -> String {
        var document = RecordDocument(nodes: nodes, report: report)
        return document.render(date: date)
    }
}

private struct RecordDocument {
    let nodes: [LoadedNode]
    let report: CheckReport
    private var lines: [String] = []

    init(nodes: [LoadedNode], report: CheckReport) {
        self.nodes = nodes
        self.report = report
    }

    /// The intended master's files describe the entry; `portico check` reports where the others differ.
    private var reference: LoadedNode? { PreflightCheck.referenceFirst(nodes).first }
    private var instances: [VRRPInstanceBlock] { reference?.vrrp.config.instances ?? [] }
    private var balancer: BalancerConfig { reference?.balancer.config ?? BalancerConfig() }
    private var trafficFrontends: [Frontend] { balancer.frontends.filter { !isStats($0) } }
    private var statsFrontends: [Frontend] { balancer.frontends.filter(isStats) }

    private func isStats(_ frontend: Frontend) -> Bool {
        frontend.stats != nil && frontend.origin == .listen
            && balancer.backend(named: frontend.name)?.servers.isEmpty != false
    }

    mutating func render(date: String) -> String {
        let vipText = instances.flatMap(\.virtualIPAddresses).map { "\($0.address)" }.joined(separator: ", ")
        lines.append("# Go-live record: entry \(vipText.isEmpty ? "(no VIP)" : vipText)")
        lines.append("")
        lines.append("Prepared on \(date) by `portico check` from the configurations of:")
        lines.append("")
        for node in nodes {
            lines.append(
                "- **\(node.name)**: `\(node.source.balancerConfigPath)`, `\(node.source.vrrpConfigPath)` "
                    + "(balancer: \(node.source.balancer.displayName))")
        }
        lines.append("")
        lines.append(
            "Check result: \(report.summary). "
                + (report.passed
                    ? "Open warnings are listed at the end." : "**Fix the errors listed at the end first.**"))
        lines.append("")
        summaryTable()
        vipSection()
        nodeSection()
        backendSection()
        firewallSection()
        logSection()
        rollbackSection()
        beforeSwitchSection()
        findingsSection()
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: sections

    private mutating func summaryTable() {
        let vips = instances.map { instance in
            instance.virtualIPAddresses.map {
                "\($0.address) on \($0.device ?? instance.interface), subnet \(subnet($0))"
            }.joined(separator: "; ")
        }.joined(separator: "; ")
        let lbs = nodes.map { node in
            let instance = node.vrrp.config.instances.first
            return "\(node.name) \(address(node, instance)), priority \(instance.map { "\($0.priority)" } ?? "?"), "
                + (instance.map(preemption) ?? "?")
        }.joined(separator: "; ")
        let backends = balancer.backends.filter { !$0.servers.isEmpty }.flatMap { backend in
            backend.servers.map { "\($0.name) \($0.address)" }
        }.joined(separator: ", ")
        let checks = Set(balancer.backends.filter { !$0.servers.isEmpty }.map { Describe.healthCheck($0.httpCheck) })
        table(
            ["Item", "Content"],
            [
                ["VIP (address, interface, subnet)", vips],
                ["LB nodes (address, priority, preemption)", lbs],
                [
                    "Backends (address, port, health check)",
                    backends + "; check " + checks.sorted().joined(separator: "; "),
                ],
                [
                    "Firewall",
                    "clients → VIP, lb nodes → backends, VRRP between lb nodes, stats from management only (below)",
                ],
                ["Logs", "balancer traffic log, VRRP daemon log, backend access logs (below)"],
                ["Rollback", "stop the VRRP daemons, remove the VIP, restore the old entry (below)"],
            ])
    }

    private mutating func vipSection() {
        lines.append("## VIP")
        lines.append("")
        var rows: [[String]] = []
        for instance in instances {
            for vip in instance.virtualIPAddresses + instance.excludedVirtualIPAddresses {
                rows.append([
                    instance.name, "\(instance.virtualRouterID)", Describe.vip(vip), vip.device ?? instance.interface,
                    subnet(vip), advert(instance), "\(instance.version)",
                    instance.authentication == nil ? "none" : "PASS (same password on every node)",
                ])
            }
        }
        table(["Instance", "VRID", "VIP", "Interface", "Subnet", "advert_int", "VRRP version", "Authentication"], rows)
    }

    private mutating func nodeSection() {
        lines.append("## LB nodes")
        lines.append("")
        var rows: [[String]] = []
        for node in nodes {
            for instance in node.vrrp.config.instances {
                rows.append([
                    node.name, address(node, instance), instance.name, instance.state.rawValue,
                    "\(instance.priority)", onFailure(instance, node.vrrp.config), preemption(instance),
                    node.source.balancer.displayName,
                ])
            }
        }
        table(
            [
                "Node", "Address", "Instance", "Initial state", "Priority", "If a tracked check fails", "Preemption",
                "Balancer",
            ],
            rows)
    }

    private mutating func backendSection() {
        lines.append("## Backends")
        lines.append("")
        var rows: [[String]] = []
        for backend in balancer.backends where !backend.servers.isEmpty {
            for server in backend.servers {
                let check =
                    server.checkEnabled
                    ? Describe.healthCheck(backend.httpCheck) + " to port \(server.checkPort ?? server.address.port)"
                    : "none (always UP)"
                rows.append([
                    backend.name, server.name, server.address.host.description, "\(server.address.port)", check,
                    server.checkEnabled
                        ? "inter \(Describe.duration(server.checkInterval)) fall \(server.fall) rise \(server.rise)"
                        : "-",
                    backend.balance.description + (server.isBackup ? " (backup server)" : ""),
                ])
            }
        }
        table(["Backend", "Server", "Address", "Port", "Health check", "Timing", "Balance"], rows)
        var entries: [[String]] = []
        for frontend in balancer.frontends {
            entries.append([
                "\(frontend.origin.rawValue) \(frontend.name)",
                frontend.binds.map(Describe.bind).joined(separator: ", "),
                isStats(frontend) ? "stats page \(frontend.stats?.uri ?? "")" : (frontend.routedBackend ?? "none"),
            ])
        }
        lines.append("Entry points on every lb node:")
        lines.append("")
        table(["Section", "Bind", "Serves"], entries)
    }

    private mutating func firewallSection() {
        lines.append("## Firewall")
        lines.append("")
        let vips = instances.flatMap(\.virtualIPAddresses).map { "\($0.address)" }
        let vipText = vips.isEmpty ? "the VIP" : vips.joined(separator: ", ")
        let lbAddresses = nodes.map { "\($0.name) \(address($0, $0.vrrp.config.instances.first))" }
            .joined(separator: ", ")
        var rows: [[String]] = []
        for frontend in trafficFrontends {
            for bind in frontend.binds {
                let target: String
                switch bind.address.host {
                case .anyIPv4, .anyIPv6: target = "VIP \(vipText) (and each lb node for the standby test)"
                default: target = bind.address.host.description
                }
                rows.append(["clients", target, "tcp/\(bind.address.port)", "\(frontend.name): the service"])
            }
        }
        var seen = Set<String>()
        for backend in balancer.backends where !backend.servers.isEmpty {
            for server in backend.servers {
                let traffic = "\(server.address.host) tcp/\(server.address.port)"
                if seen.insert(traffic).inserted {
                    rows.append([
                        "lb nodes (\(lbAddresses))", "\(server.name) \(server.address.host)",
                        "tcp/\(server.address.port)", "\(backend.name): requests and health checks",
                    ])
                }
                if server.checkEnabled, server.checkPort != nil || server.checkAddress != nil {
                    let host = server.checkAddress?.description ?? server.address.host.description
                    let port = server.checkPort ?? server.address.port
                    if seen.insert("\(host) tcp/\(port)").inserted {
                        rows.append(["lb nodes", "\(server.name) \(host)", "tcp/\(port)", "health checks"])
                    }
                }
            }
        }
        for instance in instances {
            if instance.isUnicast {
                rows.append([
                    "each lb node", "the other lb nodes (unicast_peer)", "IP protocol 112 (VRRP)",
                    "\(instance.name) adverts, unicast, both directions",
                ])
            } else {
                rows.append([
                    "each lb node", "224.0.0.18 on \(instance.interface)", "IP protocol 112 (VRRP)",
                    "\(instance.name) adverts, multicast, both directions",
                ])
            }
        }
        for frontend in statsFrontends {
            for bind in frontend.binds {
                rows.append([
                    "management network only", "each lb node", "tcp/\(bind.address.port)",
                    "\(frontend.name): stats page \(frontend.stats?.uri ?? "")",
                ])
            }
        }
        for target in balancer.global.logTargets {
            if case .udp(let host, let port) = target.destination {
                let local = host.description.hasPrefix("127.")
                rows.append([
                    "each lb node", local ? "its own syslog daemon (\(host))" : "\(host)", "udp/\(port)",
                    "traffic log, facility \(target.facility.name)"
                        + (local ? " (loopback: the syslog daemon must accept UDP)" : ""),
                ])
            }
        }
        table(["From", "To", "Protocol / port", "Why"], rows)
    }

    private mutating func logSection() {
        lines.append("## Logs")
        lines.append("")
        var rows: [[String]] = []
        let balancerName = nodes.allSatisfy { $0.source.balancer == .haproxy } ? "HAProxy" : "Balancer"
        for target in balancer.global.logTargets {
            let destination = Describe.logTarget(target)
            let file = target.facility == .local2 ? " (the seed files it as /var/log/haproxy.log)" : ""
            rows.append([
                "\(balancerName) traffic log", "syslog \(destination)\(file)",
                "503s, retries, `Server ... is DOWN` / `is UP` lines, request times",
            ])
        }
        if balancer.global.logTargets.isEmpty {
            rows.append([
                "\(balancerName) traffic log", "none configured (no `log` in global)", "add one before going live",
            ])
        }
        let vrrpNames = Set(nodes.map { $0.source.balancer == .haproxy ? "keepalived" : "portico vrrp" })
        for name in vrrpNames.sorted() {
            let whereText =
                name == "keepalived" ? "`journalctl -u keepalived`" : "the journal of the `portico vrrp` service"
            rows.append([
                "VRRP daemon (\(name))", whereText,
                "`Entering MASTER STATE` / `BACKUP STATE` / `FAULT STATE`, check script failures, priority changes",
            ])
        }
        for backend in balancer.backends where !backend.servers.isEmpty {
            for server in backend.servers {
                rows.append([
                    "Backend access log", "\(server.name) (\(server.address.host)): its web server's access log",
                    "requests arriving from the lb nodes; health checks \(backend.httpCheck?.uri ?? "")",
                ])
            }
        }
        table(["Source", "Where", "What to watch"], rows)
    }

    private mutating func rollbackSection() {
        lines.append("## Rollback")
        lines.append("")
        let stop =
            nodes.allSatisfy { $0.source.balancer == .haproxy }
            ? "`systemctl stop keepalived`" : "stop the `portico vrrp` service"
        let order = nodes.sorted { a, b in
            (a.vrrp.config.instances.first?.priority ?? 0) < (b.vrrp.config.instances.first?.priority ?? 0)
        }.map(\.name)
        lines.append(
            "1. Stop the VRRP daemon on every lb node (\(order.joined(separator: ", then "))): \(stop). "
                + "A stopping node releases the VIP.")
        var step = 2
        for instance in instances {
            for vip in instance.virtualIPAddresses {
                let device = vip.device ?? instance.interface
                lines.append(
                    "\(step). On each lb node, check that the VIP is gone: "
                        + "`ip addr show dev \(device) | grep \(vip.address)`; "
                        + "if it is still there, remove it: `ip addr del \(Describe.vip(vip)) dev \(device)`.")
                step += 1
            }
        }
        lines.append(
            "\(step). Restore the old entry: ______________________ (previous address or DNS record, "
                + "filled in by the operator), then `curl -f` it from a client.")
        lines.append("\(step + 1). Keep this record and the `portico check` output with the change ticket.")
        lines.append("")
    }

    private mutating func beforeSwitchSection() {
        lines.append("## Before moving the VIP")
        lines.append("")
        lines.append("Each lb node must proxy on its own (seed, sections 三 and 九):")
        lines.append("")
        for node in nodes {
            let nodeAddress = address(node, node.vrrp.config.instances.first)
            for frontend in trafficFrontends {
                for bind in frontend.binds {
                    lines.append("- [ ] \(node.name): `curl -f http://\(nodeAddress):\(bind.address.port)/`")
                }
            }
        }
        for backend in balancer.backends where !backend.servers.isEmpty {
            for server in backend.servers where backend.httpCheck != nil {
                lines.append("- [ ] \(server.name): `curl -f http://\(server.address)\(backend.httpCheck?.uri ?? "/")`")
            }
        }
        lines.append("")
    }

    private mutating func findingsSection() {
        lines.append("## Open findings of `portico check`")
        lines.append("")
        if report.findings.isEmpty {
            lines.append("None.")
            lines.append("")
            return
        }
        table(
            ["Severity", "Node", "Location", "Finding"],
            report.findings.map { [$0.severity.rawValue, $0.node ?? "-", $0.location?.description ?? "-", $0.message] })
    }

    // MARK: helpers

    private func address(_ node: LoadedNode, _ instance: VRRPInstanceBlock?) -> String {
        if let address = node.source.address { return "\(address.address)" }
        if let source = instance?.unicastSourceIP { return "\(source)" }
        return "<address of \(node.name)>"
    }

    private func subnet(_ vip: VirtualIPAddress) -> String {
        vip.prefixLength < 32 ? Describe.network(vip.address, prefixLength: vip.prefixLength) : "/32 (host route)"
    }

    private func advert(_ instance: VRRPInstanceBlock) -> String {
        let centiseconds = instance.advertIntervalCentiseconds
        return centiseconds % 100 == 0 ? "\(centiseconds / 100)s" : "\(Double(centiseconds) / 100)s"
    }

    private func preemption(_ instance: VRRPInstanceBlock) -> String {
        if !instance.preempt { return "nopreempt (stays backup after a failover)" }
        if instance.preemptDelay > .zero { return "preempt after \(Describe.duration(instance.preemptDelay))" }
        return "preempt (takes the VIP back when it recovers)"
    }

    /// The priority after each tracked check fails, or FAULT for weight 0.
    private func onFailure(_ instance: VRRPInstanceBlock, _ config: VRRPConfig) -> String {
        var parts: [String] = []
        for item in instance.trackScripts {
            guard item.weight != 0 else {
                parts.append("\(item.name) fails → FAULT")
                continue
            }
            // keepalived.conf(5): a positive weight is added while up, a negative one while down; reverse swaps.
            let change = item.reverse ? -item.weight : item.weight
            let up = instance.priority + (item.weight > 0 ? change : 0)
            let down = instance.priority + (item.weight < 0 ? change : 0)
            func clamp(_ value: Int) -> Int { instance.priority == 255 ? 255 : min(254, max(1, value)) }
            parts.append(
                clamp(up) == instance.priority
                    ? "\(item.name) fails → \(clamp(down))"
                    : "\(item.name) up → \(clamp(up)), fails → \(clamp(down))")
        }
        return parts.isEmpty ? "no tracked check" : parts.joined(separator: "; ")
    }

    private mutating func table(_ headers: [String], _ rows: [[String]]) {
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        lines.append("| " + headers.map(cell).joined(separator: " | ") + " |")
        lines.append("|" + headers.map { _ in "---|" }.joined())
        for row in rows { lines.append("| " + row.map(cell).joined(separator: " | ") + " |") }
        lines.append("")
    }
}
