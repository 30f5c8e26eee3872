/// Where a configuration item was written: the file (as the operator named it, or as resolved from an
/// `include`) and its 1-based line. Every model item carries one so that `portico check` can point at
/// the exact line when two nodes disagree.
public struct ConfigLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `file:line`, the shape editors and `portico check` tables use.
    public var description: String { "\(file):\(line)" }
}
