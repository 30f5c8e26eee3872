import HAProxyConfig
import KeepalivedConfig

/// Listeners bound to the VIP itself. Only the node holding the VIP has that address, so on the standby the bind
/// fails at startup unless the kernel allows non-local binds: the standby "cannot proxy on its own", the failure
/// the seed's section 九 warns about, discovered only when the VIP moves.
enum BindChecks {
    static func check(_ node: LoadedNode) -> [Finding] {
        let vips = Set(
            node.vrrp.config.instances.flatMap { $0.virtualIPAddresses + $0.excludedVirtualIPAddresses }
                .map { "\($0.address)" })
        var findings: [Finding] = []
        for frontend in node.balancer.config.frontends {
            for bind in frontend.binds {
                guard case .ipv4(let host) = bind.address.host, vips.contains(host) else { continue }
                findings.append(
                    Finding(
                        .warning, .balancer, node: node.name, at: Describe.location(bind.location),
                        "\(frontend.origin.rawValue) '\(frontend.name)' binds the VIP \(bind.address): while "
                            + "\(node.name) does not hold the VIP this listener cannot start unless "
                            + "net.ipv4.ip_nonlocal_bind=1; bind *:\(bind.address.port) or set the sysctl on every node"
                    ))
            }
        }
        return findings
    }
}
