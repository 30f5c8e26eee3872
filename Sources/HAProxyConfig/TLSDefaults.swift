/// The `global` section's TLS defaults (`ca-base`, `crt-base`, `ssl-default-bind-*`, `ssl-default-server-*`,
/// `ssl-dh-param-file`, `tune.ssl.default-dh-param`). They only configure `ssl` bind and server lines, which
/// Portico refuses (no TLS yet), so today nothing uses them: they are parsed, checked as `haproxy -c` checks
/// them and kept here, so that Debian's stock haproxy.cfg loads and a TLS implementation finds them.
public struct GlobalTLS: Sendable, Equatable {
    /// `ca-base DIR`: where relative `ca-file` / `crl-file` paths are looked up.
    public var caBase: String?
    /// `crt-base DIR`: where relative `crt` / `crt-list` paths are looked up.
    public var crtBase: String?
    /// `ssl-default-bind-ciphers`, `-ciphersuites`, `-options`: defaults for `bind ... ssl` lines.
    public var bind: TLSDefaults
    /// `ssl-default-server-ciphers`, `-ciphersuites`, `-options`: defaults for `server ... ssl` lines.
    public var server: TLSDefaults
    /// `ssl-dh-param-file FILE`: Diffie-Hellman parameters for DHE ciphers (not read: see the README).
    public var dhParamFile: String?
    /// `tune.ssl.default-dh-param BITS`: size of the DHE parameters generated when no file gives them.
    public var defaultDHParamBits: Int?

    public init(
        caBase: String? = nil, crtBase: String? = nil, bind: TLSDefaults = TLSDefaults(),
        server: TLSDefaults = TLSDefaults(), dhParamFile: String? = nil, defaultDHParamBits: Int? = nil
    ) {
        self.caBase = caBase
        self.crtBase = crtBase
        self.bind = bind
        self.server = server
        self.dhParamFile = dhParamFile
        self.defaultDHParamBits = defaultDHParamBits
    }
}

/// One side's defaults: `ssl-default-bind-*` (listeners) or `ssl-default-server-*` (connections to servers).
public struct TLSDefaults: Sendable, Equatable {
    /// `...-ciphers LIST`: the OpenSSL cipher list for TLS 1.2 and older, as written.
    public var ciphers: String?
    /// `...-ciphersuites LIST`: the TLS 1.3 cipher suites, as written.
    public var cipherSuites: String?
    /// `...-options OPTS...`: every line adds to the same set, as in HAProxy.
    public var options: TLSOptions

    public init(ciphers: String? = nil, cipherSuites: String? = nil, options: TLSOptions = TLSOptions()) {
        self.ciphers = ciphers
        self.cipherSuites = cipherSuites
        self.options = options
    }
}

/// The words of `ssl-default-bind-options` / `ssl-default-server-options`.
public struct TLSOptions: Sendable, Equatable {
    /// `ssl-min-ver V` / `ssl-max-ver V`; the last one written wins.
    public var minVersion: TLSVersion?
    public var maxVersion: TLSVersion?
    /// `no-sslv3`, `no-tlsv10`, ... `no-tlsv13`.
    public var disabledVersions: Set<TLSVersion>
    /// `force-sslv3`, ... `force-tlsv13` (deprecated in HAProxy in favour of `ssl-min-ver`/`ssl-max-ver`).
    public var forcedVersions: Set<TLSVersion>
    /// `no-tls-tickets`: no RFC 5077 session tickets.
    public var noTLSTickets: Bool
    /// `prefer-client-ciphers` (bind side only): the client's cipher order wins over the server's.
    public var preferClientCiphers: Bool

    public init(
        minVersion: TLSVersion? = nil, maxVersion: TLSVersion? = nil, disabledVersions: Set<TLSVersion> = [],
        forcedVersions: Set<TLSVersion> = [], noTLSTickets: Bool = false, preferClientCiphers: Bool = false
    ) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.disabledVersions = disabledVersions
        self.forcedVersions = forcedVersions
        self.noTLSTickets = noTLSTickets
        self.preferClientCiphers = preferClientCiphers
    }
}

/// Protocol versions as `ssl-min-ver` / `ssl-max-ver` spell them (case-sensitive, as in HAProxy).
public enum TLSVersion: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    case sslv3 = "SSLv3"
    case tlsv10 = "TLSv1.0"
    case tlsv11 = "TLSv1.1"
    case tlsv12 = "TLSv1.2"
    case tlsv13 = "TLSv1.3"

    /// The suffix of the `no-...` / `force-...` option words: `sslv3`, `tlsv10`, ...
    public var optionSuffix: String {
        switch self {
        case .sslv3: return "sslv3"
        case .tlsv10: return "tlsv10"
        case .tlsv11: return "tlsv11"
        case .tlsv12: return "tlsv12"
        case .tlsv13: return "tlsv13"
        }
    }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool {
        let order = TLSVersion.allCases
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}
