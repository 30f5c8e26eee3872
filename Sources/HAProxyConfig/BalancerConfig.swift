/// A whole haproxy.cfg (one or several files, in order) as Portico runs it.
///
/// Entry points: ``parse(_:environment:)`` (pure, from text), ``load(paths:environment:)`` (reads `-f` paths),
/// both returning a ``ConfigParseResult`` with every diagnostic; ``effectiveGlobalMaxConn(fileDescriptorLimit:)``
/// sizes `maxconn` under the descriptor limit.
///
/// Every proxy carries its *effective* values: the `defaults` section that preceded it (or the one named with
/// `from`) has already been applied, and HAProxy's built-in defaults fill what neither set. The balancer never has
/// to look at `defaults` sections itself.
///
/// A `listen NAME` section yields both a ``Frontend`` and a ``Backend`` named NAME (with `origin == .listen`);
/// the frontend's default backend is the listen's own backend unless the section says otherwise.
public struct BalancerConfig: Sendable, Equatable {
    public var global: GlobalSettings
    /// In declaration order.
    public var frontends: [Frontend]
    /// In declaration order.
    public var backends: [Backend]

    public init(global: GlobalSettings = GlobalSettings(), frontends: [Frontend] = [], backends: [Backend] = []) {
        self.global = global
        self.frontends = frontends
        self.backends = backends
    }

    public func frontend(named name: String) -> Frontend? { frontends.first { $0.name == name } }
    public func backend(named name: String) -> Backend? { backends.first { $0.name == name } }
}

/// Which kind of section declared a proxy.
public enum ProxyOrigin: String, Sendable, Equatable {
    case frontend, backend, listen
}

/// `mode http|tcp`. Only HTTP is implemented; `mode tcp` is parsed (so the model is complete) but reported as
/// "not supported yet".
public enum ProxyMode: String, Sendable, Equatable {
    case http, tcp
}

/// How connections to clients and servers are kept open after a response:
/// `option http-keep-alive` (HAProxy's default), `option http-server-close`, `option httpclose`.
public enum HTTPConnectionMode: String, Sendable, Equatable {
    case keepAlive = "http-keep-alive"
    case serverClose = "http-server-close"
    case close = "httpclose"
}

/// `option forwardfor [except NETWORK] [header NAME] [if-none]`: append the client address to a header.
public struct ForwardFor: Sendable, Equatable {
    /// Header to append to; HAProxy's default is `X-Forwarded-For`.
    public var header: String
    /// Clients in this network get no header (e.g. a local proxy already added it).
    public var except: IPNetwork?
    /// Only add the header when the request has none.
    public var ifNone: Bool

    public init(header: String = "X-Forwarded-For", except: IPNetwork? = nil, ifNone: Bool = false) {
        self.header = header
        self.except = except
        self.ifNone = ifNone
    }
}

/// `option redispatch [INTERVAL]` / `no option redispatch`. HAProxy's meaning of INTERVAL: a positive P redispatches to
/// another server on every Pth retry; a negative N on the Nth retry before the last one (the default, -1, redispatches
/// on the last retry); 0 disables.
///
/// `unset` and `off` behave the same in HAProxy (no redispatch), but not in Portico's balancer: without any line it
/// applies its zero-loss retry default, while `no option redispatch` asks for HAProxy's plain behaviour.
public enum Redispatch: Sendable, Equatable {
    /// Neither `option redispatch` nor `no option redispatch` was written (here or in the defaults inherited).
    case unset
    /// `option redispatch [INTERVAL]`; HAProxy's default interval is -1.
    case on(interval: Int)
    /// `no option redispatch`.
    case off

    /// Whether the configuration asks for redispatching (`option redispatch` with a non-zero interval).
    public var isEnabled: Bool {
        if case .on(let interval) = self { return interval != 0 }
        return false
    }
}

/// Logging behaviour of a proxy after `log global` / `log ...` lines and the logging options are resolved.
public struct ProxyLogging: Sendable, Equatable {
    /// Where this proxy's traffic logs go; `log global` has been expanded to the global section's targets.
    /// Empty: the proxy does not log.
    public var targets: [LogTarget]
    /// `option httplog`: HAProxy's HTTP log format instead of the default (TCP-like) one.
    public var httpLog: Bool
    /// `option dontlognull`: connections that carried no data are not logged.
    public var dontLogNull: Bool

    public init(targets: [LogTarget] = [], httpLog: Bool = false, dontLogNull: Bool = false) {
        self.targets = targets
        self.httpLog = httpLog
        self.dontLogNull = dontLogNull
    }
}
