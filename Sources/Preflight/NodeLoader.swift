import HAProxyConfig
import KeepalivedConfig

/// Reads and parses each node's files through a ``NodeFileSystem`` and probes the scripts they reference.
public struct NodeLoader: Sendable {
    public var fileSystem: any NodeFileSystem
    /// Script files larger than this are not read for the heuristics (a check script is a few lines).
    public var maxScriptBytes = 64 * 1024

    public init(fileSystem: any NodeFileSystem = LocalFileSystem()) {
        self.fileSystem = fileSystem
    }

    public func load(_ source: NodeSource) -> LoadedNode {
        let fileSystem = self.fileSystem
        let balancerText: String
        var balancer: ConfigParseResult
        var balancerLoaded = true
        do {
            balancerText = try fileSystem.readText(source.balancerConfigPath)
            balancer = BalancerConfig.parse([ConfigFile(name: source.balancerConfigPath, text: balancerText)])
        } catch {
            balancerLoaded = false
            balancerText = ""
            balancer = ConfigParseResult(
                config: BalancerConfig(),
                diagnostics: [
                    .alert("Could not open configuration file \(source.balancerConfigPath) : \(reason(error))")
                ]
            )
        }
        let configSource = ConfigSource(
            read: { path in try fileSystem.readText(path) },
            listDirectory: { path in try fileSystem.listDirectory(path) }
        )
        let vrrp = KeepalivedConfigParser.parse(file: source.vrrpConfigPath, source: configSource)
        return LoadedNode(
            source: source, balancer: balancer, balancerText: balancerText, vrrp: vrrp,
            scripts: probeScripts(vrrp.config, source: source), balancerLoaded: balancerLoaded)
    }

    private func reason(_ error: Error) -> String {
        (error as? FileAccessError)?.reason ?? "\(error)"
    }

    private func probeScripts(_ config: VRRPConfig, source: NodeSource) -> [ScriptProbe] {
        var references: [(use: String, location: ConfigLocation, command: [String], user: ScriptUser?)] = []
        for script in config.scripts {
            references.append(
                ("vrrp_script \(script.name)", script.location(of: "script"), script.command, script.user))
        }
        for instance in config.instances {
            let notify = instance.notify
            let named: [(String, NotifyScript?)] = [
                ("notify_master", notify.master), ("notify_backup", notify.backup), ("notify_fault", notify.fault),
                ("notify_stop", notify.stop), ("notify", notify.any),
            ]
            for case (let keyword, let script?) in named {
                references.append(("\(keyword) of \(instance.name)", script.location, script.command, script.user))
            }
        }

        var probes: [ScriptProbe] = []
        for reference in references {
            guard let program = reference.command.first else { continue }
            let user = reference.user ?? config.global.scriptUser
            let runsAsRoot = user.map { $0.user == "root" || $0.user == "0" } ?? true
            if let index = probes.firstIndex(where: { $0.program == program }) {
                probes[index].uses.append(reference.use)
                probes[index].runsAsRoot = probes[index].runsAsRoot || runsAsRoot
                continue
            }
            probes.append(
                probe(
                    program: program, command: reference.command, use: reference.use,
                    reference: FileLine(file: reference.location.file, line: reference.location.line),
                    runsAsRoot: runsAsRoot, lookup: source.scripts))
        }
        return probes
    }

    private func probe(
        program: String, command: [String], use: String, reference: FileLine, runsAsRoot: Bool, lookup: ScriptLookup
    ) -> ScriptProbe {
        guard program.contains("/") else {
            // A bare name: Keepalived searches PATH on the node, which this machine cannot answer for.
            return ScriptProbe(
                uses: [use], reference: reference, command: command, checkedPath: nil, isCopy: false, chain: [],
                text: nil, runsAsRoot: runsAsRoot)
        }
        let checkedPath: String
        let chain: [PathStatus]
        switch lookup {
        case .deployed:
            checkedPath = program
            chain = ScriptSecurity.componentPaths(of: program).map {
                PathStatus(path: $0, status: fileSystem.status($0))
            }
        case .copies(let directory):
            let name = program.split(separator: "/").last.map(String.init) ?? program
            checkedPath = directory + "/" + name
            chain = [PathStatus(path: checkedPath, status: fileSystem.status(checkedPath))]
        }
        var text: String?
        if let status = chain.last?.status, status.kind == .regular,
            let contents = try? fileSystem.readText(checkedPath), contents.utf8.count <= maxScriptBytes
        {
            text = contents
        }
        let isCopy: Bool
        if case .copies = lookup { isCopy = true } else { isCopy = false }
        return ScriptProbe(
            uses: [use], reference: reference, command: command, checkedPath: checkedPath, isCopy: isCopy,
            chain: chain, text: text, runsAsRoot: runsAsRoot)
    }
}
