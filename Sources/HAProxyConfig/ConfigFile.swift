/// One configuration file's text and the name diagnostics use for it (as given with `-f`).
/// Several files are parsed in order as one configuration, as `haproxy -f a -f b` does: a `defaults` section in
/// the first file applies to proxies in the second.
public struct ConfigFile: Sendable, Equatable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}
