import KeepalivedConfig

/// VRRP settings that must agree between the nodes of one virtual router, and the per-node traps that only show
/// when the nodes are looked at together: two intended masters, equal priorities, tracking weights that cannot move
/// the VIP, one-sided unicast peers, a VIP outside the node's subnet.
///
/// Instances are matched across nodes by name (the seed uses `VI_1` on both), then by `virtual_router_id`. The
/// first node is the reference (``PreflightCheck`` puts the intended master first): a difference is reported on the
/// other node's line, citing the reference's.
struct VRRPConsistency {
    /// One instance of one node.
    struct Member {
        var node: LoadedNode
        var instance: VRRPInstanceBlock

        var name: String { node.name }
        func at(_ keyword: String) -> FileLine { Describe.location(instance.location(of: keyword)) }
    }

    let nodes: [LoadedNode]
    private(set) var findings: [Finding] = []

    static func check(_ nodes: [LoadedNode]) -> [Finding] {
        var check = VRRPConsistency(nodes: nodes)
        check.run()
        return check.findings
    }

    private init(nodes: [LoadedNode]) {
        self.nodes = nodes
    }

    private mutating func run() {
        for node in nodes {
            for instance in node.vrrp.config.instances {
                subnet(Member(node: node, instance: instance))
                nopreemptWithMaster(Member(node: node, instance: instance))
            }
        }
        tracking()
        guard let reference = nodes.first, nodes.count >= 2 else { return }
        var claimed: [String: Set<String>] = [:]
        for instance in reference.vrrp.config.instances {
            var group = [Member(node: reference, instance: instance)]
            for node in nodes.dropFirst() {
                let taken = claimed[node.name, default: []]
                let candidates = node.vrrp.config.instances.filter { !taken.contains($0.name) }
                let match =
                    candidates.first { $0.name == instance.name }
                    ?? candidates.first { $0.virtualRouterID == instance.virtualRouterID }
                guard let match else {
                    findings.append(
                        Finding(
                            .error, .vrrp, node: node.name, at: FileLine(file: node.source.vrrpConfigPath, line: nil),
                            "vrrp_instance \(instance.name) (VRID \(instance.virtualRouterID)) is missing here: "
                                + "\(reference.name) has it (\(Describe.location(instance.location)))",
                            related: [Describe.location(instance.location)]))
                    continue
                }
                claimed[node.name, default: []].insert(match.name)
                group.append(Member(node: node, instance: match))
            }
            compareGroup(group)
        }
        for node in nodes.dropFirst() {
            for instance in node.vrrp.config.instances where !claimed[node.name, default: []].contains(instance.name) {
                findings.append(
                    Finding(
                        .error, .vrrp, node: node.name, at: Describe.location(instance.location),
                        "vrrp_instance \(instance.name) (VRID \(instance.virtualRouterID)) is not on \(reference.name)")
                )
            }
        }
    }

    // MARK: across the nodes of one virtual router

    private mutating func compareGroup(_ group: [Member]) {
        guard let reference = group.first else { return }
        for member in group.dropFirst() {
            compare(reference, member)
            trackedChecks(reference, member)
        }
        masters(group)
        priorities(group)
        unicast(group)
    }

    /// The standby must watch its balancer the way the master does: a node that does not track a check the
    /// reference tracks keeps the VIP when its own balancer stops.
    private mutating func trackedChecks(_ reference: Member, _ member: Member) {
        let name = member.instance.name
        for item in reference.instance.trackScripts
        where !member.instance.trackScripts.contains(where: { $0.name == item.name }) {
            let referenceLine = Describe.location(item.location)
            findings.append(
                Finding(
                    .error, .vrrp, node: member.name, at: member.at("track_script"),
                    "(\(name)) does not track \(item.name), which \(reference.name) tracks (\(referenceLine)): when "
                        + "this node holds the VIP and that check fails, the VIP stays here",
                    related: [referenceLine]))
        }
        for item in member.instance.trackScripts {
            guard let script = member.node.vrrp.config.script(named: item.name),
                let referenceScript = reference.node.vrrp.config.script(named: item.name)
            else { continue }
            let settings: [(String, String, String)] = [
                ("script", referenceScript.command.joined(separator: " "), script.command.joined(separator: " ")),
                ("interval", Describe.duration(referenceScript.interval), Describe.duration(script.interval)),
                ("timeout", Describe.duration(referenceScript.timeout), Describe.duration(script.timeout)),
                ("fall", "\(referenceScript.fall)", "\(script.fall)"),
                ("rise", "\(referenceScript.rise)", "\(script.rise)"),
            ]
            for (keyword, mine, theirs) in settings where mine != theirs {
                let referenceLine = Describe.location(referenceScript.location(of: keyword))
                findings.append(
                    Finding(
                        .warning, .vrrp, node: member.name, at: Describe.location(script.location(of: keyword)),
                        "vrrp_script \(script.name) \(keyword) is \(theirs) here but \(mine) on \(reference.name) "
                            + "(\(referenceLine)): the nodes notice a failure at different speeds",
                        related: [referenceLine]))
            }
            if item.weight != reference.instance.trackScripts.first(where: { $0.name == item.name })?.weight {
                let referenceWeight = reference.instance.trackScripts.first { $0.name == item.name }?.weight ?? 0
                findings.append(
                    Finding(
                        .warning, .vrrp, node: member.name, at: Describe.location(script.location(of: "weight")),
                        "(\(name)) \(item.name) weight is \(item.weight) here but \(referenceWeight) on "
                            + "\(reference.name): check that every failure still moves the VIP the intended way"))
            }
        }
    }

    private mutating func compare(_ reference: Member, _ member: Member) {
        let name = member.instance.name
        func differ(_ what: String, _ keyword: String, _ mine: String, _ theirs: String, consequence: String) {
            guard mine != theirs else { return }
            let referenceLine = reference.at(keyword)
            findings.append(
                Finding(
                    .error, .vrrp, node: member.name, at: member.at(keyword),
                    "(\(name)) \(what) is \(theirs) here but \(mine) on \(reference.name) (\(referenceLine)): "
                        + consequence,
                    related: [referenceLine]))
        }
        let splitBrain = "the nodes ignore each other's adverts and both take the VIP"
        differ(
            "virtual_router_id", "virtual_router_id", "\(reference.instance.virtualRouterID)",
            "\(member.instance.virtualRouterID)", consequence: splitBrain)
        differ(
            "version", "version", "\(reference.instance.version)", "\(member.instance.version)",
            consequence: splitBrain)
        differ(
            "advert_int", "advert_int", seconds(reference.instance.advertIntervalCentiseconds),
            seconds(member.instance.advertIntervalCentiseconds),
            consequence: "Keepalived drops adverts with a different interval, so both nodes take the VIP")
        differ(
            "authentication", "authentication", authentication(reference.instance.authentication),
            authentication(member.instance.authentication), consequence: splitBrain)
        if let mine = reference.instance.authentication, let theirs = member.instance.authentication,
            mine.wirePassword != theirs.wirePassword
        {
            // Never print the passwords; only the first 8 bytes go on the wire, so only they must agree.
            let referenceLine = Describe.location(mine.passwordLocation)
            findings.append(
                Finding(
                    .error, .vrrp, node: member.name, at: Describe.location(theirs.passwordLocation),
                    "(\(name)) auth_pass differs from \(reference.name)'s (\(referenceLine)) in its first 8 "
                        + "characters: adverts fail authentication and both nodes take the VIP",
                    related: [referenceLine]))
        }

        for (keyword, mine, theirs) in [
            ("virtual_ipaddress", reference.instance.virtualIPAddresses, member.instance.virtualIPAddresses),
            (
                "virtual_ipaddress_excluded", reference.instance.excludedVirtualIPAddresses,
                member.instance.excludedVirtualIPAddresses
            ),
        ] {
            let mineText = mine.map(Describe.vip)
            let theirText = theirs.map(Describe.vip)
            guard Set(mineText) != Set(theirText) else { continue }
            let firstExtra = theirs.first { !mineText.contains(Describe.vip($0)) }
            let location = firstExtra.map { Describe.location($0.location) } ?? member.at(keyword)
            let referenceLine = mine.first.map { Describe.location($0.location) } ?? reference.at(keyword)
            findings.append(
                Finding(
                    .error, .vrrp, node: member.name, at: location,
                    "(\(name)) \(keyword) is \(list(theirText)) here but \(list(mineText)) on \(reference.name) "
                        + "(\(referenceLine)): after a failover clients find a different address",
                    related: [referenceLine]))
        }
    }

    /// Exactly one node should start as MASTER, and it should be the one with the highest priority.
    private mutating func masters(_ group: [Member]) {
        let masters = group.filter { $0.instance.state == .master }
        let name = group.first?.instance.name ?? ""
        if let first = masters.first {
            for extra in masters.dropFirst() {
                findings.append(
                    Finding(
                        .error, .vrrp, node: extra.name, at: extra.at("state"),
                        "(\(name)) state MASTER here and on \(first.name) (\(first.at("state"))): exactly one node "
                            + "should be the intended master; the other should say state BACKUP",
                        related: [first.at("state")]))
            }
            if masters.count == 1,
                let stronger = group.filter({ $0.instance.priority > first.instance.priority })
                    .max(by: { $0.instance.priority < $1.instance.priority })
            {
                findings.append(
                    Finding(
                        .error, .vrrp, node: first.name, at: first.at("priority"),
                        "(\(name)) state MASTER with priority \(first.instance.priority), but \(stronger.name) has "
                            + "\(stronger.instance.priority) (\(stronger.at("priority"))): the VIP ends up on "
                            + "\(stronger.name), not on the intended master",
                        related: [stronger.at("priority")]))
            }
        } else if let highest = group.max(by: { $0.instance.priority < $1.instance.priority }) {
            findings.append(
                Finding(
                    .info, .vrrp, node: highest.name, at: highest.at("priority"),
                    "(\(name)) no node starts as MASTER: \(highest.name) (priority \(highest.instance.priority)) "
                        + "takes the VIP once the master-down timer expires"))
        }
    }

    /// keepalived.conf(5): "All systems should have different priorities". With equal priorities the node with the
    /// higher primary address wins (RFC 5798 §6.4.3), whatever `state` says.
    private mutating func priorities(_ group: [Member]) {
        for (index, member) in group.enumerated() {
            guard
                let earlier = group[..<index].first(where: { $0.instance.priority == member.instance.priority })
            else { continue }
            findings.append(
                Finding(
                    .error, .vrrp, node: member.name, at: member.at("priority"),
                    "(\(member.instance.name)) priority \(member.instance.priority) is the same as on \(earlier.name) "
                        + "(\(earlier.at("priority"))): the tie goes to the higher IP address, not to the intended "
                        + "master; give each node its own priority",
                    related: [earlier.at("priority")]))
        }
    }

    private mutating func unicast(_ group: [Member]) {
        guard let name = group.first?.instance.name else { return }
        let unicast = group.filter { $0.instance.isUnicast }
        guard !unicast.isEmpty else { return }
        if unicast.count < group.count {
            for member in group where !member.instance.isUnicast {
                let peerNode = unicast[0]
                findings.append(
                    Finding(
                        .error, .vrrp, node: member.name, at: Describe.location(member.instance.location),
                        "(\(name)) adverts go to the multicast group here but \(peerNode.name) uses unicast_peer "
                            + "(\(peerNode.at("unicast_peer"))): the nodes do not hear each other and both take "
                            + "the VIP",
                        related: [peerNode.at("unicast_peer")]))
            }
            return
        }
        let addresses = group.map { $0.node.address(for: $0.instance)?.address }
        let unknown = group.indices.filter { addresses[$0] == nil }.map { group[$0].name }
        if !unknown.isEmpty {
            findings.append(
                Finding(
                    .info, .vrrp, node: nil, at: group[0].at("unicast_peer"),
                    "(\(name)) unicast peers not checked against \(unknown.joined(separator: ", ")): address unknown "
                        + "(write unicast_src_ip or pass --address NODE=ADDR)"))
        }
        let known = Set(addresses.compactMap { $0 })
        for (index, member) in group.enumerated() {
            let peers = member.instance.unicastPeers.map(\.address)
            let missing = group.indices.filter { other in
                other != index && addresses[other].map { !peers.contains($0) } == true
            }
            let strangers = unknown.isEmpty ? peers.filter { !known.contains($0) } : []
            let location = member.at("unicast_peer")
            if !missing.isEmpty {
                let names = missing.map { "\(group[$0].name) (\(addresses[$0].map(\.description) ?? "?"))" }
                var message =
                    "(\(name)) unicast_peer does not list \(names.joined(separator: ", ")): its adverts never reach "
                    + (missing.count == 1 ? "that node" : "those nodes") + ", which then also takes the VIP"
                if !strangers.isEmpty {
                    message += "; it lists \(strangers.map(\.description).joined(separator: ", ")) instead"
                }
                findings.append(
                    Finding(
                        .error, .vrrp, node: member.name, at: location, message,
                        related: missing.map { group[$0].at("unicast_src_ip") }))
            } else if !strangers.isEmpty {
                findings.append(
                    Finding(
                        .warning, .vrrp, node: member.name, at: location,
                        "(\(name)) unicast_peer \(strangers.map(\.description).joined(separator: ", ")) is none of "
                            + "the checked nodes"))
            }
        }
    }

    // MARK: one node

    /// A VIP outside the subnet of the node's address is not answered by ARP on that network.
    private mutating func subnet(_ member: Member) {
        guard let address = member.node.address(for: member.instance) else { return }
        for vip in member.instance.virtualIPAddresses + member.instance.excludedVirtualIPAddresses {
            let prefix = address.prefixLength ?? vip.prefixLength
            // A /32 VIP on a node whose prefix is unknown says nothing about the subnet.
            guard prefix < 32 else { continue }
            guard !Describe.inSubnet(vip.address, of: address.address, prefixLength: prefix) else { continue }
            let network = Describe.network(address.address, prefixLength: prefix)
            findings.append(
                Finding(
                    .error, .vrrp, node: member.name, at: Describe.location(vip.location),
                    "(\(member.instance.name)) VIP \(vip.address) is outside \(member.name)'s subnet \(network) "
                        + "(\(member.name) is \(address.address) on \(member.instance.interface)): hosts on that "
                        + "network cannot reach the VIP"))
        }
    }

    /// Keepalived ignores `nopreempt` unless the initial state is BACKUP, so the node preempts after all: the
    /// second switchover the seed warns about (section 七).
    private mutating func nopreemptWithMaster(_ member: Member) {
        guard member.instance.isSet("nopreempt"), member.instance.state == .master else { return }
        findings.append(
            Finding(
                .error, .vrrp, node: member.name, at: member.at("nopreempt"),
                "(\(member.instance.name)) nopreempt with state MASTER (\(member.at("state"))): Keepalived ignores "
                    + "nopreempt unless the state is BACKUP, so this node takes the VIP back when it recovers; "
                    + "write state BACKUP on every node to keep the VIP where it is",
                related: [member.at("state")]))
    }

    /// Tracking weights against priorities, by KeepalivedConfig's own analysis. Its equal-priority warning is
    /// replaced by ``priorities(_:)``, which is an error here because the tie-break ignores `state`.
    private mutating func tracking() {
        var owners: [String: String] = [:]
        for node in nodes {
            owners[node.vrrp.config.file] = node.name
            for instance in node.vrrp.config.instances { owners[instance.location.file] = node.name }
            for script in node.vrrp.config.scripts { owners[script.location.file] = node.name }
        }
        for diagnostic in trackingAnalysis(nodes: nodes.map(\.vrrp.config)) {
            if diagnostic.message.contains("should have different priorities") { continue }
            let location = diagnostic.location.map(Describe.location)
            findings.append(
                Finding(
                    diagnostic.severity == .error ? .error : .warning, .vrrp,
                    node: location.flatMap { owners[$0.file] }, at: location, diagnostic.message))
        }
    }

    private func seconds(_ centiseconds: Int) -> String {
        centiseconds % 100 == 0 ? "\(centiseconds / 100)s" : "\(Double(centiseconds) / 100)s"
    }

    private func authentication(_ value: Authentication?) -> String { value == nil ? "none" : "PASS" }

    private func list(_ values: [String]) -> String { values.isEmpty ? "none" : values.joined(separator: ", ") }
}
