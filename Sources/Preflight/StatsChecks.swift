import HAProxyConfig

/// The statistics page of one node. The seed binds it to `*:8404` "for the lab" and says production should bind a
/// management address behind a firewall (section 三); it also ships the placeholder `admin:strong_password_here`.
enum StatsChecks {
    /// Passwords found in examples and defaults, the seed's placeholder included.
    static let knownDefaults: Set<String> = [
        "strong_password_here", "password", "passw0rd", "admin", "administrator", "haproxy", "stats", "secret",
        "changeme", "change_me", "123456", "12345678", "root", "test", "letmein", "qwerty", "default",
    ]
    /// Shorter passwords are flagged: the stats page has no rate limit on Basic authentication.
    static let minimumLength = 12

    static func check(_ node: LoadedNode) -> [Finding] {
        let config = node.balancer.config
        var findings: [Finding] = []
        for frontend in config.frontends {
            let backendStats = frontend.routedBackend.flatMap { config.backend(named: $0)?.stats }
            guard let stats = frontend.stats ?? backendStats else { continue }
            let title = "\(frontend.origin.rawValue) '\(frontend.name)'"
            for bind in frontend.binds {
                guard bind.address.host == .anyIPv4 || bind.address.host == .anyIPv6 else { continue }
                findings.append(
                    Finding(
                        .warning, .stats, node: node.name, at: Describe.location(bind.location),
                        "\(title) serves the stats page on \(Describe.bind(bind)), every address of the node, the "
                            + "VIP included; bind it to a management address and allow only the management network"))
            }
            if stats.credentials.isEmpty {
                findings.append(
                    Finding(
                        .warning, .stats, node: node.name, at: Describe.location(frontend.location),
                        "\(title) serves the stats page without 'stats auth': anyone who reaches it sees every "
                            + "backend and server"))
            }
            for credential in stats.credentials {
                guard let weakness = weakness(credential) else { continue }
                let line = credential.location ?? frontend.location(of: "stats auth")
                findings.append(
                    Finding(
                        .warning, .stats, node: node.name, at: Describe.location(line),
                        "\(title) stats auth \(credential.user): \(weakness); choose a long random password"))
            }
        }
        return findings
    }

    static func weakness(_ credential: StatsCredential) -> String? {
        let password = credential.password
        if knownDefaults.contains(password.lowercased()) {
            return password == "strong_password_here"
                ? "the password is the seed's placeholder" : "the password is a well-known default"
        }
        if password.lowercased() == credential.user.lowercased() { return "the password is the user name" }
        if password.count < minimumLength { return "the password is shorter than \(minimumLength) characters" }
        return nil
    }
}
