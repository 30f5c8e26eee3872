/// A `frontend` section, or the frontend half of a `listen` section: where clients connect.
public struct Frontend: Sendable, Equatable, ProxyKeywordLocated {
    public var name: String
    public var origin: ProxyOrigin
    /// The line of the section header.
    public var location: SourceLocation
    public var mode: ProxyMode
    /// Every `bind` line's addresses, in order.
    public var binds: [Bind]
    /// `default_backend NAME`; for a `listen` section without one, its own backend's name.
    public var defaultBackend: String?
    /// Line of `default_backend` (nil for a listen's implicit one), so routing errors point at it.
    public var defaultBackendLocation: SourceLocation?
    /// `use_backend NAME [if|unless CONDITION]` rules, conditional or not, in the order written: the first one
    /// that applies to a request picks its backend (see ``backend(for:)``).
    public var useBackends: [BackendRule]
    /// `maxconn` of this frontend; nil → bounded only by the process-wide `global.maxconn`, as in HAProxy.
    public var maxConn: Int?
    public var timeouts: Timeouts
    public var logging: ProxyLogging
    /// `option forwardfor`; nil when not enabled.
    public var forwardFor: ForwardFor?
    public var httpConnectionMode: HTTPConnectionMode
    /// Statistics page served by this proxy (`stats enable`, `stats uri`, ...); nil when disabled.
    public var stats: StatsPage?
    /// Path served by `http-request use-service prometheus-exporter if { path /metrics }`; nil when absent.
    public var prometheusExporterPath: String?
    /// `http-request` rules in file order (the prometheus-exporter line is not one of them). A `listen` section's
    /// rules are here, on its frontend half only, so that they run once per request as in HAProxy.
    public var httpRequestRules: [HTTPRequestRule]
    /// `http-response` rules in file order; for a `listen` section, as for ``httpRequestRules``.
    public var httpResponseRules: [HTTPResponseRule]
    /// How many of ``httpRequestRules`` come before the prometheus-exporter line (nil without one). HAProxy runs
    /// that line in rule order: the rules before it also apply to requests for the exporter's path (a `deny`
    /// there refuses them), the ones after it never see those requests.
    public var prometheusExporterRuleIndex: Int?
    /// `errorfile` lines by code: the responses sent instead of the built-in pages.
    public var errorFiles: [Int: ErrorFile]
    /// The lines that set this section's keywords, own or inherited from `defaults` (see ``ProxyKeywordLocated``).
    public var keywordLocations: [String: KeywordLocation]

    public init(
        name: String, origin: ProxyOrigin = .frontend, location: SourceLocation, mode: ProxyMode = .http,
        binds: [Bind] = [], defaultBackend: String? = nil, defaultBackendLocation: SourceLocation? = nil,
        useBackends: [BackendRule] = [], maxConn: Int? = nil, timeouts: Timeouts = Timeouts(),
        logging: ProxyLogging = ProxyLogging(), forwardFor: ForwardFor? = nil,
        httpConnectionMode: HTTPConnectionMode = .keepAlive, stats: StatsPage? = nil,
        prometheusExporterPath: String? = nil, keywordLocations: [String: KeywordLocation] = [:],
        errorFiles: [Int: ErrorFile] = [:], httpRequestRules: [HTTPRequestRule] = [],
        httpResponseRules: [HTTPResponseRule] = [], prometheusExporterRuleIndex: Int? = nil
    ) {
        self.name = name
        self.origin = origin
        self.location = location
        self.mode = mode
        self.binds = binds
        self.defaultBackend = defaultBackend
        self.defaultBackendLocation = defaultBackendLocation
        self.useBackends = useBackends
        self.maxConn = maxConn
        self.timeouts = timeouts
        self.logging = logging
        self.forwardFor = forwardFor
        self.httpConnectionMode = httpConnectionMode
        self.stats = stats
        self.prometheusExporterPath = prometheusExporterPath
        self.httpRequestRules = httpRequestRules
        self.httpResponseRules = httpResponseRules
        self.prometheusExporterRuleIndex = prometheusExporterRuleIndex
        self.errorFiles = errorFiles
        self.keywordLocations = keywordLocations
    }

    /// The first unconditional `use_backend`, else `default_backend`: the backend of every request when
    /// ``hasConditionalRouting`` is false.
    public var routedBackend: String? { useBackends.first { $0.condition == nil }?.backend ?? defaultBackend }
}

extension Frontend {
    /// The backend for one request: the first `use_backend` whose condition matches (no condition: always),
    /// else `default_backend`.
    public func backend(for subject: some ACLSubject) -> String? {
        for rule in useBackends where rule.condition?.matches(subject) ?? true {
            return rule.backend
        }
        return defaultBackend
    }

    /// True when some `use_backend` has a condition (else `routedBackend` is the backend of every request, as today).
    public var hasConditionalRouting: Bool { useBackends.contains { $0.condition != nil } }

    /// Every backend this frontend can send to: each use_backend's and the default, without duplicates, in rule order.
    public var reachableBackends: [String] {
        var seen: Set<String> = []
        return (useBackends.map(\.backend) + (defaultBackend.map { [$0] } ?? [])).filter { seen.insert($0).inserted }
    }
}

/// A `use_backend NAME [if|unless CONDITION]` line.
public struct BackendRule: Sendable, Equatable {
    public var backend: String
    public var location: SourceLocation
    /// nil: unconditional.
    public var condition: Condition?

    public init(backend: String, location: SourceLocation, condition: Condition? = nil) {
        self.backend = backend
        self.location = location
        self.condition = condition
    }
}

/// One listening address of a `bind` line (a line with `a:80,b:81` yields two).
public struct Bind: Sendable, Equatable {
    public var address: BindAddress
    /// The whole address argument as written, for messages and the stats page.
    public var text: String
    public var location: SourceLocation
    /// `name NAME` bind option.
    public var name: String?
    /// `v4v6`: an IPv6 wildcard also accepts IPv4; `v6only`: it does not. nil: the system default.
    public var v6Only: Bool?

    public init(address: BindAddress, text: String, location: SourceLocation, name: String? = nil, v6Only: Bool? = nil)
    {
        self.address = address
        self.text = text
        self.location = location
        self.name = name
        self.v6Only = v6Only
    }
}
