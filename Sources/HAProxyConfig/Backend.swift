/// A `backend` section, or the backend half of a `listen` section: where requests are balanced to servers.
public struct Backend: Sendable, Equatable, ProxyKeywordLocated {
    public var name: String
    public var origin: ProxyOrigin
    /// The line of the section header.
    public var location: SourceLocation
    public var mode: ProxyMode
    /// `balance`; HAProxy's default is `roundrobin`.
    public var balance: BalanceAlgorithm
    /// In declaration order (the order round robin starts from).
    public var servers: [Server]
    public var timeouts: Timeouts
    /// `retries N`: connection attempts retried after the first failure; HAProxy's default is 3.
    public var retries: Int
    /// `option redispatch [N]`, `no option redispatch`, or neither (``Redispatch/unset``).
    public var redispatch: Redispatch
    /// `fullconn`: load at which dynamic `minconn` limits reach `maxconn`; stored for completeness.
    public var fullConn: Int?
    /// `option httpchk` and `http-check ...`; nil: checks (for servers with `check`) are plain TCP connects.
    public var httpCheck: HTTPCheck?
    /// `option forwardfor` set on the backend side. HAProxy adds one header when the frontend or the backend enables
    /// it; when both do, the backend's header name is used and clients in either `except` network are skipped.
    public var forwardFor: ForwardFor?
    public var httpConnectionMode: HTTPConnectionMode
    public var logging: ProxyLogging
    /// Statistics page written in a backend section; for a listen section it is on the ``Frontend``.
    public var stats: StatsPage?
    /// `http-request use-service prometheus-exporter if { path P }` written in a backend section.
    public var prometheusExporterPath: String?
    /// `http-request` rules of a backend section, in file order (the prometheus-exporter line is not one of them).
    /// Empty for the backend half of a `listen` with `bind` lines: its rules are on the ``Frontend`` and run once.
    public var httpRequestRules: [HTTPRequestRule]
    /// `http-response` rules of a backend section in file order; empty for a listen's backend half, as above.
    public var httpResponseRules: [HTTPResponseRule]
    /// How many of ``httpRequestRules`` come before the prometheus-exporter line (nil without one). HAProxy runs
    /// that line in rule order: the rules before it also apply to requests for the exporter's path (a `deny`
    /// there refuses them), the ones after it never see those requests.
    public var prometheusExporterRuleIndex: Int?
    /// The lines that set this section's keywords, own or inherited from `defaults` (see ``ProxyKeywordLocated``).
    /// `errorfile` lines by code: the responses sent instead of the built-in pages.
    public var errorFiles: [Int: ErrorFile]
    public var keywordLocations: [String: KeywordLocation]

    public init(
        name: String, origin: ProxyOrigin = .backend, location: SourceLocation, mode: ProxyMode = .http,
        balance: BalanceAlgorithm = .roundRobin, servers: [Server] = [], timeouts: Timeouts = Timeouts(),
        retries: Int = Backend.defaultRetries, redispatch: Redispatch = .unset, fullConn: Int? = nil,
        httpCheck: HTTPCheck? = nil, forwardFor: ForwardFor? = nil, httpConnectionMode: HTTPConnectionMode = .keepAlive,
        logging: ProxyLogging = ProxyLogging(), stats: StatsPage? = nil, prometheusExporterPath: String? = nil,
        keywordLocations: [String: KeywordLocation] = [:], errorFiles: [Int: ErrorFile] = [:],
        httpRequestRules: [HTTPRequestRule] = [], httpResponseRules: [HTTPResponseRule] = [],
        prometheusExporterRuleIndex: Int? = nil
    ) {
        self.name = name
        self.origin = origin
        self.location = location
        self.mode = mode
        self.balance = balance
        self.servers = servers
        self.timeouts = timeouts
        self.retries = retries
        self.redispatch = redispatch
        self.fullConn = fullConn
        self.httpCheck = httpCheck
        self.forwardFor = forwardFor
        self.httpConnectionMode = httpConnectionMode
        self.logging = logging
        self.stats = stats
        self.prometheusExporterPath = prometheusExporterPath
        self.httpRequestRules = httpRequestRules
        self.httpResponseRules = httpResponseRules
        self.prometheusExporterRuleIndex = prometheusExporterRuleIndex
        self.prometheusExporterRuleIndex = prometheusExporterRuleIndex
        self.keywordLocations = keywordLocations
        self.errorFiles = errorFiles
    }

    /// HAProxy's default `retries`: 3.
    public static let defaultRetries = 3

    public func server(named name: String) -> Server? { servers.first { $0.name == name } }
}

/// `balance ALGORITHM`. HAProxy keeps one implementation per algorithm behind one table; so does BalancerCore.
public enum BalanceAlgorithm: Sendable, Equatable, CustomStringConvertible {
    /// `roundrobin`: weighted, dynamic (weights may change at runtime). HAProxy's default.
    case roundRobin
    /// `static-rr`: weighted, static.
    case staticRoundRobin
    /// `leastconn`: the server with the fewest active connections, round robin among equals.
    case leastConn
    /// `source`: hash of the client address.
    case source
    /// `first`: the first server (by declaration order) with free `maxconn` slots.
    case first
    /// `random` / `random(N)`: best of N random draws (power of N choices); HAProxy's default N is 2.
    case random(draws: Int)

    public var description: String {
        switch self {
        case .roundRobin: return "roundrobin"
        case .staticRoundRobin: return "static-rr"
        case .leastConn: return "leastconn"
        case .source: return "source"
        case .first: return "first"
        case .random(let draws): return draws == 2 ? "random" : "random(\(draws))"
        }
    }
}
