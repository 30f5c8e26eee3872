/// Turns a parsed proxy section into the balancer's ``Frontend`` / ``Backend`` with every effective value resolved.
enum ProxyAssembly {
    static func add(_ draft: ProxyDraft, global: GlobalSettings, to config: inout BalancerConfig) {
        var draft = draft
        if draft.settings.mode == .tcp {
            // HTTP-only settings of a tcp proxy are ignored, as HAProxy does (ConfigValidation warns).
            draft.settings.httpLog = false
            draft.settings.forwardFor = nil
            draft.settings.stats = nil
            draft.prometheusExporterPath = nil
            draft.httpRequestRules = []
            draft.httpResponseRules = []
            draft.prometheusExporterRuleIndex = nil
        }
        let settings = draft.settings
        let logging = ProxyLogging(
            targets: logTargets(settings.logs, global: global), httpLog: settings.httpLog,
            dontLogNull: settings.dontLogNull)

        // A listen section without bind is only a backend (HAProxy uses it that way too).
        if draft.kind == .frontend || (draft.kind == .listen && draft.bindLines > 0) {
            let isListen = draft.kind == .listen
            config.frontends.append(
                Frontend(
                    name: draft.name, origin: isListen ? .listen : .frontend, location: draft.location,
                    mode: settings.mode, binds: draft.binds,
                    defaultBackend: settings.defaultBackend ?? (isListen ? draft.name : nil),
                    defaultBackendLocation: settings.defaultBackend == nil ? nil : settings.defaultBackendLocation,
                    useBackends: draft.useBackends, maxConn: settings.maxConn, timeouts: settings.timeouts,
                    logging: logging, forwardFor: settings.forwardFor, httpConnectionMode: settings.connectionMode,
                    stats: settings.stats, prometheusExporterPath: draft.prometheusExporterPath,
                    keywordLocations: settings.keywordLocations, errorFiles: settings.errorFiles,
                    httpRequestRules: draft.httpRequestRules, httpResponseRules: draft.httpResponseRules,
                    prometheusExporterRuleIndex: draft.prometheusExporterRuleIndex))
        }
        if draft.kind == .backend || draft.kind == .listen {
            let isListen = draft.kind == .listen
            let hasFrontend = isListen && draft.bindLines > 0
            config.backends.append(
                Backend(
                    name: draft.name, origin: isListen ? .listen : .backend, location: draft.location,
                    mode: settings.mode, balance: settings.balance, servers: draft.servers, timeouts: settings.timeouts,
                    retries: settings.retries, redispatch: settings.redispatch, fullConn: settings.fullConn,
                    httpCheck: httpCheck(settings), forwardFor: settings.forwardFor,
                    httpConnectionMode: settings.connectionMode, logging: logging,
                    stats: hasFrontend ? nil : settings.stats,
                    prometheusExporterPath: hasFrontend ? nil : draft.prometheusExporterPath,
                    keywordLocations: settings.keywordLocations, errorFiles: settings.errorFiles,
                    // A listen is one proxy: its rules run once, on the frontend half (when it has one).
                    httpRequestRules: hasFrontend ? [] : draft.httpRequestRules,
                    httpResponseRules: hasFrontend ? [] : draft.httpResponseRules,
                    prometheusExporterRuleIndex: hasFrontend ? nil : draft.prometheusExporterRuleIndex))
        }
    }

    /// `log global` expands to the global section's targets, in place.
    static func logTargets(_ entries: [LogEntry], global: GlobalSettings) -> [LogTarget] {
        entries.flatMap { entry -> [LogTarget] in
            switch entry {
            case .global: return global.logTargets
            case .target(let target): return [target]
            }
        }
    }

    /// `option httpchk` values, overridden by `http-check send meth/uri/ver`; headers of the legacy
    /// `option httpchk ... HTTP/1.1\r\nHost:\ x` form first, then `http-check send hdr` ones; body and expect.
    static func httpCheck(_ settings: ProxySettings) -> HTTPCheck? {
        guard settings.httpCheckEnabled else { return nil }
        let rules = settings.httpCheckRules
        var check = settings.httpCheck
        check.method = rules.method ?? check.method
        check.uri = rules.uri ?? check.uri
        check.version = rules.version ?? check.version
        check.headers += rules.headers
        check.body = rules.body
        check.expect = rules.expect
        return check
    }
}

/// Checks that need the whole configuration: routing targets, listeners, servers, timeouts.
enum ConfigValidation {
    static func check(_ config: BalancerConfig, proxies: [ProxyDraft], sink: inout DiagnosticSink) {
        let backendNames = Set(config.backends.map(\.name))
        for draft in proxies {
            let settings = draft.settings
            if draft.kind.hasFrontendCapability {
                if let target = settings.defaultBackend, !backendNames.contains(target) {
                    sink.items.append(
                        .alert(
                            "Proxy '\(draft.name)': unable to find required default_backend: '\(target)'.",
                            at: settings.defaultBackendLocation ?? draft.location))
                }
                for rule in draft.useBackends where !backendNames.contains(rule.backend) {
                    sink.items.append(
                        .alert(
                            "Proxy '\(draft.name)': unable to find required use_backend: '\(rule.backend)'.",
                            at: rule.location))
                }
            }
            if draft.kind == .frontend && draft.bindLines == 0 {
                sink.items.append(
                    .alert(
                        "frontend '\(draft.name)' has no 'bind' directive. Please declare it as a backend if this "
                            + "was intended.", at: draft.location))
            }
            if draft.kind == .frontend, !draft.hasAlerts, settings.defaultBackend == nil, draft.useBackends.isEmpty,
                settings.stats == nil, draft.prometheusExporterPath == nil
            {
                sink.items.append(
                    .warning(
                        "frontend '\(draft.name)' has no 'default_backend' nor 'use_backend': every request will "
                            + "get 503 Service Unavailable.", at: draft.location))
            }
            let servesLocally = settings.stats != nil || draft.prometheusExporterPath != nil
            if draft.kind.hasBackendCapability, !draft.hasAlerts, draft.servers.isEmpty, !servesLocally {
                sink.items.append(
                    .warning(
                        "\(draft.title) has no server; requests sent to it will get 503 Service Unavailable.",
                        at: draft.location))
            }
            if draft.kind.hasBackendCapability, !settings.httpCheckEnabled, !settings.httpCheckRules.isEmpty {
                let location = settings.httpCheckRules.sendLocation ?? settings.httpCheckRules.expectLocation
                sink.items.append(
                    .warning(
                        "\(draft.title): 'http-check' rules are ignored because 'option httpchk' is not set; "
                            + "checks are plain TCP connections.", at: location ?? draft.location))
            }
            missingTimeouts(draft, sink: &sink)
            if settings.mode == .tcp {
                httpOnlyKeywords(draft, sink: &sink)
                if draft.kind.hasFrontendCapability { requestFetchesInTCPMode(draft, sink: &sink) }
            }
            if draft.kind.hasFrontendCapability {
                modeMismatch(draft, config: config, sink: &sink)
            }
        }
    }

    /// HAProxy's warnings for HTTP-only keywords in a `mode tcp` proxy (the keywords are then ignored).
    private static func httpOnlyKeywords(_ draft: ProxyDraft, sink: inout DiagnosticSink) {
        let settings = draft.settings
        let located = settings.keywordLocations
        if draft.kind.hasFrontendCapability, settings.httpLog {
            sink.items.append(
                .warning(
                    "'option httplog' not usable with \(draft.title) (needs 'mode http'). Falling back to "
                        + "'option tcplog'.", at: located["option httplog"]?.line ?? draft.location))
        }
        if settings.forwardFor != nil {
            sink.items.append(
                .warning(
                    "'option forwardfor' ignored for \(draft.title) as it requires HTTP mode.",
                    at: located["option forwardfor"]?.line ?? draft.location))
        }
        if settings.stats != nil {
            let line = located.filter { $0.key.hasPrefix("stats ") }.map(\.value.line).min { $0.line < $1.line }
            sink.items.append(
                .warning(
                    "'stats' statement ignored for \(draft.title) as it requires HTTP mode.",
                    at: line ?? draft.location))
        }
        if draft.prometheusExporterPath != nil || !draft.httpRequestRules.isEmpty {
            let first = draft.httpRequestRules.first?.location
            sink.items.append(
                .warning(
                    "'http-request' rules ignored for \(draft.title) as they require HTTP mode.",
                    at: [first, located["http-request"]?.line].compactMap { $0 }.min { $0.line < $1.line }
                        ?? draft.location))
        }
        if let first = draft.httpResponseRules.first {
            sink.items.append(
                .warning(
                    "'http-response' rules ignored for \(draft.title) as they require HTTP mode.",
                    at: first.location))
        }
    }

    /// A `mode tcp` frontend picks its backend when the connection arrives, before any byte is read: Portico
    /// routes it on the client address only. (HAProxy would try to parse the stream as HTTP there.)
    private static func requestFetchesInTCPMode(_ draft: ProxyDraft, sink: inout DiagnosticSink) {
        for rule in draft.useBackends {
            guard let fetch = rule.condition?.firstRequestFetch else { continue }
            sink.items.append(
                .alert(
                    "error detected while parsing switching rule : fetch method '\(fetch.keyword)' extracts "
                        + "information from '\(fetch.source)', none of which is available here (in a 'mode tcp' "
                        + "\(draft.kind.rawValue) Portico routes on 'src', 'always_true' and 'always_false' only).",
                    at: rule.location))
        }
    }

    /// A frontend and the backends it sends to must speak the same mode. HAProxy refuses an http frontend with
    /// a tcp backend; a tcp frontend with an http backend is an implicit upgrade to HTTP in HAProxy, which
    /// Portico does not do.
    private static func modeMismatch(_ draft: ProxyDraft, config: BalancerConfig, sink: inout DiagnosticSink) {
        let mode = draft.settings.mode
        var targets: [(name: String, what: String, at: SourceLocation)] = []
        if let target = draft.settings.defaultBackend {
            targets.append((target, "default backend", draft.settings.defaultBackendLocation ?? draft.location))
        }
        for rule in draft.useBackends { targets.append((rule.backend, "backend", rule.location)) }
        let kind = draft.kind == .listen ? "proxy" : draft.kind.rawValue
        for target in targets {
            guard let backend = config.backends.first(where: { $0.name == target.name }), backend.mode != mode
            else { continue }
            let backendKind = backend.origin == .listen ? "proxy" : "backend"
            if mode == .http {
                sink.items.append(
                    .alert(
                        "http \(kind) '\(draft.name)' (\(draft.location)) tries to use incompatible tcp "
                            + "\(backendKind) '\(backend.name)' (\(backend.location)) as its \(target.what) "
                            + "(see 'mode').", at: target.at))
            } else {
                sink.items.append(
                    .alert(
                        "tcp \(kind) '\(draft.name)' using http \(backendKind) '\(backend.name)' "
                            + "(\(backend.location)) is not supported yet by Portico (HAProxy upgrades the "
                            + "connection to HTTP there); give both the same 'mode'.", at: target.at))
            }
        }
    }

    /// HAProxy's warning when a proxy lacks the timeouts that keep dead peers from holding connections forever.
    private static func missingTimeouts(_ draft: ProxyDraft, sink: inout DiagnosticSink) {
        let timeouts = draft.settings.timeouts
        let missingClient = draft.kind.hasFrontendCapability && timeouts.client == nil
        let missingServer = draft.kind.hasBackendCapability && (timeouts.connect == nil || timeouts.server == nil)
        if missingClient || missingServer {
            sink.items.append(
                .warning(
                    "missing timeouts for \(draft.title). While not properly invalid, you will certainly encounter "
                        + "various problems with such a configuration. To fix this, please ensure that all following "
                        + "timeouts are set to a non-zero value: 'client', 'connect', 'server'.", at: draft.location))
        }
    }
}
