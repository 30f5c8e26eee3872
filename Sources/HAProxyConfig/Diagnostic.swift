/// Where a configuration line came from: the file name as given on the command line and a 1-based line number.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `haproxy.cfg:12`, as HAProxy prints it inside `parsing [...]`.
    public var description: String { "\(file):\(line)" }
}

/// One message about the configuration, printed the way HAProxy prints it so operators recognise it:
/// `[ALERT] parsing [haproxy.cfg:12] : unknown keyword 'balanse' in 'backend' section; did you mean 'balance'?`
/// or, for messages without a line, `[WARNING] config : ...`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        /// A fatal error: the configuration is refused (`haproxy -c` exits 1).
        case alert = "ALERT"
        /// Suspicious but usable: the configuration still loads.
        case warning = "WARNING"
    }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    public static func alert(_ message: String, at location: SourceLocation? = nil) -> Diagnostic {
        Diagnostic(.alert, message, at: location)
    }

    public static func warning(_ message: String, at location: SourceLocation? = nil) -> Diagnostic {
        Diagnostic(.warning, message, at: location)
    }

    public var isAlert: Bool { severity == .alert }

    public var description: String {
        if let location {
            return "[\(severity.rawValue)] parsing [\(location)] : \(message)"
        }
        return "[\(severity.rawValue)] config : \(message)"
    }
}
