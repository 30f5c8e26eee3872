/// The statistics page of a proxy: `stats enable`, `stats uri`, `stats refresh`, `stats auth`, `stats realm`,
/// `stats hide-version`, `stats admin if TRUE|LOCALHOST`. Any `stats` keyword implies `stats enable`, as in HAProxy.
public struct StatsPage: Sendable, Equatable {
    /// HAProxy's default `stats uri`: `/haproxy?stats`. Requests whose path starts with it get the page.
    public var uri: String
    /// `stats refresh`: the page reloads itself this often; nil: no automatic refresh.
    public var refresh: Duration?
    /// `stats auth USER:PASS` lines; empty: no authentication.
    public var credentials: [StatsCredential]
    /// `stats realm`; HAProxy's default realm is `HAProxy Statistics`.
    public var realm: String
    /// `stats hide-version`.
    public var hideVersion: Bool
    /// `stats admin if ...`; nil: the page is read-only.
    public var admin: StatsAdminCondition?

    public init(
        uri: String = StatsPage.defaultURI, refresh: Duration? = nil, credentials: [StatsCredential] = [],
        realm: String = StatsPage.defaultRealm, hideVersion: Bool = false, admin: StatsAdminCondition? = nil
    ) {
        self.uri = uri
        self.refresh = refresh
        self.credentials = credentials
        self.realm = realm
        self.hideVersion = hideVersion
        self.admin = admin
    }

    public static let defaultURI = "/haproxy?stats"
    public static let defaultRealm = "HAProxy Statistics"
}

public struct StatsCredential: Sendable, Equatable {
    public var user: String
    public var password: String
    /// The `stats auth` line (several lines may each add a user); nil for a credential not read from a file.
    public var location: SourceLocation?

    public init(user: String, password: String, location: SourceLocation? = nil) {
        self.user = user
        self.password = password
        self.location = location
    }
}

/// The two `stats admin if` conditions Portico understands.
public enum StatsAdminCondition: String, Sendable, Equatable {
    /// `stats admin if TRUE`: every (authenticated) client may act.
    case always = "TRUE"
    /// `stats admin if LOCALHOST`: only clients connecting from a loopback address.
    case localhost = "LOCALHOST"
}
