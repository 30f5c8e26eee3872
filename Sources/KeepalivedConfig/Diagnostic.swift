/// One finding about a keepalived.conf: an error makes the configuration unusable (`portico vrrp -t` exits 1),
/// a warning is a trap Keepalived users fall into but the configuration still runs.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    /// Nil only for findings about the whole configuration (e.g. no vrrp_instance at all).
    public var location: ConfigLocation?
    public var message: String

    public init(_ severity: Severity, _ location: ConfigLocation?, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public static func error(_ location: ConfigLocation?, _ message: String) -> Diagnostic {
        Diagnostic(.error, location, message)
    }

    public static func warning(_ location: ConfigLocation?, _ message: String) -> Diagnostic {
        Diagnostic(.warning, location, message)
    }

    /// Keepalived's own shape, `(FILE: Line N) message`, as printed by `keepalived --config-test`
    /// (e.g. `(/etc/keepalived/keepalived.conf: Line 8) Unknown keyword 'priorty'`).
    public var description: String {
        guard let location else { return message }
        return "(\(location.file): Line \(location.line)) \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var errors: [Diagnostic] { filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { filter { $0.severity == .warning } }
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
