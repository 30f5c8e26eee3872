/// Everything a `defaults` section can preset, and that a proxy starts from. A new `defaults` section starts from
/// HAProxy's documented values (this type's initial values), or from another defaults section named with `from`.
struct ProxySettings: Sendable {
    var mode: ProxyMode = .http
    var balance: BalanceAlgorithm = .roundRobin
    var timeouts = Timeouts()
    var retries = Backend.defaultRetries
    var redispatch = Redispatch.unset
    var maxConn: Int?
    var fullConn: Int?
    var logs: [LogEntry] = []
    var httpLog = false
    var dontLogNull = false
    var forwardFor: ForwardFor?
    var connectionMode: HTTPConnectionMode = .keepAlive
    /// `option httpchk` seen (directly or inherited): checks are HTTP.
    var httpCheckEnabled = false
    var httpCheck = HTTPCheck()
    var httpCheckRules = HTTPCheckRules()
    var defaultServer = ServerDefaults()
    var stats: StatsPage?
    var defaultBackend: String?
    var defaultBackendLocation: SourceLocation?
    /// `errorfile` lines by the code they replace; a later line for the same code replaces an earlier one.
    var errorFiles: [Int: ErrorFile] = [:]
    /// The line that set each keyword, here or in the defaults section it came from.
    var keywordLocations: [String: KeywordLocation] = [:]
}

/// A `log` line of a proxy or defaults section, before `log global` is expanded.
enum LogEntry: Sendable {
    case global(SourceLocation)
    case target(LogTarget)
}

/// `http-check send` / `http-check expect` rules; kept apart from `option httpchk` because HAProxy inherits them
/// from defaults only when the proxy declares none of its own.
struct HTTPCheckRules: Sendable {
    var sendLocation: SourceLocation?
    var method: String?
    var uri: String?
    var version: String?
    var headers: [HTTPCheckHeader] = []
    var body: String?
    var expect: HTTPCheckExpectation?
    var expectLocation: SourceLocation?

    var isEmpty: Bool { sendLocation == nil && expectLocation == nil }
}

/// Options of `default-server`, which `server` lines start from. Initial values are HAProxy's defaults.
struct ServerDefaults: Sendable {
    var check = false
    var inter = Server.defaultInterval
    var fastInter: Duration?
    var downInter: Duration?
    var fall = Server.defaultFall
    var rise = Server.defaultRise
    var weight = Server.defaultWeight
    var backup = false
    var disabled = false
    var maxConn: Int?
    var checkPort: Int?
    var checkAddress: Host?
    var slowStart: Duration?
}

/// Which kind of section a line belongs to.
enum ProxyKind: String, Sendable {
    case defaults, frontend, backend, listen

    var sections: ProxySections {
        switch self {
        case .defaults: return .defaults
        case .frontend: return .frontend
        case .backend: return .backend
        case .listen: return .listen
        }
    }

    var hasFrontendCapability: Bool { self == .frontend || self == .listen }
    var hasBackendCapability: Bool { self == .backend || self == .listen }
}

/// A proxy (or defaults) section while its lines are being read.
struct ProxyDraft: Sendable {
    var kind: ProxyKind
    var name: String
    var location: SourceLocation
    var settings: ProxySettings
    var binds: [Bind] = []
    var bindLines = 0
    var useBackends: [BackendRule] = []
    /// `acl` lines by name; several lines of one name are OR-ed. Not inherited: HAProxy 2.6 keeps ACLs per section.
    var acls: [String: ACL] = [:]
    var servers: [Server] = []
    var prometheusExporterPath: String?
    /// `http-request` / `http-response` rules of this section, in file order (never inherited: HAProxy refuses
    /// them in an anonymous defaults section).
    var httpRequestRules: [HTTPRequestRule] = []
    var httpResponseRules: [HTTPResponseRule] = []
    /// `httpRequestRules.count` when the prometheus-exporter line was read.
    var prometheusExporterRuleIndex: Int?
    /// The first `http-check` rule of this section drops the inherited ones, as HAProxy does.
    var hasOwnHTTPCheckRules = false
    /// A line of this section was refused: warnings derived from what is missing would only be noise then.
    var hasAlerts = false

    init(kind: ProxyKind, name: String, location: SourceLocation, settings: ProxySettings) {
        self.kind = kind
        self.name = name
        self.location = location
        self.settings = settings
    }

    /// `frontend 'web_entry'`, as HAProxy names a proxy in messages.
    var title: String { "\(kind.rawValue) '\(name)'" }
}

/// A line split into words, with its location.
struct ConfigLine: Sendable {
    var words: [String]
    var location: SourceLocation

    var keyword: String { words.first ?? "" }
    var arguments: ArraySlice<String> { words.dropFirst() }

    func word(_ index: Int) -> String? { index < words.count ? words[index] : nil }
}

/// Collects diagnostics while parsing.
struct DiagnosticSink: Sendable {
    var items: [Diagnostic] = []

    mutating func alert(_ message: String, _ line: ConfigLine) {
        items.append(.alert(message, at: line.location))
    }

    mutating func warning(_ message: String, _ line: ConfigLine) {
        items.append(.warning(message, at: line.location))
    }
}
