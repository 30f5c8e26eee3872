extension ConfigParser {
    // MARK: - vrrp_instance

    mutating func vrrpInstance(name: String, _ block: [Statement], location: ConfigLocation) {
        if let existing = pendingInstances.first(where: { $0.instance.name == name }) {
            error(location, "vrrp_instance \(name) already defined at \(existing.instance.location)")
            return
        }
        var pending = PendingInstance(instance: VRRPInstanceBlock(name: name, location: location))
        let context = "(\(name)) "
        for statement in block {
            let keyword = statement.keyword
            let value = statement.words.count > 1 ? statement.words[1].text : ""
            var instance = pending.instance
            switch keyword {
            case "state":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                guard let state = VRRPInstanceBlock.InitialState(rawValue: value) else {
                    error(statement.location, "\(context)unknown state '\(value)' - must be MASTER or BACKUP")
                    continue
                }
                instance.state = state
            case "interface":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                // IFNAMSIZ is 16 including the terminating NUL.
                guard value.utf8.count <= 15, !value.contains("/") else {
                    error(statement.location, "\(context)Invalid interface name '\(value)'")
                    continue
                }
                instance.interface = value
            case "virtual_router_id":
                guard expectArguments(statement, 1, 1, context: context),
                    let vrid = integer(
                        statement, in: 1...255,
                        message: "(\(name)): VRID '\(value)' not valid - must be between 1 & 255")
                else { continue }
                instance.virtualRouterID = vrid
            case "priority":
                guard expectArguments(statement, 1, 1, context: context),
                    let priority = integer(
                        statement, in: 1...255,
                        message: "\(context)Priority not valid! must be between 1 & 255")
                else { continue }
                instance.priority = priority
            case "advert_int":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                // keepalived.conf(5): "VRRP Advert interval in seconds (e.g. 0.92)"; Keepalived accepts
                // [0.01, 255] here and checks the per-version limits once the version is known.
                guard let microseconds = ValueParsing.microseconds(value), (10_000...255_000_000).contains(microseconds)
                else {
                    error(
                        statement.location,
                        "\(context)Advert interval (\(value)) not valid! must be between 0.01 and 255")
                    continue
                }
                pending.advertMicroseconds = microseconds
            case "version":
                guard expectArguments(statement, 1, 1, context: context),
                    let version = integer(statement, in: 2...3, message: "(\(name)): Version must be either 2 or 3")
                else { continue }
                instance.version = version
            case "nopreempt":
                guard expectArguments(statement, 0, 0, context: context) else { continue }
                instance.preempt = false
                pending.nopreempt = statement.location
            case "preempt":
                // Kept by Keepalived "for backwards compatibility": preemption is already the default.
                guard expectArguments(statement, 0, 0, context: context) else { continue }
            case "preempt_delay":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                guard let microseconds = ValueParsing.microseconds(value), microseconds <= 1_000_000_000 else {
                    error(statement.location, "\(context)Preempt_delay not valid! must be between 0-1000")
                    continue
                }
                instance.preemptDelay = .microseconds(microseconds)
            case "garp_master_delay", "garp_master_refresh":
                guard expectArguments(statement, 1, 1, context: context),
                    let seconds = integer(
                        statement, in: 0...86400,
                        message: "(\(name)): \(keyword) '\(value)' invalid")
                else { continue }
                if keyword == "garp_master_delay" {
                    instance.garpMasterDelay = .seconds(seconds)
                } else {
                    instance.garpMasterRefresh = .seconds(seconds)
                }
            case "garp_master_repeat", "garp_master_refresh_repeat":
                guard expectArguments(statement, 1, 1, context: context),
                    let count = integer(
                        statement, in: 1...Int(Int32.max),
                        message: "(\(name)): \(keyword) must be greater than 0")
                else { continue }
                if keyword == "garp_master_repeat" {
                    instance.garpMasterRepeat = count
                } else {
                    instance.garpMasterRefreshRepeat = count
                }
            case "authentication":
                guard let inner = expectBlock(statement, arguments: 0, context: context) else { continue }
                pending.authentication = authentication(inner, location: statement.location, context: context)
            case "track_script", "track_process":
                guard let inner = expectBlock(statement, arguments: 0, context: context) else { continue }
                let range = keyword == "track_script" ? -253...253 : -254...254
                let items = trackItems(inner, context: context, kind: keyword, weights: range)
                if keyword == "track_script" {
                    pending.trackScripts += items
                } else {
                    pending.trackProcesses += items
                }
            case "track_interface":
                guard let inner = expectBlock(statement, arguments: 0, context: context) else { continue }
                for item in trackItems(inner, context: context, kind: keyword, weights: -253...253) {
                    instance.trackInterfaces.append(
                        TrackedInterface(
                            name: item.name, location: item.location, weight: item.weight ?? 0,
                            reverse: item.reverse ?? false)
                    )
                }
            case "virtual_ipaddress", "virtual_ipaddress_excluded":
                guard let inner = expectBlock(statement, arguments: 0, context: context) else { continue }
                let addresses = inner.compactMap { virtualIPAddress($0) }
                if addresses.count < inner.count { pending.hadInvalidVIP = true }
                if keyword == "virtual_ipaddress" {
                    instance.virtualIPAddresses += addresses
                } else {
                    instance.excludedVirtualIPAddresses += addresses
                }
            case "unicast_src_ip":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                guard let address = IPv4Address(value) else {
                    error(statement.location, "\(context)Invalid unicast_src_ip '\(value)'")
                    continue
                }
                instance.unicastSourceIP = address
            case "unicast_peer":
                guard let inner = expectBlock(statement, arguments: 0, context: context) else { continue }
                for item in inner {
                    if let peer = unicastPeer(item, instance: name) { instance.unicastPeers.append(peer) }
                }
            case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
                guard expectArguments(statement, 1, 3, context: context) else { continue }
                let script = notifyScript(statement)
                switch keyword {
                case "notify_master": instance.notify.master = script
                case "notify_backup": instance.notify.backup = script
                case "notify_fault": instance.notify.fault = script
                case "notify_stop": instance.notify.stop = script
                default: instance.notify.any = script
                }
            case "dont_track_primary":
                guard expectArguments(statement, 0, 0, context: context) else { continue }
                instance.dontTrackPrimary = true
            default:
                unknownKeyword(statement, in: .instance)
                continue
            }
            instance.keywordLocations[keyword] = statement.location
            pending.instance = instance
        }
        pendingInstances.append(pending)
    }

    private mutating func authentication(
        _ block: [Statement], location: ConfigLocation,
        context: String
    ) -> Authentication? {
        var password: (String, ConfigLocation)?
        var typeSeen = false
        var usable = true
        for statement in block {
            switch statement.keyword {
            case "auth_type":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                typeSeen = true
                switch statement.words[1].text {
                case "PASS": break
                case "AH":
                    error(statement.location, "\(context)auth_type AH is not supported yet")
                    usable = false
                default:
                    error(
                        statement.location,
                        "\(context)unknown authentication type '\(statement.words[1].text)' - must be PASS or AH")
                    usable = false
                }
            case "auth_pass":
                guard expectArguments(statement, 1, 1, context: context) else { continue }
                let text = statement.words[1].text
                if text.utf8.count > 8 {
                    // keepalived.conf(5): "Only the first eight (8) characters are used."
                    warning(
                        statement.location,
                        "Truncating auth_pass to 8 characters (only the first 8 are sent: all nodes must agree on them)"
                    )
                }
                password = (text, statement.location)
            default:
                unknownKeyword(statement, in: .authentication)
            }
        }
        guard usable else { return nil }
        if !typeSeen {
            error(location, "\(context)authentication requires auth_type")
            return nil
        }
        guard let (text, passwordLocation) = password else {
            error(location, "\(context)authentication requires auth_pass")
            return nil
        }
        return Authentication(location: location, password: text, passwordLocation: passwordLocation)
    }

    /// Items of `track_script`, `track_process` and `track_interface`: `NAME [weight N [reverse|noreverse]]`.
    private mutating func trackItems(
        _ block: [Statement], context: String, kind: String,
        weights: ClosedRange<Int>
    ) -> [PendingTrack] {
        var items: [PendingTrack] = []
        for statement in block {
            let name = statement.keyword
            if statement.block != nil {
                error(statement.location, "\(context)\(kind) item '\(name)' does not take a '{' block")
                continue
            }
            if items.contains(where: { $0.name == name }) {
                warning(statement.location, "\(context)duplicate \(kind) \(name) - ignoring")
                continue
            }
            var item = PendingTrack(name: name, location: statement.location)
            if statement.words.count > 1 {
                let bounds = "[\(weights.lowerBound)..\(weights.upperBound)]"
                guard statement.words[1].text == "weight" else {
                    error(statement.location, "\(context)\(kind) \(name): unknown option '\(statement.words[1].text)'")
                    continue
                }
                guard statement.words.count >= 3, statement.words.count <= 4,
                    let weight = integer(
                        statement, at: 2, in: weights,
                        message: "\(context)\(kind) \(name): weight must be between \(bounds) inclusive"),
                    let reverse = reverseFlag(statement, at: 3, context: context)
                else {
                    if statement.words.count < 3 || statement.words.count > 4 {
                        error(
                            statement.location,
                            "\(context)\(kind) \(name): weight must be between \(bounds) inclusive")
                    }
                    continue
                }
                item.weight = weight
                item.reverse = reverse
            }
            items.append(item)
        }
        return items
    }

    /// `ADDR[/PREFIX] [brd X] [dev IF] [scope S] [label L]`.
    private mutating func virtualIPAddress(_ statement: Statement) -> VirtualIPAddress? {
        let text = statement.keyword
        if statement.block != nil {
            error(statement.location, "Virtual address '\(text)' does not take a '{' block")
            return nil
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if text.contains(":") {
            error(statement.location, "IPv6 virtual address \(text) is not supported yet")
            return nil
        }
        guard let address = IPv4Address(parts[0]) else {
            error(statement.location, "VRRP parsed invalid IP \(text)")
            return nil
        }
        var vip = VirtualIPAddress(location: statement.location, address: address)
        if parts.count == 2 {
            guard let prefix = ValueParsing.integer(String(parts[1])), (0...32).contains(prefix),
                parts[1].first != "+", parts[1].first != "-"
            else {
                error(statement.location, "Invalid address prefix len \(parts[1]) for address \(text)")
                return nil
            }
            vip.prefixLength = prefix
        }
        var index = 1
        let words = statement.words
        while index < words.count {
            let option = words[index].text
            guard ["brd", "broadcast", "dev", "scope", "label"].contains(option) else {
                let notSupported = [
                    "peer", "home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track",
                    "preferred_lft", "use_vmac", "track_group",
                ]
                if notSupported.contains(option) {
                    error(statement.location, "Option '\(option)' for ip address is not supported yet")
                } else {
                    error(statement.location, "Unknown configuration entry '\(option)' for ip address")
                }
                return nil
            }
            guard index + 1 < words.count else {
                error(statement.location, "Missing value for '\(option)' for ip address \(text)")
                return nil
            }
            let value = words[index + 1].text
            switch option {
            case "brd", "broadcast":
                guard let broadcast = IPv4Address(value) else {
                    error(statement.location, "Invalid broadcast address '\(value)' for \(text)")
                    return nil
                }
                vip.broadcast = broadcast
            case "dev":
                vip.device = value
            case "scope":
                guard ["site", "link", "host", "nowhere", "global"].contains(value) else {
                    error(statement.location, "Invalid scope '\(value)' specified for \(text)")
                    return nil
                }
                vip.scope = value
            default:
                vip.label = value
            }
            index += 2
        }
        return vip
    }

    private mutating func unicastPeer(_ statement: Statement, instance: String) -> UnicastPeer? {
        let text = statement.keyword
        guard statement.block == nil, let address = IPv4Address(text) else {
            if text.contains(":") {
                error(statement.location, "IPv6 unicast peer \(text) is not supported yet")
            } else {
                error(
                    statement.location,
                    "Configuration error: VRRP instance[\(instance)] malformed unicast peer address[\(text)]")
            }
            return nil
        }
        if statement.words.count > 1 {
            let option = statement.words[1].text
            if option == "min_ttl" || option == "max_ttl" {
                error(statement.location, "Option '\(option)' for unicast_peer is not supported yet")
            } else {
                error(statement.location, "Unknown configuration entry '\(option)' for unicast_peer \(text)")
            }
            return nil
        }
        return UnicastPeer(address: address, location: statement.location)
    }

    /// `notify_* SCRIPT [USER [GROUP]]`: a quoted script carries its arguments.
    private func notifyScript(_ statement: Statement) -> NotifyScript {
        let words = statement.words
        let user = words.count > 2 ? ScriptUser(user: words[2].text, group: words.count > 3 ? words[3].text : nil) : nil
        return NotifyScript(location: statement.location, command: commandWords(words[1...1]), user: user)
    }
}
