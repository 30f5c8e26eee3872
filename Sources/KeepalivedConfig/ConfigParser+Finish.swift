extension ConfigParser {
    /// Checks that need the whole file: global defaults, per-version advert limits, tracked names, required
    /// fields and the traps of `nopreempt`, authentication and unicast peers.
    mutating func finish() {
        config.instances = pendingInstances.map { finish($0) }
        duplicateRouterIDs()
        if config.instances.isEmpty && !diagnostics.hasErrors {
            // Without an instance `portico vrrp` would have nothing to do; Keepalived would idle silently.
            warning(nil, "No vrrp_instance defined")
        }
    }

    /// Two instances with one VRID on one interface would answer each other's adverts. Keepalived allows it
    /// only with unicast peers that do not overlap (keepalived.conf(5), "virtual_router_id").
    private mutating func duplicateRouterIDs() {
        let instances = config.instances
        for (index, instance) in instances.enumerated() where instance.isSet("virtual_router_id") {
            let clash = instances[..<index].first { earlier in
                guard earlier.virtualRouterID == instance.virtualRouterID, earlier.interface == instance.interface
                else { return false }
                guard earlier.isUnicast, instance.isUnicast else { return true }
                let peers = Set(earlier.unicastPeers.map(\.address))
                return instance.unicastPeers.contains { peers.contains($0.address) }
            }
            guard let earlier = clash else { continue }
            error(
                instance.location(of: "virtual_router_id"),
                "\(earlier.name) and \(instance.name) both use VRID \(instance.virtualRouterID) with IPv4 on interface "
                    + "\(instance.interface)"
            )
        }
    }

    /// Resolves `track_script` / `track_process` items against the checks they name: the item's own weight
    /// (and `reverse`) wins over the check's; an item naming no check is an error and is dropped.
    private mutating func resolve<Check: WeightedCheck>(
        _ items: [PendingTrack], _ what: String, context: String, check: (String) -> Check?
    ) -> [TrackedCheck] {
        items.compactMap { item in
            guard let check = check(item.name) else {
                error(item.location, "\(context)\(what) \(item.name) not found")
                return nil
            }
            return TrackedCheck(
                name: item.name, location: item.location, weight: item.weight ?? check.weight,
                reverse: item.weight == nil ? check.reverse : (item.reverse ?? false),
                weightOverridden: item.weight != nil
            )
        }
    }

    private mutating func finish(_ pending: PendingInstance) -> VRRPInstanceBlock {
        var instance = pending.instance
        let name = instance.name
        let context = "(\(name)) "
        let global = config.global

        if !instance.isSet("version") { instance.version = global.vrrpVersion }
        if !instance.isSet("garp_master_delay") { instance.garpMasterDelay = global.garpMasterDelay }
        if !instance.isSet("garp_master_repeat") { instance.garpMasterRepeat = global.garpMasterRepeat }
        if !instance.isSet("garp_master_refresh") { instance.garpMasterRefresh = global.garpMasterRefresh }
        if !instance.isSet("garp_master_refresh_repeat") {
            instance.garpMasterRefreshRepeat = global.garpMasterRefreshRepeat
        }

        if let microseconds = pending.advertMicroseconds {
            instance.advertIntervalCentiseconds = advertInterval(
                microseconds, version: instance.version, location: instance.location(of: "advert_int"), context: context
            )
        }

        if instance.isSet("authentication") {
            if instance.version == 3 {
                // RFC 5798 removed authentication; Keepalived ignores the block for v3.
                warning(
                    instance.location(of: "authentication"),
                    "\(context)VRRP version 3 does not support authentication. Ignoring.")
            } else {
                instance.authentication = pending.authentication
            }
        }

        if let location = pending.nopreempt {
            // Keepalived clears nopreempt in both cases, so the effective value is "preempt".
            if instance.state == .master {
                warning(location, "\(context)nopreempt will not work with initial state MASTER - clearing")
                instance.preempt = true
            } else if instance.priority == 255 {
                warning(location, "\(context)nopreempt is incompatible with priority 255. resetting nopreempt")
                instance.preempt = true
            }
        }

        instance.trackScripts = resolve(
            pending.trackScripts, "track script", context: context, check: config.script(named:))
        instance.trackProcesses = resolve(
            pending.trackProcesses, "track process", context: context, check: config.trackProcess(named:))
        instance.trackInterfaces.removeAll { item in
            guard item.name == instance.interface else { return false }
            warning(item.location, "\(context)Ignoring track_interface \(item.name) since own interface")
            return true
        }

        if let source = instance.unicastSourceIP,
            let peer = instance.unicastPeers.first(where: { $0.address == source })
        {
            // This node would send adverts to itself and hear its own priority as a peer's.
            warning(peer.location, "\(context)unicast_peer \(source) is this node's own unicast_src_ip")
        }

        if !instance.isSet("interface") { error(instance.location, "\(context)interface must be set") }
        if !instance.isSet("virtual_router_id") {
            error(instance.location, "\(context)the virtual router id must be set")
        }
        if instance.virtualIPAddresses.isEmpty && !pending.hadInvalidVIP {
            error(instance.location(of: "virtual_ipaddress"), "\(context)No VIP specified; at least one is required")
        }
        return instance
    }

    /// Applies the per-version advert limits, rounding like Keepalived: whole seconds up to 255 for v2
    /// (RFC 3768 §5.3.7, an 8-bit field of seconds), centiseconds up to 40.95 s for v3 (RFC 5798 §5.2.7,
    /// a 12-bit field of centiseconds).
    private mutating func advertInterval(
        _ microseconds: Int, version: Int, location: ConfigLocation,
        context: String
    ) -> Int {
        let shown = ValueParsing.formatSeconds(microseconds: microseconds)
        if version == 2 {
            if microseconds < 1_000_000 {
                error(
                    location, "\(context)VRRPv2 advertisement interval \(shown)s is out of range. Must be at least 1s")
                return 100
            }
            if microseconds % 1_000_000 != 0 {
                warning(location, "\(context)VRRPv2 advertisement interval \(shown)s must be an integer. rounding")
            }
            return (microseconds + 500_000) / 1_000_000 * 100
        }
        if microseconds > 40_950_000 {
            error(location, "\(context)VRRPv3 advertisement interval \(shown)s is out of range. Must be at most 40.95s")
            return 4095
        }
        if microseconds % 10_000 != 0 {
            warning(location, "\(context)VRRPv3 advertisement interval \(shown)s must be in units of 10ms - rounding")
        }
        return max(1, (microseconds + 5_000) / 10_000)
    }
}
