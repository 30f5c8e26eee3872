/// Who a script runs as: the user named in the configuration and the ids it was looked up to.
public struct ScriptIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The user's name as written (or `keepalived_script`, or the daemon's own user), for messages.
    public var user: String
    public var uid: UInt32
    public var gid: UInt32

    public init(user: String, uid: UInt32, gid: UInt32) {
        self.user = user
        self.uid = uid
        self.gid = gid
    }

    /// `nobody (uid:gid 65534:65534)`.
    public var description: String { "\(user) (uid:gid \(uid):\(gid))" }
}

/// The user database as the script plan needs it (`getpwnam`, `getgrnam`), and who the daemon itself is.
/// Injected so the plan is pure; `portico vrrp` passes the machine's own.
public struct ScriptAccounts: Sendable {
    public var user: @Sendable (String) -> (uid: UInt32, gid: UInt32)?
    public var group: @Sendable (String) -> UInt32?
    /// The daemon's own user: Keepalived's default when `keepalived_script` does not exist.
    public var daemon: ScriptIdentity

    public init(
        user: @escaping @Sendable (String) -> (uid: UInt32, gid: UInt32)?,
        group: @escaping @Sendable (String) -> UInt32?, daemon: ScriptIdentity
    ) {
        self.user = user
        self.group = group
        self.daemon = daemon
    }
}

/// What the file system says about a script's path, injected like ``ScriptAccounts``.
public struct ScriptFiles: Sendable {
    /// `lstat(2)`: a symbolic link is reported as itself (Keepalived judges its owner, not its mode).
    public var status: @Sendable (String) -> FileStatus?
    /// `realpath(3)`: the file a path ends at, links resolved; nil when it does not exist.
    public var resolve: @Sendable (String) -> String?
    /// Where a bare program name is found through PATH, as it will be when it runs; nil when it is not.
    public var search: @Sendable (String) -> String?

    public init(
        status: @escaping @Sendable (String) -> FileStatus?, resolve: @escaping @Sendable (String) -> String?,
        search: @escaping @Sendable (String) -> String? = { _ in nil }
    ) {
        self.status = status
        self.resolve = resolve
        self.search = search
    }
}

/// Who runs each script of a configuration and which scripts may not run, as Keepalived decides when it loads a
/// configuration (keepalived.conf(5) SCRIPTS, `script_user`, `enable_script_security`; `get_default_script_user()`,
/// `check_script_secure()` and `check_vrrp_script_security()` in Keepalived 2.2).
///
/// - Every script runs as its own `user USER [GROUP]`, else `script_user USER [GROUP]`, else `keepalived_script`
///   when that user exists, else as the daemon itself (root), which is logged once.
/// - A user or group that does not exist is an error (Keepalived drops the script; Portico refuses the file).
///   With `enable_script_security` a missing `keepalived_script` without `script_user` is an error too.
/// - A script run with uid 0 or gid 0 whose path a non-root user could change (``ScriptSecurity``) is, with
///   `enable_script_security`, disabled: it never runs, and instances tracking it ignore it, as Keepalived removes
///   it from their track_script lists. Without the option it runs, with a warning.
public struct ScriptPlan: Sendable {
    /// The configuration to run: every script's `runAs` filled in, disabled scripts removed.
    public var config: VRRPConfig
    /// Problems that stop the configuration from loading (unknown users and groups).
    public var errors: [Diagnostic]
    /// What the daemon logs once when it loads the configuration, and `portico vrrp -t` prints. An `.error` here
    /// is a script that is disabled (Keepalived's `-t` fails on it too); the daemon still runs without it.
    public var notices: [Diagnostic]
    /// `vrrp_script` names disabled as insecure.
    public var disabledChecks: Set<String>

    /// Keepalived's name for the default script user.
    public static let defaultUser = "keepalived_script"

    public init(_ config: VRRPConfig, accounts: ScriptAccounts, files: ScriptFiles) {
        self.config = config
        errors = []
        notices = []
        disabledChecks = []
        let users = resolveUsers(accounts: accounts)
        secure(users: users, files: files)
    }

    /// A script keepalived.conf names: which one, its line, its command and who runs it.
    private struct Reference {
        enum Use {
            case check(index: Int)
            case notify(instance: Int, keyword: String)
        }

        var use: Use
        var name: String
        var location: ConfigLocation
        var command: [String]
        var identity: ScriptIdentity
    }

    private static let notifyKeywords = ["notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"]

    private static func notifyScript(_ scripts: NotifyScripts, _ keyword: String) -> NotifyScript? {
        switch keyword {
        case "notify_master": return scripts.master
        case "notify_backup": return scripts.backup
        case "notify_fault": return scripts.fault
        case "notify_stop": return scripts.stop
        default: return scripts.any
        }
    }

    private static func setNotifyScript(_ scripts: inout NotifyScripts, _ keyword: String, _ script: NotifyScript?) {
        switch keyword {
        case "notify_master": scripts.master = script
        case "notify_backup": scripts.backup = script
        case "notify_fault": scripts.fault = script
        case "notify_stop": scripts.stop = script
        default: scripts.any = script
        }
    }

    private static func resolve(_ user: ScriptUser, _ accounts: ScriptAccounts) -> Result<ScriptIdentity, Failure> {
        guard let account = accounts.user(user.user) else {
            return .failure(Failure("Script user '\(user.user)' does not exist"))
        }
        var gid = account.gid
        if let group = user.group {
            guard let found = accounts.group(group) else {
                return .failure(Failure("Script group '\(group)' does not exist"))
            }
            gid = found
        }
        return .success(ScriptIdentity(user: user.user, uid: account.uid, gid: gid))
    }

    private struct Failure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Looks every script's user up, fills in `runAs`, and returns the scripts that have one.
    private mutating func resolveUsers(accounts: ScriptAccounts) -> [Reference] {
        let security = config.global.enableScriptSecurity
        var fallback: ScriptIdentity?
        var globalUserFailed = false
        var warnedRoot = false
        if let user = config.global.scriptUser {
            switch Self.resolve(user, accounts) {
            case .success(let identity): fallback = identity
            case .failure(let failure):
                globalUserFailed = true
                errors.append(
                    .error(
                        config.global.location(of: "script_user"),
                        "\(failure.reason): Error setting global script uid/gid"))
            }
        }
        // Keepalived looks the default up when the first script needs it, and says so once.
        func defaultIdentity(for what: String, at location: ConfigLocation) -> ScriptIdentity? {
            if let fallback { return fallback }
            if globalUserFailed { return nil }
            if let account = accounts.user(Self.defaultUser) {
                fallback = ScriptIdentity(user: Self.defaultUser, uid: account.uid, gid: account.gid)
                return fallback
            }
            if security {
                errors.append(
                    .error(
                        location,
                        "Unable to set default user \(Self.defaultUser) for \(what): the user does not exist and no "
                            + "script_user is set, and enable_script_security forbids falling back to root; create "
                            + "the user or set script_user / user"))
                return nil
            }
            if !warnedRoot {
                warnedRoot = true
                notices.append(
                    .warning(
                        location,
                        "WARNING - default user '\(Self.defaultUser)' for script execution does not exist - please "
                            + "create. Scripts run as \(accounts.daemon.user) since no script_user is set"))
            }
            return accounts.daemon
        }

        // A script's own user when it names one (an unknown one is an error, worded by `failure`), else the default.
        func identity(
            _ user: ScriptUser?, at location: ConfigLocation, default what: String,
            failure message: (String) -> String
        ) -> ScriptIdentity? {
            guard let user else { return defaultIdentity(for: what, at: location) }
            switch Self.resolve(user, accounts) {
            case .success(let found): return found
            case .failure(let failure):
                errors.append(.error(location, message(failure.reason)))
                return nil
            }
        }

        var references: [Reference] = []
        for index in config.scripts.indices {
            let script = config.scripts[index]
            guard
                let identity = identity(
                    script.user, at: script.location(of: script.user == nil ? "script" : "user"),
                    default: "vrrp script \(script.name)",
                    failure: { "\($0): Unable to set uid/gid for script '\(script.command.joined(separator: " "))'" })
            else { continue }
            config.scripts[index].runAs = identity
            references.append(
                Reference(
                    use: .check(index: index), name: "track script \(script.name)",
                    location: script.location(of: "script"), command: script.command, identity: identity))
        }
        for index in config.instances.indices {
            let instance = config.instances[index]
            for keyword in Self.notifyKeywords {
                guard let script = Self.notifyScript(instance.notify, keyword) else { continue }
                guard
                    let identity = identity(
                        script.user, at: script.location, default: "\(keyword) script of \(instance.name)",
                        failure: { "\($0): Invalid user/group for \(keyword) script " + (script.command.first ?? "") })
                else { continue }
                var resolved = script
                resolved.runAs = identity
                Self.setNotifyScript(&config.instances[index].notify, keyword, resolved)
                references.append(
                    Reference(
                        use: .notify(instance: index, keyword: keyword),
                        name: "\(keyword) script of \(instance.name)", location: script.location,
                        command: script.command, identity: identity))
            }
        }
        return references
    }

    /// Applies Keepalived's script security to every script with an absolute path that exists.
    private mutating func secure(users references: [Reference], files: ScriptFiles) {
        let security = config.global.enableScriptSecurity
        var foundScript = false
        var foundInsecure = false
        var disabledNotify: [(instance: Int, keyword: String)] = []
        for reference in references {
            // A bare name is judged where PATH finds it (Keepalived does the same search); a missing file is not a
            // security matter: it fails when it runs.
            guard let written = reference.command.first,
                let program = written.contains("/") ? written : files.search(written),
                let real = files.resolve(program), let file = files.status(real)
            else { continue }
            if program != written {
                notices.append(
                    .warning(
                        reference.location,
                        "WARNING - script `\(written)` resolved by path search to `\(program)`. Please specify "
                            + "full path."))
            }
            foundScript = true
            guard ScriptSecurity.needsProtection(reference.identity, file: file) else { continue }
            func chain(_ path: String) -> [PathStatus] {
                ScriptSecurity.componentPaths(of: path).map { PathStatus(path: $0, status: files.status($0)) }
            }
            // The path as written (a link in it is judged by its owner) and the file it ends at.
            let resolved = real == program ? [] : chain(real)
            guard
                let unsafe = ScriptSecurity.unsafeComponent(in: chain(program))
                    ?? ScriptSecurity.unsafeComponent(in: resolved)
            else { continue }
            foundInsecure = true
            let runs = "run as \(reference.identity)"
            guard security else {
                notices.append(
                    .warning(
                        reference.location,
                        "Unsafe permissions found for script '\(program)': \(unsafe); the \(reference.name) is "
                            + "\(runs), so whoever can write there runs commands as root (enable_script_security "
                            + "would refuse it)"))
                continue
            }
            switch reference.use {
            case .check(let index):
                let name = config.scripts[index].name
                disabledChecks.insert(name)
                notices.append(
                    .error(
                        reference.location,
                        "Disabling track script \(name) due to insecure: unsafe permissions found for script "
                            + "'\(program)' (\(runs)): \(unsafe); it never runs and the instances tracking it "
                            + "ignore it"))
            case .notify(let instance, let keyword):
                disabledNotify.append((instance, keyword))
                notices.append(
                    .error(
                        reference.location,
                        "Disabling \(reference.name) due to insecure: unsafe permissions found for script "
                            + "'\(program)' (\(runs)): \(unsafe); it never runs"))
            }
        }
        for (instance, keyword) in disabledNotify {
            Self.setNotifyScript(&config.instances[instance].notify, keyword, nil)
        }
        if !disabledChecks.isEmpty {
            let disabled = disabledChecks
            config.scripts.removeAll { disabled.contains($0.name) }
            for index in config.instances.indices {
                config.instances[index].trackScripts.removeAll { disabled.contains($0.name) }
            }
        }
        if !security && foundScript {
            notices.append(
                .warning(
                    nil,
                    "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
                        + (foundInsecure ? " There are insecure scripts." : "")))
        }
    }
}
