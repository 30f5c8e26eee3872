import HAProxyConfig

/// Compares one node's haproxy.cfg with the reference node's (the intended master): the same frontends and binds,
/// backends, servers, health checks, timeouts and balance algorithm. Standby and primary must proxy identically,
/// otherwise "the VIP moved but the service still fails" (seed, sections 八 and 九). A difference is an error unless
/// the line on either node carries `# portico: intended`, which turns it into an info line.
struct BalancerConsistency {
    let reference: LoadedNode
    let other: LoadedNode
    private let referenceText: BalancerText
    private let otherText: BalancerText
    private(set) var findings: [Finding] = []
    /// Differences already reported, by line and setting: a `defaults` line inherited by several proxies is
    /// reported once.
    private var reported: Set<String> = []

    init(reference: LoadedNode, other: LoadedNode) {
        self.reference = reference
        self.other = other
        referenceText = BalancerText(file: reference.source.balancerConfigPath, text: reference.balancerText)
        otherText = BalancerText(file: other.source.balancerConfigPath, text: other.balancerText)
    }

    static func compare(reference: LoadedNode, other: LoadedNode) -> [Finding] {
        var comparison = BalancerConsistency(reference: reference, other: other)
        comparison.run()
        return comparison.findings
    }

    private mutating func run() {
        let referenceConfig = reference.balancer.config
        let otherConfig = other.balancer.config
        compareGlobal(referenceConfig.global, otherConfig.global)

        for frontend in referenceConfig.frontends {
            guard let counterpart = otherConfig.frontend(named: frontend.name) else {
                missing("\(frontend.origin.rawValue) '\(frontend.name)'", at: Describe.location(frontend.location))
                continue
            }
            compareFrontend(frontend, counterpart)
        }
        for frontend in otherConfig.frontends where referenceConfig.frontend(named: frontend.name) == nil {
            // A listen section shows up as a frontend and a backend: report it once.
            extra("\(frontend.origin.rawValue) '\(frontend.name)'", at: Describe.location(frontend.location))
        }
        for backend in referenceConfig.backends {
            guard let counterpart = otherConfig.backend(named: backend.name) else {
                if backend.origin != .listen {
                    missing("backend '\(backend.name)'", at: Describe.location(backend.location))
                }
                continue
            }
            compareBackend(backend, counterpart)
        }
        for backend in otherConfig.backends
        where referenceConfig.backend(named: backend.name) == nil && backend.origin != .listen {
            extra("backend '\(backend.name)'", at: Describe.location(backend.location))
        }
    }

    // MARK: sections

    private mutating func compareGlobal(_ mine: GlobalSettings, _ theirs: GlobalSettings) {
        let referenceLine = mine.maxConnLocation.map(Describe.location)
        let otherLine = theirs.maxConnLocation.map(Describe.location) ?? FileLine(file: otherText.file, line: nil)
        difference(
            "global maxconn", mine.maxConn.map(String.init) ?? "unset", theirs.maxConn.map(String.init) ?? "unset",
            at: otherLine, referenceLine: referenceLine, severity: .warning)
        let mineLogs = mine.logTargets.map(Describe.logTarget)
        let theirLogs = theirs.logTargets.map(Describe.logTarget)
        difference(
            "global log", list(mineLogs), list(theirLogs),
            at: theirs.logTargets.first.map { Describe.location($0.location) }
                ?? FileLine(file: otherText.file, line: nil),
            referenceLine: mine.logTargets.first.map { Describe.location($0.location) }, severity: .warning)
    }

    private mutating func compareFrontend(_ mine: Frontend, _ theirs: Frontend) {
        let title = "\(theirs.origin.rawValue) '\(theirs.name)'"
        let mineHeader = Describe.location(mine.location)
        let theirHeader = Describe.location(theirs.location)
        func lines(_ keyword: String) -> (FileLine, FileLine) {
            (Describe.location(theirs.location(of: keyword)), Describe.location(mine.location(of: keyword)))
        }

        let mineBinds = mine.binds.map(Describe.bind).sorted()
        let theirBinds = theirs.binds.map(Describe.bind).sorted()
        if mineBinds != theirBinds {
            let firstDifferent = theirs.binds.first { !mineBinds.contains(Describe.bind($0)) }
            difference(
                "\(title) bind", list(mineBinds), list(theirBinds),
                at: firstDifferent.map { Describe.location($0.location) } ?? theirs.binds.first.map {
                    Describe.location($0.location)
                } ?? theirHeader,
                referenceLine: mine.binds.first.map { Describe.location($0.location) } ?? mineHeader)
        }
        var (at, from) = lines("mode")
        difference("\(title) mode", mine.mode.rawValue, theirs.mode.rawValue, at: at, referenceLine: from)
        difference(
            "\(title) backend", mine.routedBackend ?? "none", theirs.routedBackend ?? "none",
            at: theirs.defaultBackendLocation.map(Describe.location) ?? theirHeader,
            referenceLine: mine.defaultBackendLocation.map(Describe.location) ?? mineHeader)
        compareRouting(mine, theirs, title: title, mineHeader: mineHeader, theirHeader: theirHeader)
        (at, from) = lines("maxconn")
        difference(
            "\(title) maxconn", mine.maxConn.map(String.init) ?? "unset", theirs.maxConn.map(String.init) ?? "unset",
            at: at, referenceLine: from)
        for (keyword, mineValue, theirValue) in [
            ("client", mine.timeouts.client, theirs.timeouts.client),
            ("http-request", mine.timeouts.httpRequest, theirs.timeouts.httpRequest),
            ("http-keep-alive", mine.timeouts.httpKeepAlive, theirs.timeouts.httpKeepAlive),
        ] {
            (at, from) = lines("timeout \(keyword)")
            difference(
                "\(title) timeout \(keyword)", Describe.duration(mineValue), Describe.duration(theirValue), at: at,
                referenceLine: from)
        }
        (at, from) = lines("option forwardfor")
        difference(
            "\(title) option forwardfor", Describe.forwardFor(mine.forwardFor),
            Describe.forwardFor(theirs.forwardFor), at: at, referenceLine: from)
        (at, from) = (Describe.location(statsLine(theirs)), Describe.location(statsLine(mine)))
        difference(
            "\(title) stats page", mine.stats.map { "on \($0.uri)" } ?? "off",
            theirs.stats.map { "on \($0.uri)" } ?? "off", at: at, referenceLine: from)
    }

    private mutating func compareBackend(_ mine: Backend, _ theirs: Backend) {
        let title = "backend '\(theirs.name)'"
        func lines(_ keyword: String) -> (FileLine, FileLine) {
            (Describe.location(theirs.location(of: keyword)), Describe.location(mine.location(of: keyword)))
        }
        var (at, from) = lines("balance")
        difference(
            "\(title) balance", mine.balance.description, theirs.balance.description, at: at, referenceLine: from)
        if mine.origin != .listen {
            (at, from) = lines("mode")
            difference("\(title) mode", mine.mode.rawValue, theirs.mode.rawValue, at: at, referenceLine: from)
        }
        let mineCheck = Describe.healthCheck(mine.httpCheck)
        let theirCheck = Describe.healthCheck(theirs.httpCheck)
        if mineCheck != theirCheck {
            // Point at `http-check expect` when only the expectation differs, else at `option httpchk`.
            let sameRequest =
                mine.httpCheck.map { "\($0.method) \($0.uri) \($0.version)" }
                == theirs.httpCheck.map { "\($0.method) \($0.uri) \($0.version)" }
            (at, from) = lines(sameRequest ? "http-check expect" : "option httpchk")
            difference("\(title) health check", mineCheck, theirCheck, at: at, referenceLine: from)
        }
        (at, from) = lines("retries")
        difference("\(title) retries", "\(mine.retries)", "\(theirs.retries)", at: at, referenceLine: from)
        (at, from) = lines("option redispatch")
        difference(
            "\(title) option redispatch", Describe.redispatch(mine.redispatch), Describe.redispatch(theirs.redispatch),
            at: at, referenceLine: from)
        if mine.origin != .listen {
            (at, from) = lines("option forwardfor")
            difference(
                "\(title) option forwardfor", Describe.forwardFor(mine.forwardFor),
                Describe.forwardFor(theirs.forwardFor), at: at, referenceLine: from)
        }
        for (keyword, mineValue, theirValue) in [
            ("connect", mine.timeouts.connect, theirs.timeouts.connect),
            ("server", mine.timeouts.server, theirs.timeouts.server),
            ("queue", mine.timeouts.queue, theirs.timeouts.queue),
            ("check", mine.timeouts.check, theirs.timeouts.check),
            ("tunnel", mine.timeouts.tunnel, theirs.timeouts.tunnel),
        ] {
            (at, from) = lines("timeout \(keyword)")
            difference(
                "\(title) timeout \(keyword)", Describe.duration(mineValue), Describe.duration(theirValue), at: at,
                referenceLine: from)
        }

        for server in mine.servers {
            guard let counterpart = theirs.server(named: server.name) else {
                record(
                    .error, at: Describe.location(theirs.location),
                    "\(title) has no server \(server.name) (\(server.address)): \(reference.name) balances to it "
                        + "(\(Describe.location(server.location)))",
                    related: [Describe.location(server.location)])
                continue
            }
            compareServer(server, counterpart, in: title)
        }
        for server in theirs.servers where mine.server(named: server.name) == nil {
            record(
                .error, at: Describe.location(server.location),
                "\(title) server \(server.name) (\(server.address)) is not on \(reference.name)",
                related: [Describe.location(mine.location)])
        }
    }

    private mutating func compareServer(_ mine: Server, _ theirs: Server, in backend: String) {
        let title = "\(backend) server \(theirs.name)"
        let at = Describe.location(theirs.location)
        let from = Describe.location(mine.location)
        let pairs: [(String, String, String)] = [
            ("address", mine.address.description, theirs.address.description),
            ("check", mine.checkEnabled ? "on" : "off", theirs.checkEnabled ? "on" : "off"),
            ("inter", Describe.duration(mine.checkInterval), Describe.duration(theirs.checkInterval)),
            ("fastinter", Describe.duration(mine.fastInterval), Describe.duration(theirs.fastInterval)),
            ("downinter", Describe.duration(mine.downInterval), Describe.duration(theirs.downInterval)),
            ("fall", "\(mine.fall)", "\(theirs.fall)"),
            ("rise", "\(mine.rise)", "\(theirs.rise)"),
            ("weight", "\(mine.weight)", "\(theirs.weight)"),
            ("backup", mine.isBackup ? "yes" : "no", theirs.isBackup ? "yes" : "no"),
            ("disabled", mine.isDisabled ? "yes" : "no", theirs.isDisabled ? "yes" : "no"),
            ("maxconn", mine.maxConn.map(String.init) ?? "unlimited", theirs.maxConn.map(String.init) ?? "unlimited"),
            (
                "check port", mine.checkPort.map(String.init) ?? "server's",
                theirs.checkPort.map(String.init) ?? "server's"
            ),
            (
                "check addr", mine.checkAddress.map(\.description) ?? "server's",
                theirs.checkAddress.map(\.description) ?? "server's"
            ),
            ("slowstart", Describe.duration(mine.slowStart), Describe.duration(theirs.slowStart)),
        ]
        // inter also sets fastinter and downinter when they are not written: report the cause only.
        let interDiffers = pairs[2].1 != pairs[2].2
        for (name, mineValue, theirValue) in pairs {
            if interDiffers, name == "fastinter" || name == "downinter" { continue }
            difference("\(title) \(name)", mineValue, theirValue, at: at, referenceLine: from)
        }
    }

    /// Where the stats page is set up: its `stats uri` line, else the first `stats` line, else the header.
    private func statsLine(_ frontend: Frontend) -> SourceLocation {
        if frontend.isSet("stats uri") { return frontend.location(of: "stats uri") }
        let lines = frontend.keywordLocations.filter { $0.key.hasPrefix("stats ") }.map(\.value.line)
        return lines.min { ($0.file, $0.line) < ($1.file, $1.line) } ?? frontend.location
    }

    // MARK: findings

    private mutating func difference(
        _ what: String, _ referenceValue: String, _ otherValue: String, at location: FileLine,
        referenceLine: FileLine?, severity: Finding.Severity = .error
    ) {
        guard referenceValue != otherValue else { return }
        let setting = what.range(of: "' ").map { String(what[$0.upperBound...]) } ?? what
        guard reported.insert("\(location) \(setting) \(otherValue)").inserted else { return }
        let whereReference = referenceLine.map { " (\($0))" } ?? ""
        let message = "\(what) is \(otherValue) here but \(referenceValue) on \(reference.name)\(whereReference)"
        record(severity, at: location, message, related: referenceLine.map { [$0] } ?? [])
    }

    private mutating func missing(_ what: String, at referenceLine: FileLine) {
        record(
            .error, at: FileLine(file: otherText.file, line: nil),
            "\(what) is missing here: \(reference.name) has it (\(referenceLine))", related: [referenceLine])
    }

    private mutating func extra(_ what: String, at line: FileLine) {
        record(.error, at: line, "\(what) is not on \(reference.name)", related: [])
    }

    private mutating func record(
        _ severity: Finding.Severity, at location: FileLine, _ message: String, related: [FileLine]
    ) {
        let intended = otherText.isMarkedIntended(location) || related.contains { referenceText.isMarkedIntended($0) }
        if intended {
            findings.append(
                Finding(
                    .info, .balancer, node: other.name, at: location, "intended difference: " + message,
                    related: related))
        } else {
            findings.append(Finding(severity, .balancer, node: other.name, at: location, message, related: related))
        }
    }

    /// The `use_backend` rules in order: a request the standby routes elsewhere is the outage the seed warns
    /// about, even when both nodes name the same default backend.
    private mutating func compareRouting(
        _ mine: Frontend, _ theirs: Frontend, title: String, mineHeader: FileLine, theirHeader: FileLine
    ) {
        func rule(_ rule: BackendRule) -> String {
            "use_backend \(rule.backend)" + (rule.condition.map { " " + $0.text } ?? "")
        }
        let at = theirs.useBackends.first.map { Describe.location($0.location) } ?? theirHeader
        let referenceLine = mine.useBackends.first.map { Describe.location($0.location) } ?? mineHeader
        let mineRules = mine.useBackends.map(rule)
        let theirRules = theirs.useBackends.map(rule)
        difference(
            "\(title) use_backend rules", list(mineRules), list(theirRules), at: at, referenceLine: referenceLine)
        // The same words can mean other requests: an `acl` line of the same name that differs.
        let sameWordsOtherMeaning =
            mineRules == theirRules
            && zip(mine.useBackends, theirs.useBackends).contains { $0.condition != $1.condition }
        if sameWordsOtherMeaning {
            record(
                .error, at: at,
                "\(title) use_backend conditions read the same but their acl lines differ from those on "
                    + "\(reference.name): requests would be routed differently", related: [referenceLine])
        }
    }

    private func list(_ values: [String]) -> String { values.isEmpty ? "none" : values.joined(separator: ", ") }
}
