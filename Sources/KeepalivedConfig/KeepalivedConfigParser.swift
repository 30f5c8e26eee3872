/// The result of parsing: the model (best effort when there are errors, so `portico check` can still compare)
/// and every diagnostic found in one run, in file order.
public struct ParseResult: Sendable {
    public var config: VRRPConfig
    public var diagnostics: [Diagnostic]

    public init(config: VRRPConfig, diagnostics: [Diagnostic]) {
        self.config = config
        self.diagnostics = diagnostics
    }

    /// The config when there is no error (warnings allowed), or the errors.
    public func get() throws -> VRRPConfig {
        if diagnostics.hasErrors { throw ConfigError(diagnostics: diagnostics) }
        return config
    }
}

/// Thrown by `ParseResult.get()` and `KeepalivedConfigParser.load`: the configuration has errors.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// All diagnostics (errors and warnings) of the run.
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// keepalived.conf → `VRRPConfig`.
public enum KeepalivedConfigParser {
    /// Parses the file at `file`, following `include`s through `source`.
    public static func parse(file: String, source: ConfigSource) -> ParseResult {
        var parser = ConfigParser(source: source, mainFile: file)
        return parser.run(text: nil)
    }

    /// Parses `text` as if it were the file `file` (includes are read through `source`).
    public static func parse(
        text: String, file: String = "keepalived.conf",
        source: ConfigSource = .inMemory([:])
    ) -> ParseResult {
        var parser = ConfigParser(source: source, mainFile: file)
        return parser.run(text: text)
    }
}
