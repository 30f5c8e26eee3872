/// What parsing one or more haproxy.cfg files produced: the typed configuration and every diagnostic of every file.
///
/// The configuration is always returned (partially filled when there are alerts) so that tools such as
/// `portico check` can still inspect what did parse; the balancer must refuse to start when `hasAlerts` is true.
public struct ConfigParseResult: Sendable {
    public var config: BalancerConfig
    /// Sorted by file (in parse order) and line; messages without a line come last.
    public var diagnostics: [Diagnostic]

    public init(config: BalancerConfig, diagnostics: [Diagnostic]) {
        self.config = config
        self.diagnostics = diagnostics
    }

    public var alerts: [Diagnostic] { diagnostics.filter { $0.severity == .alert } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var hasAlerts: Bool { diagnostics.contains { $0.severity == .alert } }

    /// HAProxy's closing line when the configuration is refused, printed by `-c` and at startup:
    /// `[ALERT] config : Fatal errors found in configuration.`; nil when there is no alert.
    public var summaryLine: String? {
        hasAlerts ? Diagnostic.alert(ConfigParseResult.fatalErrorsMessage).description : nil
    }

    /// Every diagnostic line followed by the summary line, ready to print on stderr.
    public var report: [String] {
        diagnostics.map(\.description) + (summaryLine.map { [$0] } ?? [])
    }

    public static let fatalErrorsMessage = "Fatal errors found in configuration."
}
