/// `http-request` and `http-response` rules: what a proxy does to each request before routing it and to each
/// response before sending it back, in file order, each with an optional `if` / `unless` condition.
///
/// Header values are HAProxy log-format strings (``LogFormat``), rendered for each request; redirect targets are
/// literal (`%%` is a literal `%`), the exact text to send.

/// Where a `redirect` sends the client.
public enum RedirectTarget: Sendable, Equatable {
    /// `location <loc>`: exactly this URL.
    case location(String)
    /// `prefix <pfx>`: this prefix followed by the request's path (and query unless `drop-query`). HAProxy treats
    /// a prefix of `/` as "no prefix": the redirect is the path alone.
    case prefix(String)
    /// `scheme <sch>`: `<sch>://<host header><path>` (and query unless `drop-query`).
    case scheme(String)
}

/// `http-request redirect ...`.
public struct Redirect: Sendable, Equatable {
    public var target: RedirectTarget
    /// 301, 302 (default), 303, 307 or 308.
    public var code: Int
    /// `drop-query`: the request's query string is not appended (prefix and scheme redirects append it otherwise).
    public var dropQuery: Bool
    /// `append-slash`: a `/` is added after the appended path when it does not end with one. HAProxy 2.6 appends
    /// the path only for prefix and scheme redirects, so the flag changes nothing on a location redirect.
    public var appendSlash: Bool

    public init(target: RedirectTarget, code: Int = 302, dropQuery: Bool = false, appendSlash: Bool = false) {
        self.target = target
        self.code = code
        self.dropQuery = dropQuery
        self.appendSlash = appendSlash
    }
}

public enum HTTPRequestAction: Sendable, Equatable {
    /// Stops evaluating the following `http-request` rules of this section; the request goes on.
    case allow
    /// Answers with this status (one of HAProxy's built-in error pages, or the section's `errorfile`); the
    /// connection stays open for the next request, as in HAProxy.
    case deny(status: Int)
    /// Removes every header of that name, then adds one with this value.
    case setHeader(name: String, value: LogFormat)
    /// Adds a header, keeping existing ones of that name.
    case addHeader(name: String, value: LogFormat)
    /// Removes every header of that name.
    case deleteHeader(name: String)
    case redirect(Redirect)

    /// Whether the rule, when it applies, ends the evaluation of the section's `http-request` rules.
    public var isFinal: Bool {
        switch self {
        case .allow, .deny, .redirect: return true
        case .setHeader, .addHeader, .deleteHeader: return false
        }
    }
}

public enum HTTPResponseAction: Sendable, Equatable {
    case setHeader(name: String, value: LogFormat)
    case addHeader(name: String, value: LogFormat)
    case deleteHeader(name: String)
}

/// One `http-request ACTION [if|unless CONDITION]` line. Header names are kept as written; they compare
/// case-insensitively.
public struct HTTPRequestRule: Sendable, Equatable {
    public var action: HTTPRequestAction
    /// nil: the rule always applies.
    public var condition: Condition?
    public var location: SourceLocation

    public init(action: HTTPRequestAction, condition: Condition? = nil, location: SourceLocation) {
        self.action = action
        self.condition = condition
        self.location = location
    }
}

/// One `http-response ACTION [if|unless CONDITION]` line. Its condition only uses connection-level fetches
/// (``Condition/isConnectionLevel``): Portico refuses response conditions on request or response contents.
public struct HTTPResponseRule: Sendable, Equatable {
    public var action: HTTPResponseAction
    /// nil: the rule always applies.
    public var condition: Condition?
    public var location: SourceLocation

    public init(action: HTTPResponseAction, condition: Condition? = nil, location: SourceLocation) {
        self.action = action
        self.condition = condition
        self.location = location
    }
}

/// A header change, as `set-header`, `add-header` and `del-header` make it, in requests and responses alike.
public enum HeaderEdit: Sendable, Equatable {
    /// Removes every field of that name, then adds one with this value.
    case set(name: String, value: LogFormat)
    /// Adds a field, keeping existing ones of that name.
    case add(name: String, value: LogFormat)
    /// Removes every field of that name.
    case delete(name: String)
}

extension HTTPRequestAction {
    init(_ edit: HeaderEdit) {
        switch edit {
        case .set(let name, let value): self = .setHeader(name: name, value: value)
        case .add(let name, let value): self = .addHeader(name: name, value: value)
        case .delete(let name): self = .deleteHeader(name: name)
        }
    }

    /// The header change this rule makes; nil for the actions that are not header changes.
    public var headerEdit: HeaderEdit? {
        switch self {
        case .setHeader(let name, let value): return .set(name: name, value: value)
        case .addHeader(let name, let value): return .add(name: name, value: value)
        case .deleteHeader(let name): return .delete(name: name)
        case .allow, .deny, .redirect: return nil
        }
    }
}

extension HTTPResponseAction {
    init(_ edit: HeaderEdit) {
        switch edit {
        case .set(let name, let value): self = .setHeader(name: name, value: value)
        case .add(let name, let value): self = .addHeader(name: name, value: value)
        case .delete(let name): self = .deleteHeader(name: name)
        }
    }

    /// The header change this rule makes.
    public var headerEdit: HeaderEdit {
        switch self {
        case .setHeader(let name, let value): return .set(name: name, value: value)
        case .addHeader(let name, let value): return .add(name: name, value: value)
        case .deleteHeader(let name): return .delete(name: name)
        }
    }
}
