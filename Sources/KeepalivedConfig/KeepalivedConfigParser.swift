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

/// keepalived.conf → `VRRPConfig`, with every diagnostic of the run.
///
/// Syntax as in keepalived.conf(5): `keyword args` lines, `name { ... }` blocks (a `{` may also start the
/// next line, and one-line blocks such as `track_script { chk }` work), `#` and `!` comments anywhere outside
/// quotes, `"quoted strings"`, and `include GLOB` at any depth, relative to the including file.
///
/// Where Portico departs from what Keepalived 2.2.7 does, on purpose:
/// - a real Keepalived keyword Portico does not implement is an error ("Keyword 'X' is not supported yet"),
///   never silently ignored; `vrrp_strict` and `vrrp_sync_group` are among them;
/// - values Keepalived replaces by a default with a message ("Using default 100") are errors here, with
///   Keepalived's wording minus the fallback: a node silently running priority 100 is how failovers go wrong;
/// - a `track_script`/`track_process` naming an undefined tracker is an error (Keepalived drops the tracker);
/// - `interface`, `virtual_router_id` and at least one VIP are required; IPv6 VIPs are not supported yet.
/// Where Keepalived repairs and runs, so does Portico, with a warning in Keepalived's words: `nopreempt` with
/// `state MASTER` or priority 255 is cleared, a fractional VRRPv2 `advert_int` is rounded to whole seconds,
/// a VRRPv3 one to centiseconds, `authentication` with VRRPv3 is ignored, `auth_pass` is truncated to 8.
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
