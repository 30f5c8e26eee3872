/// The line that set a proxy keyword's value, and whether that line sits in a `defaults` section the proxy
/// inherited it from. Values in ``Frontend`` and ``Backend`` are effective values (HAProxy's default when nothing
/// was written); this says where a written value came from, so a message about it can point at that line.
public struct KeywordLocation: Hashable, Sendable, CustomStringConvertible {
    /// The line that set the value (the last one, when the keyword is repeated: it is the one that counts).
    public var line: SourceLocation
    /// The header of the `defaults` section the line belongs to; nil when it is in the proxy's own section.
    public var defaultsSection: SourceLocation?

    public init(line: SourceLocation, defaultsSection: SourceLocation? = nil) {
        self.line = line
        self.defaultsSection = defaultsSection
    }

    /// The value was inherited from a `defaults` section rather than written in the proxy's own section.
    public var isInherited: Bool { defaultsSection != nil }

    public var description: String {
        line.description + (defaultsSection.map { " (in defaults at \($0))" } ?? "")
    }
}

/// A proxy that knows which line set each of its keywords.
///
/// Keys are the keyword as HAProxy's manual names it, without arguments: `balance`, `mode`, `maxconn`, `retries`,
/// `timeout client`, `option httpchk`, `http-check expect`, `option forwardfor`, `option redispatch`, `stats auth`.
/// `no option X` is recorded under `option X` (it sets the same value). Lines refused with an alert are not
/// recorded. Keywords that may be repeated and keep every occurrence (`server`, `bind`, `use_backend`, `log`,
/// `stats auth`) also carry a location on each item; the map holds their last line.
public protocol ProxyKeywordLocated {
    /// The line of the section header.
    var location: SourceLocation { get }
    /// The lines that set this proxy's keywords, its own and those inherited from `defaults`, by keyword.
    var keywordLocations: [String: KeywordLocation] { get }
}

extension ProxyKeywordLocated {
    /// The line that set `keyword` (possibly in a `defaults` section), or the section header when the keyword was
    /// not written and the value is HAProxy's default.
    public func location(of keyword: String) -> SourceLocation { keywordLocations[keyword]?.line ?? location }

    /// Whether `keyword` was written, in this section or in the `defaults` section it inherits from.
    public func isSet(_ keyword: String) -> Bool { keywordLocations[keyword] != nil }
}
