@testable import HAProxyConfig

/// Timeouts that keep HAProxy's "missing timeouts" warning out of tests about something else.
let quietDefaults = """
    defaults
        mode http
        timeout connect 5s
        timeout client 30s
        timeout server 30s

    """

/// Parses `text` (prefixed with `quietDefaults` when asked) as `t.cfg`.
func parse(_ text: String, quiet: Bool = true) -> ConfigParseResult {
    BalancerConfig.parse((quiet ? quietDefaults : "") + text, fileName: "t.cfg")
}

/// The printed diagnostic lines of `text`.
func report(_ text: String, quiet: Bool = true) -> [String] {
    parse(text, quiet: quiet).diagnostics.map(\.description)
}

/// Line N of `text` is line N + quietOffset of the parsed file (`quietDefaults` has 5 lines).
let quietOffset = 5
